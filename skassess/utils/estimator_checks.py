"""Common checks for estimators whose input is a sequence of architectures.

scikit-learn's common checks (:func:`sklearn.utils.estimator_checks.check_estimator`)
feed numeric tables, so they skip every data-dependent check for estimators
tagged ``input_tags.two_d_array = False``, such as skassess's cell encoders and
predictors. The checks here are their counterpart on real cells: fit returns
self, refitting and re-seeding reproduce the output, pickling, cloning,
subset and order invariance, every cell spelling understood, clear errors on
bad input, and, for regressors, unlabeled (NaN) targets. The data-free checks
of scikit-learn (parameters, ``clone``, tags, mixin order, ...) are run too.

Three ways in, from the simplest:

- :func:`check_architecture_estimator` runs every check and raises on the first
  failure, naming the check.
- :func:`parametrize_with_architecture_checks` makes each (estimator, check)
  pair a pytest case::

      @parametrize_with_architecture_checks([PathEncoder(), make_mlp_predictor(max_iter=5)])
      def test_architecture_checks(estimator, check, nb101_sample):
          cells, y = nb101_sample
          check(estimator, cells, y)

- :func:`architecture_checks` yields ``(name, check)`` pairs for your own loop.

Every check has the signature ``check(estimator, cells, y=None)``: it clones
``estimator`` (never modifies it), takes ``cells``, a sequence of at least 8
distinct valid cells the estimator can fit, and ``y``, their targets (a
deterministic toy target is made from the cells when None). Estimators with
``random_state`` parameters (also nested ones, as in pipelines) get them set
to 0, so that the output is reproducible.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as sk_checks

from skassess._cell import as_cells

__all__ = [
    "architecture_checks",
    "check_architecture_estimator",
    "parametrize_with_architecture_checks",
]

#: Tolerances of the output comparisons (allows float32 batch-size effects).
RTOL, ATOL = 1e-5, 1e-6

_SKLEARN_DATA_FREE_CHECKS = (
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_mixin_order",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_do_not_raise_errors_in_init_or_set_params",
)

# -- helpers --------------------------------------------------------------------------


def _prepared(estimator: Any) -> Any:
    """A clone with every ``random_state`` parameter (nested ones too) set to 0."""
    estimator = clone(estimator)
    seeds = {
        key: 0
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    }
    return estimator.set_params(**seeds)


def _output_method(estimator: Any) -> str:
    for method in ("predict", "transform"):
        if hasattr(estimator, method):
            return method
    raise TypeError(f"{type(estimator).__name__} has neither predict nor transform")


def _output(estimator: Any, cells: Any) -> np.ndarray:
    return np.asarray(getattr(estimator, _output_method(estimator))(cells))


def _toy_target(cells: list) -> np.ndarray:
    """A deterministic target from the cells' structure, for regressors' checks."""
    return np.array(
        [cell.n_edges + 0.1 * cell.n_vertices + 0.01 * (i % 7) for i, cell in enumerate(cells)]
    )


def _data(cells: Any, y: Any) -> tuple[list, np.ndarray]:
    cells = as_cells(cells)
    if len(cells) < 8:
        raise ValueError(f"the architecture checks need at least 8 cells, got {len(cells)}")
    y = _toy_target(cells) if y is None else np.asarray(y, dtype=np.float64)
    if len(y) != len(cells):
        raise ValueError(f"cells and y have different lengths: {len(cells)} and {len(y)}")
    if np.isnan(y).any():
        raise ValueError("give the checks labeled targets; they add NaN targets themselves")
    return cells, y


def _fitted(estimator: Any, cells: list, y: np.ndarray) -> Any:
    return _prepared(estimator).fit(cells, y)


def _fingerprint(value: Any) -> Any:
    """A parameter's value, comparing nested estimators by their parameters only.

    Pipelines and meta-estimators fit their step estimators in place, which is
    allowed; changing a parameter's value is not.
    """
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        return (type(value).__name__, {k: _fingerprint(v) for k, v in params.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_fingerprint(v) for v in value))
    return joblib.hash(value)


def _assert_same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=RTOL, atol=ATOL, err_msg=f"{what} differ", strict=True
    )


def _assert_raises(exceptions: tuple, what: str, function: Callable, *args: Any) -> None:
    try:
        function(*args)
    except exceptions as exc:
        if not str(exc):
            raise AssertionError(f"{what}: raised {type(exc).__name__} with no message") from exc
        return
    except Exception as exc:
        names = " or ".join(e.__name__ for e in exceptions)
        raise AssertionError(f"{what}: expected {names}, got {type(exc).__name__}: {exc}") from exc
    names = " or ".join(e.__name__ for e in exceptions)
    raise AssertionError(f"{what}: expected {names}, nothing was raised")


# -- checks ---------------------------------------------------------------------------


def check_fit_returns_self(estimator: Any, cells: Any, y: Any = None) -> None:
    """``fit`` returns the estimator itself."""
    cells, y = _data(cells, y)
    estimator = _prepared(estimator)
    assert estimator.fit(cells, y) is estimator, "fit must return self"


def check_fit_does_not_change_params(estimator: Any, cells: Any, y: Any = None) -> None:
    """``fit`` leaves the constructor parameters as they were (no validation in place)."""
    cells, y = _data(cells, y)
    estimator = _prepared(estimator)
    before = {k: _fingerprint(v) for k, v in estimator.get_params(deep=False).items()}
    estimator.fit(cells, y)
    after = {k: _fingerprint(v) for k, v in estimator.get_params(deep=False).items()}
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, f"fit changed the parameters {changed}"


def check_fit_does_not_modify_input(estimator: Any, cells: Any, y: Any = None) -> None:
    """``fit`` modifies neither the cells nor y, NaN targets included."""
    cells, y = _data(cells, y)
    y = y.copy()
    y[::3] = np.nan
    cells_copy, y_copy = list(cells), y.copy()
    _prepared(estimator).fit(cells, y)
    assert cells == cells_copy, "fit modified the list of cells"
    np.testing.assert_array_equal(y, y_copy, err_msg="fit modified y")


def check_unfitted(estimator: Any, cells: Any, y: Any = None) -> None:
    """``predict``/``transform`` before ``fit`` raise ``NotFittedError``."""
    cells, _ = _data(cells, y)
    estimator = _prepared(estimator)
    for method in ("predict", "transform"):
        if hasattr(estimator, method):
            _assert_raises(
                (NotFittedError,), f"{method} before fit", getattr(estimator, method), cells
            )


def check_output(estimator: Any, cells: Any, y: Any = None) -> None:
    """Outputs are finite floats, one per cell (predict) or one row per cell (transform)."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    if hasattr(estimator, "predict"):
        prediction = np.asarray(estimator.predict(cells))
        assert prediction.shape == (len(cells),), (
            f"predict returned shape {prediction.shape}, expected ({len(cells)},)"
        )
        assert np.issubdtype(prediction.dtype, np.floating), f"predict dtype {prediction.dtype}"
        assert np.isfinite(prediction).all(), "predict returned non-finite values"
    if hasattr(estimator, "transform"):
        features = np.asarray(estimator.transform(cells))
        assert features.ndim == 2 and len(features) == len(cells), (
            f"transform returned shape {features.shape}, expected ({len(cells)}, n_features)"
        )
        assert np.issubdtype(features.dtype, np.floating), f"transform dtype {features.dtype}"
        assert np.isfinite(features).all(), "transform returned non-finite values"
        if hasattr(estimator, "get_feature_names_out"):
            names = estimator.get_feature_names_out()
            assert len(names) == features.shape[1], (
                f"{len(names)} feature names for {features.shape[1]} features"
            )


def check_fit_idempotent(estimator: Any, cells: Any, y: Any = None) -> None:
    """Fitting the same estimator twice gives the same output."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    first = _output(estimator, cells)
    second = _output(estimator.fit(cells, y), cells)
    _assert_same(second, first, "outputs of two fits of the same estimator")


def check_random_state_reproducible(estimator: Any, cells: Any, y: Any = None) -> None:
    """Two clones with the same ``random_state`` agree, whatever the global RNG state."""
    cells, y = _data(cells, y)
    np.random.seed(1)  # noqa: NPY002 (deliberately moving the global RNG)
    first = _output(_fitted(estimator, cells, y), cells)
    np.random.seed(2)  # noqa: NPY002
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(2)
    second = _output(_fitted(estimator, cells, y), cells)
    _assert_same(second, first, "outputs of two clones with the same random_state")


def check_global_random_state_untouched(estimator: Any, cells: Any, y: Any = None) -> None:
    """``fit`` and prediction leave numpy's and torch's global generators alone."""
    cells, y = _data(cells, y)
    _output(_fitted(estimator, cells, y), cells)  # imports whatever the estimator needs
    numpy_state = _numpy_global_state()
    torch = sys.modules.get("torch")
    torch_state = None if torch is None else torch.get_rng_state().clone()
    _output(_fitted(estimator, cells, y), cells)
    assert _numpy_global_state() == numpy_state, (
        "the estimator used numpy's global random generator; use check_random_state(random_state)"
    )
    if torch_state is not None:
        assert torch.equal(torch.get_rng_state(), torch_state), (
            "the estimator used or seeded torch's global random generator; use a private "
            "torch.Generator (skassess._torch.make_generator)"
        )


def _numpy_global_state() -> tuple:
    name, key, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    return name, key.tobytes(), position, has_gauss, gauss


def check_pickle_roundtrip(estimator: Any, cells: Any, y: Any = None) -> None:
    """A fitted estimator survives pickle and joblib with the same output."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    expected = _output(estimator, cells)
    _assert_same(_output(pickle.loads(pickle.dumps(estimator)), cells), expected, "pickle")
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    _assert_same(_output(joblib.load(buffer), cells), expected, "joblib round trip")


def check_clone(estimator: Any, cells: Any, y: Any = None) -> None:
    """A clone of a fitted estimator is unfitted, and refits to the same output."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    copy = clone(estimator)
    method = _output_method(copy)
    _assert_raises(
        (NotFittedError,),
        f"{method} on a clone of a fitted estimator",
        getattr(copy, method),
        cells,
    )
    _assert_same(_output(copy.fit(cells, y), cells), _output(estimator, cells), "clone refit")


def check_transform_equals_fit_transform(estimator: Any, cells: Any, y: Any = None) -> None:
    """``fit(X).transform(X)`` equals ``fit_transform(X)`` (transformers)."""
    cells, y = _data(cells, y)
    if not hasattr(estimator, "transform"):
        return
    separate = _fitted(estimator, cells, y).transform(cells)
    together = _prepared(estimator).fit_transform(cells, y)
    _assert_same(np.asarray(together), np.asarray(separate), "fit_transform and fit + transform")


def check_subset_invariance(estimator: Any, cells: Any, y: Any = None) -> None:
    """Outputs are row-independent: batches and single cells give the rows of the whole."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    whole = _output(estimator, cells)
    third = max(1, len(cells) // 3)
    for start in range(0, len(cells), third):
        part = _output(estimator, cells[start : start + third])
        _assert_same(part, whole[start : start + third], f"outputs of rows {start}.. in a batch")
    for row in range(3):
        _assert_same(_output(estimator, [cells[row]]), whole[row : row + 1], f"row {row} alone")


def check_order_invariance(estimator: Any, cells: Any, y: Any = None) -> None:
    """Permuting the cells permutes the outputs, nothing else."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    whole = _output(estimator, cells)
    order = np.random.default_rng(0).permutation(len(cells))
    permuted = _output(estimator, [cells[i] for i in order])
    _assert_same(permuted, whole[order], "outputs of permuted cells")


def check_cell_spellings(estimator: Any, cells: Any, y: Any = None) -> None:
    """Cells as ``Cell``, ``(matrix, ops)`` pairs and ``{"matrix", "ops"}`` dicts agree."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    expected = _output(estimator, cells)
    pairs = [(cell.matrix.tolist(), list(cell.ops)) for cell in cells]
    dicts = [cell.to_dict() for cell in cells]
    _assert_same(_output(estimator, pairs), expected, "outputs for (matrix, ops) pairs")
    _assert_same(_output(estimator, dicts), expected, "outputs for dicts")
    refit = _output(_prepared(estimator).fit(dicts, y), cells)
    _assert_same(refit, expected, "outputs after fitting on dicts")


def check_empty_input(estimator: Any, cells: Any, y: Any = None) -> None:
    """An empty sequence of cells is a clear error, in fit and after."""
    cells, y = _data(cells, y)
    _assert_raises((ValueError,), "fit on no cells", _prepared(estimator).fit, [], y[:0])
    fitted = _fitted(estimator, cells, y)
    method = _output_method(fitted)
    _assert_raises((ValueError,), f"{method} on no cells", getattr(fitted, method), [])


def check_single_cell_rejected(estimator: Any, cells: Any, y: Any = None) -> None:
    """A bare cell where a sequence is expected is a clear error, not a 2-cell batch."""
    cells, y = _data(cells, y)
    fitted = _fitted(estimator, cells, y)
    method = getattr(fitted, _output_method(fitted))
    errors = (TypeError, ValueError)
    for spelling in (cells[0], (cells[0].matrix.tolist(), list(cells[0].ops)), cells[0].to_dict()):
        what = f"a single {type(spelling).__name__} cell"
        _assert_raises(errors, f"fit on {what}", _prepared(estimator).fit, spelling, y[:2])
        _assert_raises(errors, f"{_output_method(fitted)} on {what}", method, spelling)


def check_invalid_input_rejected(estimator: Any, cells: Any, y: Any = None) -> None:
    """Malformed cells and non-cell input raise clear errors."""
    cells, y = _data(cells, y)
    fitted = _fitted(estimator, cells, y)
    method = getattr(fitted, _output_method(fitted))
    backwards = ([[0, 0], [1, 0]], ["input", "output"])  # an edge 1 -> 0
    short_ops = ([[0, 1], [0, 0]], ["input"])
    table = np.zeros((len(cells), 5))
    for what, X in (
        ("a cell with a backward edge", [*cells[:3], backwards]),
        ("a cell with too few ops", [*cells[:3], short_ops]),
        ("a numeric table", table),
        ("a string", "cells"),
    ):
        _assert_raises((TypeError, ValueError), f"predicting on {what}", method, X)
        if not isinstance(X, str):
            _assert_raises(
                (TypeError, ValueError),
                f"fitting on {what}",
                _prepared(estimator).fit,
                X,
                y[: len(X)],
            )


def check_regressor_y_length_mismatch(estimator: Any, cells: Any, y: Any = None) -> None:
    """A y of the wrong length is a clear error."""
    cells, y = _data(cells, y)
    _assert_raises(
        (ValueError,), "fit with len(y) != len(X)", _prepared(estimator).fit, cells, y[:-1]
    )


def check_regressor_nan_targets(estimator: Any, cells: Any, y: Any = None) -> None:
    """Unlabeled (NaN) targets are accepted; all-NaN y is a clear error.

    Estimators that cannot learn from partly labeled data should list this
    check in ``expected_failed_checks`` (or be wrapped in
    :class:`skassess.baselines.LabeledOnly`).
    """
    cells, y = _data(cells, y)
    partial_y = y.copy()
    partial_y[1::2] = np.nan
    prediction = np.asarray(_fitted(estimator, cells, partial_y).predict(cells))
    assert np.isfinite(prediction).all(), "predictions after fitting with NaN targets not finite"
    _assert_raises(
        (ValueError,),
        "fit with all targets NaN",
        _prepared(estimator).fit,
        cells,
        np.full_like(y, np.nan),
    )


def check_regressor_score_ignores_nan(estimator: Any, cells: Any, y: Any = None) -> None:
    """``score`` ignores rows whose true target is NaN."""
    cells, y = _data(cells, y)
    estimator = _fitted(estimator, cells, y)
    partial_y = y.copy()
    partial_y[::2] = np.nan
    labeled = np.flatnonzero(~np.isnan(partial_y))
    score = estimator.score(cells, partial_y)
    expected = estimator.score([cells[i] for i in labeled], partial_y[labeled])
    assert np.isfinite(score), f"score with NaN targets is {score}"
    np.testing.assert_allclose(score, expected, rtol=RTOL, err_msg="score did not skip NaN rows")


_COMMON_CHECKS = (
    check_fit_returns_self,
    check_fit_does_not_change_params,
    check_fit_does_not_modify_input,
    check_unfitted,
    check_output,
    check_fit_idempotent,
    check_random_state_reproducible,
    check_global_random_state_untouched,
    check_pickle_roundtrip,
    check_clone,
    check_subset_invariance,
    check_order_invariance,
    check_cell_spellings,
    check_empty_input,
    check_single_cell_rejected,
    check_invalid_input_rejected,
)
_TRANSFORMER_CHECKS = (check_transform_equals_fit_transform,)
_REGRESSOR_CHECKS = (
    check_regressor_y_length_mismatch,
    check_regressor_nan_targets,
    check_regressor_score_ignores_nan,
)


def _sklearn_check(name: str) -> Callable[..., None]:
    def check(estimator: Any, cells: Any = None, y: Any = None) -> None:
        getattr(sk_checks, name)(type(estimator).__name__, estimator)

    check.__name__ = name
    check.__doc__ = f"scikit-learn's data-free ``{name}``."
    return check


# -- entry points ---------------------------------------------------------------------


def architecture_checks(estimator: Any) -> Iterator[tuple[str, Callable[..., None]]]:
    """The checks that apply to ``estimator``, as ``(name, check)`` pairs.

    Parameters
    ----------
    estimator : estimator
        An estimator taking a sequence of cells as X.

    Yields
    ------
    name : str
    check : callable ``check(estimator, cells, y=None) -> None``
        Raises ``AssertionError`` (or the estimator's exception) on failure.

    Examples
    --------
    >>> from skassess.encoders import PathEncoder
    >>> from skassess.utils.estimator_checks import architecture_checks
    >>> names = [name for name, _ in architecture_checks(PathEncoder())]
    >>> "check_subset_invariance" in names, "check_regressor_nan_targets" in names
    (True, False)
    """
    for name in _SKLEARN_DATA_FREE_CHECKS:
        if hasattr(sk_checks, name):
            yield name, _sklearn_check(name)
    checks = list(_COMMON_CHECKS)
    if hasattr(estimator, "transform"):
        checks += _TRANSFORMER_CHECKS
    if is_regressor(estimator):
        checks += _REGRESSOR_CHECKS
    for check in checks:
        yield check.__name__, check


def check_architecture_estimator(
    estimator: Any,
    cells: Any,
    y: Any = None,
    *,
    expected_failed_checks: dict[str, str] | None = None,
) -> list[str]:
    """Run every architecture check on ``estimator``; raise on the first failure.

    Parameters
    ----------
    estimator : estimator
        An estimator taking a sequence of cells as X. It is cloned, never modified.
    cells : sequence of cells
        At least 8 distinct valid cells the estimator can fit (e.g. 30 from
        NAS-Bench-101); keep them few, every check fits the estimator.
    y : array-like of shape (n_cells,), optional
        Their (labeled) targets; a toy target from the cells' structure when None.
    expected_failed_checks : dict of str to str, optional
        Checks to skip, each with the reason why it does not apply.

    Returns
    -------
    list of str
        Names of the checks run.

    Raises
    ------
    AssertionError
        With the failing check's name in a note, on the first failure.

    Examples
    --------
    >>> from skassess.encoders import AdjacencyOpsEncoder
    >>> from skassess.utils.estimator_checks import check_architecture_estimator
    >>> cells = [([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", op, "output"])
    ...          for op in "abcdefgh"]
    >>> len(check_architecture_estimator(AdjacencyOpsEncoder(), cells)) > 20
    True
    """
    skip = expected_failed_checks or {}
    ran = []
    for name, check in architecture_checks(estimator):
        if name in skip:
            continue
        try:
            check(estimator, cells, y)
        except Exception as exc:
            exc.add_note(f"in {name} on {estimator!r}")
            raise
        ran.append(name)
    return ran


def parametrize_with_architecture_checks(
    estimators: Iterable[Any], *, expected_failed_checks: Callable | dict | None = None
):
    """A pytest ``parametrize`` decorator making each (estimator, check) a test case.

    The decorated test receives ``estimator`` and ``check`` and must call
    ``check(estimator, cells, y)`` with cells from its own fixtures::

        @parametrize_with_architecture_checks([AdjacencyOpsEncoder(), PathEncoder()])
        def test_architecture_checks(estimator, check, nb101_sample):
            check(estimator, *nb101_sample)

    Parameters
    ----------
    estimators : iterable of estimators
    expected_failed_checks : dict or callable, optional
        ``{check name: reason}`` for all estimators, or a callable
        ``estimator -> dict``; those cases are marked ``xfail`` with the reason.

    Returns
    -------
    decorator
    """
    import pytest

    params = []
    for estimator in estimators:
        expected = expected_failed_checks or {}
        if callable(expected):
            expected = expected(estimator) or {}
        label = " ".join(repr(estimator).split())
        for name, check in architecture_checks(estimator):
            marks = [pytest.mark.xfail(reason=expected[name])] if name in expected else []
            params.append(pytest.param(estimator, check, id=f"{label}-{name}", marks=marks))
    return pytest.mark.parametrize("estimator, check", params)
