"""Budgeted architecture search on tabular benchmarks.

A *query* trains one architecture, which on a tabular benchmark means looking
up its true performance; a search gets a budget of such trainings and records
every one (:class:`SearchResult`). Three strategies share one interface,
``run(benchmark, budget) -> SearchResult``:

- :class:`RandomSearch`: uniform random sampling, the baseline.
- :class:`RegularizedEvolution`: tournament selection, mutation and ageing
  (Real et al., 2019).
- :class:`PredictorGuidedSearch`: train what a performance predictor (by
  default the semi-supervised assessor) ranks highest, refitting as labels arrive.
  It also searches your own space, without a benchmark: it proposes
  architectures (``ask``) and learns from their scores (``tell``).

:func:`sample_distinct` draws uniformly over the distinct architectures of a
list or a benchmark.
"""

from skassess.search._base import BaseSearch
from skassess.search._candidates import sample_distinct
from skassess.search._evolution import RegularizedEvolution
from skassess.search._guided import PredictorGuidedSearch
from skassess.search._random import RandomSearch
from skassess.search._result import Query, SearchResult

__all__ = [
    "BaseSearch",
    "PredictorGuidedSearch",
    "Query",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchResult",
    "sample_distinct",
]
