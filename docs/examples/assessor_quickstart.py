"""Rank unlabeled architectures with the semi-supervised assessor, beside a random forest.

A 3,000-architecture sample of NAS-Bench-Graph (Cora, shipped with the nas-bench-graph
package); 100 of them are labeled. Run: python docs/examples/assessor_quickstart.py
"""

import numpy as np

from skassess import SemiSupervisedAssessor
from skassess.baselines import make_random_forest_predictor
from skassess.datasets import load_nasbench_graph
from skassess.metrics import kendall_tau

bench = load_nasbench_graph("cora").sample(3000, random_state=0)
rng = np.random.RandomState(0)
labeled = rng.choice(len(bench), 100, replace=False)
unlabeled = np.setdiff1d(np.arange(len(bench)), labeled)

y = np.full(len(bench), np.nan)  # NaN marks the architectures nobody trained
y[labeled] = bench.y[labeled]

assessor = SemiSupervisedAssessor(n_ensemble=1, max_iter=30, random_state=0)
assessor.fit(bench.cells, y)  # labeled and unlabeled architectures together
tau = kendall_tau(bench.y[unlabeled], assessor.transduction_[unlabeled])

forest = make_random_forest_predictor(random_state=0).fit(bench.cells, y)  # ignores NaN rows
forest_tau = kendall_tau(bench.y[unlabeled], forest.predict([bench.cells[i] for i in unlabeled]))

print(f"Kendall tau on {unlabeled.size} unlabeled architectures:")
print(f"  semi-supervised assessor {tau:.3f}")
print(f"  random forest            {forest_tau:.3f}")
