"""Search your own space: the search proposes, you train, it learns; stop and resume any time.

A made-up scoring function stands in for training (hours per architecture in real
life). The search state is saved after every batch, as a long search should, and
reloaded half-way as after a crash.
Run: python docs/examples/search_ask_tell.py
"""

import tempfile
from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

from skassess.encoders import AdjacencyOpsEncoder
from skassess.search import PredictorGuidedSearch
from skassess.spaces import CellSpace

space = CellSpace(ops=["conv3x3", "conv1x1", "maxpool", "sep5x5"], max_vertices=6, max_edges=8)


def train(cell):
    """Stand-in for training ``cell`` and measuring its validation accuracy."""
    cell = space.prune(cell)
    worth = {"conv3x3": 0.030, "conv1x1": 0.012, "maxpool": -0.010, "sep5x5": 0.024}
    return 0.70 + sum(worth[op] for op in cell.ops[1:-1]) + 0.008 * cell.n_edges


search = PredictorGuidedSearch(
    make_pipeline(AdjacencyOpsEncoder(space=space), RandomForestRegressor(n_estimators=50)),
    space=space,
    initial_size=20,  # random architectures first
    batch_size=10,  # then 10 per fit of the predictor
    pool_size=1000,  # random candidates ranked per fit (mutations of the best are added)
    random_state=0,
)
state = Path(tempfile.mkdtemp()) / "search.joblib"
for round_ in range(8):
    if round_ == 4:  # the machine "crashed": start again from the last save
        search = joblib.load(state)
    cells = search.ask()  # 20 cells the first time, then 10
    scores = [train(cell) for cell in cells]  # NaN for a training that failed
    search.tell(cells, scores)
    joblib.dump(search, state)  # after every tell: nothing told is ever lost
    print(f"round {round_}: {len(search.scores_)} trained, best {search.best_score_:.3f}")

print(f"best architecture: {search.best_cell_.ops} with {search.best_cell_.n_edges} edges")
