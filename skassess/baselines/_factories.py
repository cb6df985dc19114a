"""One-call baselines from the NAS predictor literature, as scikit-learn pipelines.

Each factory returns a :class:`~sklearn.pipeline.Pipeline` from cells to a
prediction: an encoder of :mod:`skassess.encoders` (or an embedder) and a
regressor wrapped in :class:`LabeledOnly`, so that rows with a NaN target are
ignored in ``fit`` and the pipeline works with semi-supervised
cross-validation. The encoder (or embedder) is still fitted on every row.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skassess.baselines._label_propagation import LabelPropagationRegressor
from skassess.baselines._labeled_only import LabeledOnly
from skassess.encoders import AdjacencyOpsEncoder, PathEncoder

__all__ = [
    "make_random_forest_predictor",
    "make_mlp_predictor",
    "make_gradient_boosting_predictor",
    "make_embedding_predictor",
    "make_two_stage_predictor",
]

_ENCODERS = {"adjacency": AdjacencyOpsEncoder, "path": PathEncoder}


def _encoder(encoding: Any, space: Any):
    if not isinstance(encoding, str):
        return encoding  # an encoder instance, e.g. PathEncoder(max_path_length=3)
    if encoding not in _ENCODERS:
        raise ValueError(
            f"encoding must be one of {sorted(_ENCODERS)} or an encoder, got {encoding!r}"
        )
    return _ENCODERS[encoding](space=space)


def make_random_forest_predictor(
    space: Any = None,
    *,
    encoding: Any = "adjacency",
    n_estimators: int = 300,
    random_state: Any = None,
    n_jobs: int | None = None,
    **forest_params: Any,
) -> Pipeline:
    """Random forest on flat adjacency and one-hot ops, as in E2EPP.

    Sun, Wang, Xue, Jin, Yen and Zhang, "Surrogate-Assisted Evolutionary Deep
    Learning Using an End-to-End Random Forest-Based Performance Predictor",
    IEEE Transactions on Evolutionary Computation, 2019.

    Parameters
    ----------
    space : CellSpace, optional
        Passed to the encoder; None learns the op vocabulary in ``fit``.
    encoding : {"adjacency", "path"} or transformer, default="adjacency"
        :class:`~skassess.encoders.AdjacencyOpsEncoder` or
        :class:`~skassess.encoders.PathEncoder` (built with ``space``), or an
        encoder instance used as is (``space`` is then ignored).
    n_estimators : int, default=300
        Number of trees.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, optional
        Parallel jobs of the forest.
    **forest_params
        Further :class:`~sklearn.ensemble.RandomForestRegressor` parameters.

    Returns
    -------
    Pipeline
        Steps ``"encode"`` and ``"regress"``.

    Examples
    --------
    >>> from skassess.baselines import make_random_forest_predictor
    >>> make_random_forest_predictor(n_estimators=10).steps[0][0]
    'encode'
    """
    forest = RandomForestRegressor(
        n_estimators=n_estimators, random_state=random_state, n_jobs=n_jobs, **forest_params
    )
    return Pipeline([("encode", _encoder(encoding, space)), ("regress", LabeledOnly(forest))])


def make_mlp_predictor(
    space: Any = None,
    *,
    encoding: Any = "path",
    hidden_layer_sizes: tuple[int, ...] = (20,) * 10,
    learning_rate_init: float = 0.01,
    max_iter: int = 200,
    random_state: Any = None,
    **mlp_params: Any,
) -> Pipeline:
    """Multi-layer perceptron on the path encoding, as in BANANAS.

    White, Neiswanger and Savani, "BANANAS: Bayesian Optimization with Neural
    Architectures for Neural Architecture Search", AAAI 2021: a feed-forward
    network of 10 layers of width 20 on the path encoding, Adam at learning
    rate 0.01 for 200 epochs. Differences: one network (BANANAS averages an
    ensemble of five), squared error (BANANAS uses absolute error), and the
    target standardised before training.

    Parameters
    ----------
    space : CellSpace, optional
        Passed to the encoder; None learns the op vocabulary in ``fit``.
    encoding : {"path", "adjacency"} or transformer, default="path"
        See :func:`make_random_forest_predictor`.
    hidden_layer_sizes, learning_rate_init, max_iter : see MLPRegressor
    random_state : int, RandomState instance or None, default=None
    **mlp_params
        Further :class:`~sklearn.neural_network.MLPRegressor` parameters.

    Returns
    -------
    Pipeline
        Steps ``"encode"`` and ``"regress"``.

    Examples
    --------
    >>> from skassess.baselines import make_mlp_predictor
    >>> make_mlp_predictor(max_iter=5).steps[0][1]
    PathEncoder()
    """
    mlp = MLPRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        learning_rate_init=learning_rate_init,
        max_iter=max_iter,
        random_state=random_state,
        **mlp_params,
    )
    regressor = TransformedTargetRegressor(regressor=mlp, transformer=StandardScaler())
    return Pipeline([("encode", _encoder(encoding, space)), ("regress", LabeledOnly(regressor))])


def make_gradient_boosting_predictor(
    space: Any = None,
    *,
    encoding: Any = "adjacency",
    random_state: Any = None,
    **boosting_params: Any,
) -> Pipeline:
    """Histogram gradient-boosted trees on a cell encoding.

    The gradient-boosting predictors of NASLib (XGBoost, LightGBM; White,
    Zela, Ru, Liu and Hutter, "How Powerful are Performance Predictors in
    Neural Architecture Search?", NeurIPS 2021), with scikit-learn's
    :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.

    Parameters
    ----------
    space : CellSpace, optional
        Passed to the encoder; None learns the op vocabulary in ``fit``.
    encoding : {"adjacency", "path"} or transformer, default="adjacency"
        See :func:`make_random_forest_predictor`.
    random_state : int, RandomState instance or None, default=None
    **boosting_params
        Further :class:`~sklearn.ensemble.HistGradientBoostingRegressor` parameters.

    Returns
    -------
    Pipeline
        Steps ``"encode"`` and ``"regress"``.

    Examples
    --------
    >>> from skassess.baselines import make_gradient_boosting_predictor
    >>> make_gradient_boosting_predictor(encoding="path").steps[0][1]
    PathEncoder()
    """
    boosting = HistGradientBoostingRegressor(random_state=random_state, **boosting_params)
    return Pipeline([("encode", _encoder(encoding, space)), ("regress", LabeledOnly(boosting))])


def make_embedding_predictor(
    embedder: Any = None,
    *,
    method: str = "label_propagation",
    n_neighbors: int = 10,
    random_state: Any = None,
) -> Pipeline:
    """Label propagation or kNN regression on auto-encoder embeddings.

    The semi-supervised part is in the embedding: the embedder (by default a
    :class:`skassess.ArchitectureEmbedder`, the graph auto-encoder of Tang et
    al., "A Semi-Supervised Assessor of Neural Architectures", CVPR 2020) is
    fitted on every cell, labeled or not. The regressor has no neural network:
    either :class:`LabelPropagationRegressor`, which also uses the unlabeled
    cells (Zhu et al., ICML 2003), or a distance-weighted
    :class:`~sklearn.neighbors.KNeighborsRegressor` on the labeled ones, in
    the spirit of arch2vec (Yan et al., "Does Unsupervised Architecture
    Representation Learning Help Neural Architecture Search?", NeurIPS 2020).
    The embeddings are standardised first.

    Parameters
    ----------
    embedder : transformer, optional
        Turns cells into vectors. Default: ``ArchitectureEmbedder(random_state=random_state)``.
    method : {"label_propagation", "knn"}, default="label_propagation"
    n_neighbors : int, default=10
    random_state : int, RandomState instance or None, default=None
        Seeds the default embedder.

    Returns
    -------
    Pipeline
        Steps ``"embed"``, ``"scale"`` and ``"regress"``.

    Examples
    --------
    >>> from skassess.baselines import make_embedding_predictor
    >>> from skassess.encoders import PathEncoder
    >>> make_embedding_predictor(PathEncoder(), method="knn").steps[-1][1]
    LabeledOnly(estimator=KNeighborsRegressor(n_neighbors=10, weights='distance'))
    """
    if method == "label_propagation":
        regressor = LabelPropagationRegressor(n_neighbors=n_neighbors)
    elif method == "knn":
        regressor = LabeledOnly(KNeighborsRegressor(n_neighbors=n_neighbors, weights="distance"))
    else:
        raise ValueError(f"method must be 'label_propagation' or 'knn', got {method!r}")
    if embedder is None:
        embedder = _assessor_module().ArchitectureEmbedder(random_state=random_state)
    return Pipeline([("embed", embedder), ("scale", StandardScaler()), ("regress", regressor)])


def make_two_stage_predictor(space: Any = None, *, random_state: Any = None) -> Pipeline:
    """The semi-supervised assessor in two stages: an embedder, then a GCN on its graph.

    The design of Tang et al., "A Semi-Supervised Assessor of Neural
    Architectures", CVPR 2020: a graph auto-encoder
    (:class:`skassess.ArchitectureEmbedder`) embeds every cell, labeled or not;
    a transductive graph convolutional network
    (:class:`skassess.TransductiveGCNRegressor`) then regresses performance
    over the relation graph of those embeddings. The two stages are trained
    one after the other, where :class:`skassess.SemiSupervisedAssessor` trains
    them jointly.

    The embedder also learns the path encoding of every cell
    (``auxiliary=PathEncoder()``), a feature known without training. With it
    and the embedder's per-label ranking weight, the pipeline ranks at Kendall
    tau 0.609 / 0.756 on NAS-Bench-101 (100 / 1,000 labels), 0.648 on
    NAS-Bench-201 and 0.284 on NAS-Bench-Graph (3 seeds each,
    ``benchmarks/results/bench_assessor.md``), against 0.604 / 0.743, 0.670
    and 0.248 before both, and 0.752 at 1,000 NAS-Bench-101 labels with the
    ranking weight alone. It does not help the assessor
    (``benchmarks/results/bench_pool.md``).

    Parameters
    ----------
    space : CellSpace, optional
        Passed to the embedder; None learns the op vocabulary in ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds both stages.

    Returns
    -------
    Pipeline
        Steps ``"architectureembedder"`` and ``"transductivegcnregressor"``.

    Examples
    --------
    >>> from skassess.baselines import make_two_stage_predictor
    >>> [name for name, _ in make_two_stage_predictor().steps]
    ['architectureembedder', 'transductivegcnregressor']
    """
    assessor = _assessor_module()
    embedder = assessor.ArchitectureEmbedder(
        space=space, auxiliary=PathEncoder(space=space), random_state=random_state
    )
    return make_pipeline(embedder, assessor.TransductiveGCNRegressor(random_state=random_state))


def _assessor_module() -> Any:
    """:mod:`skassess.assessor`, imported on first use (it needs torch)."""
    try:
        return import_module("skassess.assessor")
    except ImportError as exc:
        raise ImportError(
            f"skassess.assessor is not available ({exc}); the default embedder and the "
            "two-stage predictor need it (and torch)"
        ) from exc
