"""Compare random search, regularized evolution and a forest-guided search on NAS-Bench-Graph.

No download needed: NAS-Bench-Graph ships with the nas-bench-graph package.
Run: python docs/examples/search_nasbench_graph.py
"""

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

from skassess.datasets import load_nasbench_graph
from skassess.encoders import AdjacencyOpsEncoder
from skassess.plotting import plot_best_so_far, save_figure
from skassess.search import PredictorGuidedSearch, RandomSearch, RegularizedEvolution

bench = load_nasbench_graph("cora")
budget = 60
forest = make_pipeline(AdjacencyOpsEncoder(), RandomForestRegressor(n_estimators=50))
strategies = {
    "random": lambda seed: RandomSearch(random_state=seed),
    "evolution": lambda seed: RegularizedEvolution(20, 5, random_state=seed),
    "guided (forest)": lambda seed: PredictorGuidedSearch(
        forest, initial_size=20, batch_size=20, pool_size=2000, random_state=seed
    ),
}

curves = {}
for name, make in strategies.items():
    results = [make(seed).run(bench, budget) for seed in range(3)]
    curves[name] = [result.best_so_far() for result in results]
    ranks = [result.rank_so_far(bench.y)[-1] for result in results]
    print(f"{name:<16} median rank of the best found after {budget}: {np.median(ranks):.0f}")

path = save_figure(plot_best_so_far(curves, title="NAS-Bench-Graph, Cora"), "search_curves.png")
print(f"wrote {path}")
