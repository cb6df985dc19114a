"""Search guided by a performance predictor, as ask/tell on any space.

Train some architectures, fit a predictor on them, train the ones it ranks
highest, refit, repeat: the search experiments of Tang et al. (CVPR 2020) and of
Wen et al., "Neural Predictor for Neural Architecture Search" (ECCV 2020). The
candidates it ranks are random architectures and mutations of the best found
so far, as in BANANAS (White et al., AAAI 2021) and NPENAS (Wei et al., 2022).

The search proposes (:meth:`~PredictorGuidedSearch.ask`) and learns
(:meth:`~PredictorGuidedSearch.tell`); whoever trains the architectures
stands between the two. On a tabular benchmark that is a table look-up, and
:meth:`~PredictorGuidedSearch.run` is the loop that does it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from skassess._cell import Cell, as_cells
from skassess.search._base import BaseSearch, _check_budget, _Oracle
from skassess.search._candidates import _CellList, _SpaceSampler, as_cell_list, mutants
from skassess.search._result import Query, SearchResult
from skassess.utils.tags import final_estimator, uses_unlabeled
from skassess.utils.validation import check_positive_int

__all__ = ["PredictorGuidedSearch"]


class PredictorGuidedSearch(BaseSearch):
    """Train the architectures a performance predictor ranks highest, refitting as labels arrive.

    An ask/tell search: :meth:`ask` proposes architectures to train,
    :meth:`tell` takes their scores back, in any order and in parts, ``NaN``
    for a training that failed. Every proposal is new: no architecture
    (canonical hash of ``space``) already asked or told is proposed again.

    1. Until ``initial_size`` architectures have a score, propose random ones.
    2. Then, for each :meth:`ask`: gather candidates, ``pool_size`` random
       untried architectures, ``n_mutations`` mutations of the
       ``n_parents`` best found so far, and the ``n_carried`` best-ranked
       candidates of the previous fit that were not proposed;
    3. fit (a clone of) ``estimator`` on the scored architectures; a
       semi-supervised estimator also receives candidates as unlabeled ones
       (target ``NaN``, see :func:`~skassess.utils.uses_unlabeled`);
    4. propose the candidates with the highest predicted score (plus
       ``exploration`` times its spread, for a predictor whose ``predict``
       takes ``return_std=True``).

    :meth:`run` searches a tabular benchmark with the same two methods.

    Parameters
    ----------
    estimator : estimator object, default=None
        Any regressor that takes a list of cells as X, e.g. a skassess
        predictor or a scikit-learn pipeline starting with a cell encoder.
        ``None`` means ``skassess.SemiSupervisedAssessor()``.
    space : CellSpace, default=None
        The search space: it hashes, samples and mutates cells. Required for
        :meth:`ask` and :meth:`tell`; :meth:`run` takes the benchmark's.
    candidates : sequence of cells, default=None
        The architectures to choose from, e.g. ``space.enumerate()`` or those
        you can afford to train; ``None`` draws them with ``space.sample``
        (see its Notes for what that favours). Mutations outside the list
        are not proposed. :meth:`run` takes the benchmark's cells.
    initial_size : int, default=20
        Scored architectures needed before the first fit; until then the
        proposals are random.
    batch_size : int, default=10
        Architectures per :meth:`ask` when its ``n`` is not given, and per
        fit in :meth:`run`; smaller batches mean more fits (better choices,
        more time).
    pool_size : int or None, default=10_000
        Random candidates ranked per fit, drawn afresh each time; ``None``
        ranks every untried one of ``candidates``.
    n_mutations : int, default=1_000
        Candidates per fit made by mutating (once or twice) the best
        architectures found so far; 0 ranks random candidates only. On
        NAS-Bench-101 with the assessor, the best found after 150 trainings
        ranked 5th (median of 3 seeds) with them and 8th without.
    n_parents : int, default=10
        How many of the best architectures are mutated.
    n_carried : int, default=0
        How many of the best-ranked candidates a fit did not propose are
        ranked again, by the refitted predictor, at the next fit. A shortlist
        carried from fit to fit: the random pools then add up, so that a good
        architecture drawn once is not forgotten when the next pool is drawn.
        Off by default: on NAS-Bench-101 with the assessor, ``n_carried=2000``
        left the best found after 150 trainings at rank 5 (2 seeds, as
        without it), and was slower at 100 (``benchmarks/results/search.md``).
        It changes nothing when ``pool_size`` covers every candidate.
    exploration : float, default=0.0
        Weight of the predicted spread in the ranking (upper confidence
        bound, ``mean + exploration * std``), for a predictor whose final
        ``predict`` accepts ``return_std=True``; the others, or 0, rank by
        the mean. Off by default: with the spread of a random forest's trees,
        ``exploration=1`` helped on NAS-Bench-101 and hurt on NAS-Bench-201
        (``benchmarks/results/search.md``).
    unlabeled_size : int or None, default=None
        For a semi-supervised estimator: how many candidates, a random part of
        them, are passed to ``fit`` as unlabeled rows. ``None`` passes every
        candidate, ranked by the transductive predictions. A smaller number
        makes fitting cheaper on large pools; every candidate is then ranked by
        ``predict`` (inductive), so that all scores are comparable.
    use_unlabeled : {"auto", True, False}, default="auto"
        Whether to pass candidates to ``fit`` as unlabeled rows. ``"auto"``
        asks :func:`~skassess.utils.uses_unlabeled`.
    random_state : int, RandomState instance or None, default=None
        Controls the random proposals, the candidates, the mutations and the
        seeds of the estimator's ``random_state`` parameters left at ``None``
        (those of pipeline steps included), so a given int reproduces the
        whole search.
    verbose : int, default=0
        Print one line per fit when positive.

    Attributes
    ----------
    cells_ : list of Cell
        The architectures told, in the order told.
    scores_ : ndarray of shape (n_told,)
        Their scores, ``NaN`` for a failed training.
    hashes_ : list of str
        Their canonical hashes.
    pending_ : dict of str to Cell
        Architectures asked and not yet told, by hash.
    n_fits_ : int
        Fits of the predictor so far.
    carried_ : list of Cell
        The shortlist the next fit ranks again (see ``n_carried``).

    Notes
    -----
    The whole state lives in the search object: pickle it (or
    ``joblib.dump`` it) after any :meth:`tell`, load it, and the search goes
    on exactly as if it had not stopped, with the same proposals for the same
    ``random_state``. Cells asked and not told are still pending after a
    reload: tell their scores, or leave them, they are never proposed again.
    ``space``, ``candidates`` and ``random_state`` are read at the first
    :meth:`ask` or :meth:`tell`; the other parameters at every call.

    With a transductive estimator (one that stores ``transduction_``) fitted
    on every candidate, the candidates are ranked by its transductive
    predictions; otherwise by ``predict``. For large spaces, a large pool
    ranked inductively with a modest ``unlabeled_size`` is much cheaper than
    a transductive fit on the pool and, for the assessor on NAS-Bench-101,
    ranks as well (Kendall tau 0.63 both ways with 300 labels, 2,000
    unlabeled cells and 20,000 candidates, in 5 s instead of 34 s).

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> from skassess.search import PredictorGuidedSearch
    >>> from skassess.spaces import CellSpace
    >>> space = CellSpace(ops=["conv", "pool"], max_vertices=4)
    >>> search = PredictorGuidedSearch(DummyRegressor(), space=space, initial_size=4,
    ...                                random_state=0)
    >>> cells = search.ask(4)  # random: nothing is scored yet
    >>> search = search.tell(cells, [0.5, 0.7, float("nan"), 0.6])  # one training failed
    >>> len(search.ask(2)), search.n_fits_  # not enough scores yet for a fit
    (2, 0)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": "no_validation",
        "space": "no_validation",
        "candidates": "no_validation",
        "initial_size": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [None, Interval(Integral, 1, None, closed="left")],
        "n_mutations": [Interval(Integral, 0, None, closed="left")],
        "n_parents": [Interval(Integral, 1, None, closed="left")],
        "n_carried": [Interval(Integral, 0, None, closed="left")],
        "exploration": [Interval(Real, 0, None, closed="left")],
        "unlabeled_size": [None, Interval(Integral, 1, None, closed="left")],
        "use_unlabeled": [StrOptions({"auto"}), "boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        space=None,
        candidates=None,
        initial_size=20,
        batch_size=10,
        pool_size=10_000,
        n_mutations=1_000,
        n_parents=10,
        n_carried=0,
        exploration=0.0,
        unlabeled_size=None,
        use_unlabeled="auto",
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.space = space
        self.candidates = candidates
        self.initial_size = initial_size
        self.batch_size = batch_size
        self.pool_size = pool_size
        self.n_mutations = n_mutations
        self.n_parents = n_parents
        self.n_carried = n_carried
        self.exploration = exploration
        self.unlabeled_size = unlabeled_size
        self.use_unlabeled = use_unlabeled
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ ask / tell

    def ask(self, n: int | None = None) -> list[Cell]:
        """Propose architectures to train next.

        Parameters
        ----------
        n : int, optional
            How many; default ``batch_size``, or during the random start what
            is still missing to reach ``initial_size`` scores.

        Returns
        -------
        list of Cell
            ``n`` distinct architectures never asked or told before; fewer
            when the candidates run out (none left: an empty list).
        """
        self._start()
        n = self._default_ask_size() if n is None else check_positive_int(n, "n")
        if np.count_nonzero(np.isfinite(self.scores_)) < self.initial_size:
            cells, keys = self._source.draw(n, self._rng, self._seen())
        else:
            cells, keys = self._propose(n)
        self.pending_.update(zip(keys, cells, strict=True))
        return list(cells)

    def tell(self, cells: Sequence[Any], scores: Any) -> PredictorGuidedSearch:
        """Record the scores of trained architectures.

        Parameters
        ----------
        cells : sequence of cells
            Trained architectures: asked ones, in any order and any part of
            them, or others you trained yourself (e.g. to start from earlier
            results).
        scores : array-like of float, shape (len(cells),)
            Their scores, higher is better; ``NaN`` for a failed training
            (the architecture is then never proposed again, nor learned from).

        Returns
        -------
        self

        Raises
        ------
        InvalidCellError
            If a cell is not in ``space``; the message says which.
        TypeError
            If ``cells`` is one cell rather than a sequence of cells.
        ValueError
            If the lengths differ, a score is infinite, or a cell was already
            told (or is told twice).
        """
        self._start()
        cells = as_cells(cells, space=self.space)
        scores = np.asarray(scores, dtype=float).reshape(-1)
        if len(cells) != scores.size:
            raise ValueError(f"tell needs one score per cell: got {scores.size} for {len(cells)}")
        if np.isinf(scores).any():
            position = int(np.flatnonzero(np.isinf(scores))[0])
            raise ValueError(f"score {position} is {scores[position]}; use NaN for a failure")
        keys = [str(key) for key in self.space.hash_many(cells)]
        told = set(self.hashes_)
        for position, key in enumerate(keys):
            if key in told:
                raise ValueError(f"cell {position} (hash {key}) was already told")
            told.add(key)
        for cell, key in zip(cells, keys, strict=True):
            self.cells_.append(self.pending_.pop(key, cell))
        self.hashes_ += keys
        self.scores_ = np.concatenate([self.scores_, scores])
        return self

    @property
    def best_cell_(self) -> Cell:
        """The best architecture told (the first one on ties)."""
        return self.cells_[self._best()]

    @property
    def best_score_(self) -> float:
        """Its score."""
        return float(self.scores_[self._best()])

    def _best(self) -> int:
        scores = getattr(self, "scores_", np.empty(0))
        if not np.isfinite(scores).any():
            raise AttributeError("no architecture has a score yet: tell some first")
        return int(np.nanargmax(scores))

    # ------------------------------------------------------------------ benchmark driver

    def run(
        self,
        benchmark: Any,
        budget: int,
        *,
        metric: str | None = None,
        callback: Callable[[Query], Any] | None = None,
    ) -> SearchResult:
        """Search ``benchmark`` with ``budget`` trainings: :meth:`ask`, look up, :meth:`tell`.

        A fresh clone of this search, with the benchmark's ``space`` and its
        cells of known ``metric`` as ``candidates``, asks ``batch_size``
        architectures at a time (``initial_size`` at first) and is told their
        values from the table. This object is left unchanged.
        See :meth:`BaseSearch.run` for the parameters and the result.
        """
        budget = _check_budget(budget)
        oracle = _Oracle(benchmark, budget, metric, type(self).__name__, callback)
        search = clone(self).set_params(space=benchmark.space, candidates=None)
        rows = oracle.unqueried()
        search._start(_CellList([oracle.cells[i] for i in rows], oracle.hashes(rows)))
        while not oracle.done:
            cells = search.ask(min(search._default_ask_size(), oracle.remaining))
            if not cells:
                break  # every distinct architecture is trained
            search.tell(cells, [oracle.query(oracle.index_of(cell)) for cell in cells])
        return oracle.result

    # ------------------------------------------------------------------ internals

    def _check_params(self) -> None:
        self._validate_params()
        if self.estimator is not None and not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator must have a fit method, got {self.estimator!r}")
        if self.space is None:
            raise ValueError("space is required: the search space to hash and draw cells from")

    def _start(self, source: _CellList | None = None) -> None:
        """Validate the parameters and create the search state, on first use only."""
        if hasattr(self, "_rng"):
            return
        self._check_params()
        if source is None and self.candidates is not None:
            source = as_cell_list(self.candidates, self.space)
        if source is None and self.pool_size is None:
            raise ValueError("pool_size=None ranks every candidate: it needs a list of candidates")
        self._source = _SpaceSampler(self.space) if source is None else source
        self._rng = check_random_state(self.random_state)
        self.cells_: list[Cell] = []
        self.hashes_: list[str] = []
        self.scores_ = np.empty(0)
        self.pending_: dict[str, Cell] = {}
        self.n_fits_ = 0
        self.carried_: list[Cell] = []
        self._carried_hashes: list[str] = []

    def _seen(self) -> set[str]:
        return set(self.hashes_) | set(self.pending_)

    def _default_ask_size(self) -> int:
        missing = self.initial_size - np.count_nonzero(np.isfinite(self.scores_))
        return max(1, missing - len(self.pending_)) if missing > 0 else self.batch_size

    def _propose(self, n: int) -> tuple[list[Cell], list[str]]:
        """Fit the predictor and return the ``n`` best candidates, with their hashes."""
        rng, seen = self._rng, self._seen()
        cells, keys = self._source.draw(self.pool_size, rng, seen)
        labeled = np.flatnonzero(np.isfinite(self.scores_))
        best_first = labeled[np.argsort(-self.scores_[labeled], kind="stable")]
        parents = [self.cells_[i] for i in best_first[: self.n_parents]]
        listed = self._source if isinstance(self._source, _CellList) else None
        more = mutants(self.space, parents, self.n_mutations, rng, seen | set(keys), listed)
        cells, keys = cells + more[0], keys + more[1]
        cells, keys = self._with_carried(cells, keys, seen)
        if not cells:
            return [], []
        scores = self._score(cells, labeled, rng)
        self.n_fits_ += 1
        ranked = np.argsort(-scores, kind="stable")
        chosen, carried = ranked[:n], ranked[n : n + self.n_carried].tolist()
        self.carried_ = [cells[k] for k in carried]
        self._carried_hashes = [keys[k] for k in carried]
        if self.verbose > 0:
            print(
                f"[{type(self).__name__}] fit {self.n_fits_}: {labeled.size} scored, "
                f"ranked {len(cells)} candidates ({len(more[0])} mutations), best so far "
                f"{self.best_score_:.5g}",
                flush=True,
            )
        return [cells[k] for k in chosen.tolist()], [keys[k] for k in chosen.tolist()]

    def _with_carried(
        self, cells: list[Cell], keys: list[str], seen: set[str]
    ) -> tuple[list[Cell], list[str]]:
        """The candidates and the untried ones of the shortlist carried from the last fit."""
        drawn = set(keys)
        kept = [
            (cell, key)
            for cell, key in zip(self.carried_, self._carried_hashes, strict=True)
            if key not in seen and key not in drawn
        ]
        return cells + [cell for cell, _ in kept], keys + [key for _, key in kept]

    def _score(self, X_pool: list[Cell], labeled: np.ndarray, rng: np.random.RandomState):
        """Fit a fresh clone on the scored architectures; the acquisition of each candidate."""
        base = self.estimator
        if base is None:
            from skassess.assessor import SemiSupervisedAssessor

            base = SemiSupervisedAssessor()
        semi = uses_unlabeled(base) if self.use_unlabeled == "auto" else self.use_unlabeled
        estimator = _seeded_clone(base, rng)
        X_labeled = [self.cells_[i] for i in labeled.tolist()]
        y_labeled = self.scores_[labeled]
        with_std = self.exploration > 0 and _predicts_std(estimator)
        if not semi:
            estimator.fit(X_labeled, y_labeled)
            return _acquisition(estimator, X_pool, with_std, self.exploration)
        if self.unlabeled_size is None or self.unlabeled_size >= len(X_pool):
            X_unlabeled, transductive = X_pool, True
        else:
            chosen = rng.choice(len(X_pool), size=self.unlabeled_size, replace=False)
            X_unlabeled, transductive = [X_pool[i] for i in chosen.tolist()], False
        y = np.concatenate([y_labeled, np.full(len(X_unlabeled), np.nan)])
        estimator.fit(X_labeled + X_unlabeled, y)
        transduction = getattr(estimator, "transduction_", None)
        if transductive and transduction is not None and not with_std:
            return np.asarray(transduction, dtype=float)[len(X_labeled) :]
        return _acquisition(estimator, X_pool, with_std, self.exploration)


def _predicts_std(estimator: Any) -> bool:
    """Whether the final ``predict`` of ``estimator`` takes ``return_std``, by its signature."""
    predict = getattr(final_estimator(estimator), "predict", None)
    if predict is None:
        return False
    try:
        return "return_std" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # a builtin or C method without a signature
        return False


def _acquisition(estimator: Any, X: list[Cell], with_std: bool, exploration: float) -> np.ndarray:
    """``mean + exploration * std`` of the predictions, or the mean alone."""
    if not with_std:
        return np.asarray(estimator.predict(X), dtype=float)
    mean, std = estimator.predict(X, return_std=True)
    return np.asarray(mean, dtype=float) + exploration * np.asarray(std, dtype=float)


def _seeded_clone(estimator: Any, rng: np.random.RandomState) -> Any:
    """A clone whose unset ``random_state`` parameters (nested ones too) get seeds from ``rng``."""
    estimator = clone(estimator)
    unset = sorted(
        name
        for name, value in estimator.get_params(deep=True).items()
        if value is None and (name == "random_state" or name.endswith("__random_state"))
    )
    seeds = {name: int(rng.randint(np.iinfo(np.int32).max)) for name in unset}
    return estimator.set_params(**seeds) if seeds else estimator
