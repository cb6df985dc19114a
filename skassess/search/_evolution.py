"""Regularized evolution on a tabular benchmark.

Real et al., "Regularized Evolution for Image Classifier Architecture Search",
AAAI 2019.
"""

from __future__ import annotations

import warnings
from collections import deque
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from skassess.search._base import BaseSearch, _Oracle

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(BaseSearch):
    """Tournament selection, mutation and ageing over a population of architectures.

    The population starts as ``population_size`` random architectures. Each
    cycle draws ``sample_size`` members at random, mutates the best of them
    (the parent) with ``benchmark.space.mutate``, trains the child, adds it to
    the population and removes the *oldest* member (ageing, the "regularized"
    in the name), until the budget is spent.

    Parameters
    ----------
    population_size : int, default=100
        Number of architectures alive at once.
    sample_size : int, default=25
        Tournament size: members drawn to pick each parent.
    max_mutation_tries : int, default=100
        A mutation can leave the benchmark (a cell the table does not hold, or
        whose metric is unknown); it is then retried from the same parent, up to
        this many times, after which the child is a random untrained
        architecture (a warning says so).
    random_state : int, RandomState instance or None, default=None
        Controls the initial population, the tournaments and the mutations.

    Notes
    -----
    Only new trainings count against the budget: a child that was trained
    before (mutation found it again) is looked up for free and still enters
    the population, the convention of NAS-Bench-101 (Ying et al., 2019).
    So that a converged population cannot cycle forever without training,
    after ``10 * population_size`` consecutive free look-ups the child is
    replaced by a random untrained architecture.

    Examples
    --------
    >>> from skassess.search import RegularizedEvolution
    >>> RegularizedEvolution(population_size=50, sample_size=10, random_state=0)
    RegularizedEvolution(population_size=50, random_state=0, sample_size=10)
    """

    _parameter_constraints: ClassVar[dict] = {
        "population_size": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left")],
        "max_mutation_tries": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        population_size=100,
        sample_size=25,
        *,
        max_mutation_tries=100,
        random_state=None,
    ):
        self.population_size = population_size
        self.sample_size = sample_size
        self.max_mutation_tries = max_mutation_tries
        self.random_state = random_state

    def _check_params(self) -> None:
        self._validate_params()
        if self.sample_size > self.population_size:
            raise ValueError(
                f"sample_size ({self.sample_size}) cannot exceed population_size "
                f"({self.population_size})"
            )

    def _search(self, oracle: _Oracle) -> None:
        rng = check_random_state(self.random_state)
        first = rng.permutation(oracle.unqueried())[: min(self.population_size, oracle.remaining)]
        population = deque((int(index), oracle.query(index)) for index in first)
        max_free = 10 * self.population_size
        n_free = 0
        while not oracle.done:
            contestants = rng.choice(
                len(population), size=min(self.sample_size, len(population)), replace=False
            )
            parent = max(contestants, key=lambda k: population[k][1])
            child = self._mutate(oracle, population[parent][0], rng)
            if oracle.queried[child]:
                n_free += 1
                if n_free > max_free:
                    child = int(rng.choice(oracle.unqueried()))
            if not oracle.queried[child]:
                n_free = 0
            population.append((child, oracle.query(child)))
            population.popleft()

    def _mutate(self, oracle: _Oracle, parent: int, rng: np.random.RandomState) -> int:
        """Benchmark row of a mutation of row ``parent``."""
        space = oracle.benchmark.space
        for _ in range(self.max_mutation_tries):
            child = oracle.index_of(space.mutate(oracle.cells[parent], random_state=rng))
            if child is not None:
                return child
        warnings.warn(
            f"{self.max_mutation_tries} mutations of an architecture all left the "
            "benchmark; training a random architecture instead",
            RuntimeWarning,
            stacklevel=4,
        )
        return int(rng.choice(oracle.unqueried()))
