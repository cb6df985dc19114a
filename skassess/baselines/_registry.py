"""Every performance predictor of skassess by name: one table, read by the CLI and the benchmarks.

A predictor is registered by one entry of :data:`_PREDICTORS`: the callable that
builds it with its defaults (as ``"module:name"``, imported on first use, so
that listing the predictors imports neither torch nor scikit-learn), the
arguments it is called with, and a one-line description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

__all__ = ["available_predictors", "get_predictor"]


@dataclass(frozen=True)
class _Entry:
    build: str  # "module:callable" returning a fresh, default predictor
    description: str
    arguments: dict[str, Any] = field(default_factory=dict)


_FACTORIES = "skassess.baselines._factories"

_PREDICTORS: dict[str, _Entry] = {
    "assessor": _Entry(
        "skassess.assessor:SemiSupervisedAssessor",
        "the semi-supervised assessor, skassess.SemiSupervisedAssessor",
    ),
    "pipeline": _Entry(
        f"{_FACTORIES}:make_two_stage_predictor",
        "the assessor in two stages: ArchitectureEmbedder, then TransductiveGCNRegressor",
    ),
    "random-forest": _Entry(
        f"{_FACTORIES}:make_random_forest_predictor",
        "random forest on adjacency + one-hot ops (E2EPP)",
    ),
    "mlp": _Entry(f"{_FACTORIES}:make_mlp_predictor", "MLP on path encodings (BANANAS)"),
    "gradient-boosting": _Entry(
        f"{_FACTORIES}:make_gradient_boosting_predictor",
        "histogram gradient-boosted trees on adjacency + one-hot ops",
    ),
    "embedding": _Entry(
        f"{_FACTORIES}:make_embedding_predictor",
        "label propagation on auto-encoder embeddings (semi-supervised)",
    ),
    "embedding-knn": _Entry(
        f"{_FACTORIES}:make_embedding_predictor",
        "kNN regression on auto-encoder embeddings",
        {"method": "knn"},
    ),
    "neural-predictor": _Entry(
        "skassess.baselines._neural_predictor:NeuralPredictor",
        "GCN on each cell's graph (Wen et al., Neural Predictor)",
    ),
}


def available_predictors() -> dict[str, str]:
    """The names :func:`get_predictor` accepts, each with a one-line description.

    Returns
    -------
    dict of str to str
        In a fixed order: the assessor first, then the baselines.

    Examples
    --------
    >>> from skassess.baselines import available_predictors
    >>> list(available_predictors())[:3]
    ['assessor', 'pipeline', 'random-forest']
    """
    return {name: entry.description for name, entry in _PREDICTORS.items()}


def get_predictor(name: str, *, shared_params: dict[str, Any] | None = None, **params: Any) -> Any:
    """A fresh, unfitted performance predictor by its name.

    Every predictor takes a sequence of cells and targets in which ``NaN``
    marks an unlabeled architecture; see :func:`available_predictors` for the
    names. ``"assessor"`` is :class:`skassess.SemiSupervisedAssessor`,
    ``"pipeline"`` is :func:`make_two_stage_predictor`, the others are the
    baselines of this module.

    Parameters
    ----------
    name : str
        A name of :func:`available_predictors`; ``_`` may stand for ``-``.
    shared_params : dict, optional
        Settings shared by several predictors, each set like ``params`` where
        the predictor has such a parameter and ignored where it has none: e.g.
        ``{"space": space}``, which the assessor, fixing its vocabulary in
        ``fit``, does not take.
    **params
        Parameters to set. A plain name sets every parameter of that name,
        however deep in the predictor's pipeline it is: ``random_state=0``
        seeds every step, ``max_iter=5`` shortens every iterative one (the
        epochs of an embedder and of a network, the rounds of gradient
        boosting), ``space=...`` fixes the op vocabulary of every encoder. A
        ``step__parameter`` name sets that one parameter, as in
        :meth:`~sklearn.pipeline.Pipeline.set_params`.

    Returns
    -------
    estimator
        A scikit-learn regressor of cells.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or the predictor has no parameter of a given
        name.

    Examples
    --------
    >>> from skassess.baselines import get_predictor
    >>> forest = get_predictor("random-forest", n_estimators=10, random_state=0)
    >>> forest.get_params()["regress__estimator__n_estimators"]
    10
    >>> get_predictor("assessor", shared_params={"space": None, "max_iter": 5}).max_iter
    5
    """
    key = _canonical(name)
    entry = _PREDICTORS[key]
    module, _, attribute = entry.build.partition(":")
    predictor = getattr(import_module(module), attribute)(**entry.arguments)
    settings = _where_set(predictor, shared_params or {}, key, strict=False)
    settings.update(_where_set(predictor, params, key, strict=True))
    if settings:
        predictor.set_params(**settings)
    return predictor


def _canonical(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a predictor name is a str, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    if key not in _PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose from {', '.join(_PREDICTORS)}")
    return key


def _where_set(
    predictor: Any, params: dict[str, Any], name: str, *, strict: bool
) -> dict[str, Any]:
    """``params`` with each plain name replaced by every nested parameter of that name.

    A name the predictor has nowhere raises when ``strict``, else is left out.
    """
    available = predictor.get_params(deep=True)
    expanded: dict[str, Any] = {}
    for key, value in params.items():
        if "__" in key:
            matches = [key] if key in available else []
        else:
            matches = [path for path in available if path.rpartition("__")[2] == key]
        if not matches and strict:
            names = sorted({path.rpartition("__")[2] for path in available})
            raise ValueError(
                f"predictor {name!r} has no parameter {key!r}; its parameters are "
                + ", ".join(names)
            )
        expanded.update(dict.fromkeys(matches, value))
    return expanded
