"""Random search: the baseline every NAS method must beat (Li & Talwalkar, 2019)."""

from __future__ import annotations

from typing import ClassVar

from sklearn.utils import check_random_state

from skassess.search._base import BaseSearch, _Oracle

__all__ = ["RandomSearch"]


class RandomSearch(BaseSearch):
    """Train architectures drawn uniformly at random, without replacement.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Controls the order in which architectures are drawn. Pass an int for
        reproducible searches.

    See Also
    --------
    RegularizedEvolution : Evolution with ageing.
    PredictorGuidedSearch : Search guided by a performance predictor.

    Examples
    --------
    >>> from skassess.search import RandomSearch
    >>> RandomSearch(random_state=0)
    RandomSearch(random_state=0)
    """

    _parameter_constraints: ClassVar[dict] = {"random_state": ["random_state"]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _search(self, oracle: _Oracle) -> None:
        rng = check_random_state(self.random_state)
        order = rng.permutation(oracle.unqueried())
        for index in order[: oracle.remaining]:
            oracle.query(index)
