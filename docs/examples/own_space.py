"""Your own search space, end to end: define it, list it, fit a predictor, choose what to train.

A made-up space of the NAS-Bench-201 kind: a cell of 4 nodes, where each of the 6
edges ``j <- i`` (i < j) carries one operation of ours, ``"none"`` meaning no edge.
skassess puts operations on vertices, so each edge becomes a vertex (the line graph,
as :class:`skassess.spaces.NASBench201` does); pruning then drops what computes
nothing, and the space's canonical hash finds the edge assignments that are the same
network. A made-up scoring function stands in for training.
Run: python docs/examples/own_space.py
"""

import itertools

import numpy as np

from skassess import ArchitectureEmbedder, Cell, SemiSupervisedAssessor
from skassess.metrics import kendall_tau
from skassess.search import PredictorGuidedSearch
from skassess.spaces import CellSpace

# 1. The space. Our operations, and the limits of a pruned cell: the input, one vertex
#    per edge, the output.
OPS = ["conv3x3", "conv1x1", "avgpool"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]  # (to, from), node 0 the input
space = CellSpace(ops=OPS, max_vertices=len(EDGES) + 2)


def cell_from_edge_ops(edge_ops):
    """The vertex cell of one op per edge: vertex k + 1 stands for edge k.

    The vertex of edge ``j <- i`` reads node ``i`` (the input, or the vertices of the
    edges into ``i``); the output reads the vertices of the edges into node 3. A
    ``"none"`` edge becomes a vertex with no wires, which pruning drops.
    """
    n = len(EDGES) + 2
    matrix = np.zeros((n, n), dtype=int)
    for k, (_, source) in enumerate(EDGES, start=1):
        if edge_ops[k - 1] == "none":
            continue
        if source == 0:
            matrix[0, k] = 1
        for f, (target, _) in enumerate(EDGES, start=1):
            if target == source and edge_ops[f - 1] != "none":
                matrix[f, k] = 1
        if EDGES[k - 1][0] == 3:
            matrix[k, n - 1] = 1
    ops = ["input", *(op if op != "none" else OPS[0] for op in edge_ops), "output"]
    return Cell(matrix, ops)


# 2. Every assignment of an op (or none) to each edge: 4^6 = 4,096 of them.
#    Pruning and the canonical hash keep one cell per distinct network; assignments
#    whose every input -> output path has a "none" compute nothing and are left out.
assignments = list(itertools.product(["none", *OPS], repeat=len(EDGES)))
cells = [cell_from_edge_ops(edge_ops) for edge_ops in assignments]
cells = [space.prune(cell) for cell in cells if space.is_valid(cell)]
hashes = space.hash_many(cells)
_, first = np.unique(hashes, return_index=True)
candidates = [cells[i] for i in np.sort(first)]
print(f"{len(assignments)} edge assignments: {len(cells)} compute something, and they are")
print(f"{len(candidates)} distinct networks after pruning and de-duplication")


def train(cell):
    """Stand-in for training ``cell`` and measuring its validation accuracy."""
    worth = {"conv3x3": 0.030, "conv1x1": 0.015, "avgpool": -0.005}
    return 0.80 + sum(worth[op] for op in cell.ops[1:-1]) + 0.004 * cell.n_edges


# 3. Fit the assessor: 60 trained networks (labeled) and every other one (NaN).
#    Small settings keep this example to seconds; the defaults train longer.
assessor = SemiSupervisedAssessor(
    ArchitectureEmbedder(space=space, max_iter=2),  # auto-encoder epochs (default 20)
    max_iter=10,  # end-to-end epochs (default 50)
    n_ensemble=1,  # networks averaged (default 3)
    random_state=0,
)
rng = np.random.default_rng(0)
trained = rng.choice(len(candidates), size=60, replace=False)
y = np.full(len(candidates), np.nan)
y[trained] = [train(candidates[i]) for i in trained]
assessor.fit(candidates, y)
truth = np.array([train(cell) for cell in candidates])
untrained = np.setdiff1d(np.arange(len(candidates)), trained)
tau = kendall_tau(truth[untrained], assessor.transduction_[untrained])
print(f"Kendall tau on the {len(untrained)} untrained networks: {tau:.2f}")

# 4. Choose what to train next, and learn from each result: ask, train, tell.
search = PredictorGuidedSearch(
    assessor,
    space=space,
    candidates=candidates,  # only networks of our space, never a mutant outside it
    initial_size=20,  # random networks first
    batch_size=10,  # then 10 per fit of the predictor
    pool_size=None,  # rank every untried candidate
    n_mutations=0,
    random_state=0,
)
for round_ in range(3):
    batch = search.ask()
    search.tell(batch, [train(cell) for cell in batch])
    print(f"round {round_}: {len(search.scores_)} trained, best {search.best_score_:.3f}")

rank = 1 + np.sum(truth > search.best_score_)
print(f"best found: rank {rank} of {len(candidates)} after {len(search.scores_)} trainings")
