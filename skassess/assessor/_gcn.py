"""A graph convolutional regressor on a kNN relation graph over its rows, semi-supervised.

The regressor half of Tang et al. (CVPR 2020): the rows (architecture
embeddings) become the nodes of a relation graph (:class:`~skassess.nn.RelationGraph`),
and a graph convolution (:class:`~skassess.nn.GraphConvHead`) scores every row
from itself and its neighbours. It is trained on the labeled rows while every
row, labeled or not, is a node: unlabeled rows shape the predictions as
neighbours (transductive learning). The same head and loss are the last stage
of :class:`~skassess.SemiSupervisedAssessor`, which fine-tunes them together
with the cell encoder.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skassess._torch import (
    derive_seed,
    make_generator,
    one_torch_thread,
    resolve_device,
    seeded_module,
)
from skassess.base import RankingScoreMixin
from skassess.neighbors import ALGORITHMS
from skassess.nn import (
    LOSSES,
    EarlyStopping,
    GraphConvHead,
    RelationGraph,
    fit_scores,
    rank_preserving_line,
    validation_split,
)
from skassess.utils.tags import mark_uses_unlabeled
from skassess.utils.validation import check_not_cells

__all__ = ["TransductiveGCNRegressor"]

# Rows scored at a time in predict and for transduction_: bounds the memory.
_SCORE_CHUNK = 8192


class TransductiveGCNRegressor(RankingScoreMixin, RegressorMixin, BaseEstimator):
    """Graph convolution on a kNN relation graph over the rows, semi-supervised.

    ``fit`` links every row to its ``n_neighbors`` nearest rows (Euclidean;
    found exactly, or nearly so by an inverted file on large inputs: see
    ``algorithm``) with Gaussian weights ``exp(-d ** 2 / (2 * sigma ** 2))``,
    where ``sigma`` is ``kernel_width`` times the mean neighbour distance of
    the labeled rows. A row's score is an MLP of its features beside the
    weighted mean of its own and its neighbours' features (a one-hop graph
    convolution with separate weights for the row and its neighbourhood, as
    GraphConv of Morris et al., AAAI 2019), trained with Adam on minibatches
    of labeled rows. Rows whose target is ``np.nan`` are unlabeled: they are
    nodes of the graph, so they carry information to the labeled rows near
    them, but have no loss term. Without NaN targets this is plain supervised
    regression on a kNN graph.

    The default loss ranks: NAS needs the order of architectures, and the
    pairwise loss ignores the long tail of broken ones that dominates a
    squared error. Scores are mapped to target units by a least-squares line
    on the labeled rows, which keeps their order.

    ``transduction_`` holds the predictions for the training rows. ``predict``
    is inductive and row-independent: each new row is attached to its
    ``n_neighbors`` nearest training rows on its own.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per row in the relation graph (fewer when there are fewer
        other rows).
    kernel_width : float, default=0.25
        Gaussian kernel width as a multiple of the mean neighbour distance.
        Small values weaken the edges (0.25 makes most of them faint, which
        suited NAS-Bench-101 embeddings, whose neighbours often perform
        unalike); 1.0 smooths strongly over neighbours.
    distance_threshold : float, default=None
        Edges longer than this get weight 0.
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Widths of the MLP's hidden layers; ``()`` gives a linear score of the
        row and its neighbourhood.
    dropout : float, default=0.1
        Dropout after each hidden layer during training.
    loss : {"pairwise_logistic", "pairwise_hinge", "mse"}, default="pairwise_logistic"
        ``"pairwise_logistic"`` (``log(1 + exp(-(f_i - f_j)))``) or
        ``"pairwise_hinge"`` (``max(0, 1 - (f_i - f_j))``) over the pairs of a
        minibatch with ``y_i > y_j``, or the squared error on Gaussianised
        ranks of the targets.
    alpha : float, default=1e-4
        L2 penalty (Adam weight decay).
    batch_size : int, default=64
        Labeled rows per step.
    learning_rate_init : float, default=0.01
        Adam's step size; it decays to zero along a cosine.
    max_iter : int, default=100
        Maximum number of epochs over the labeled rows.
    tol : float, default=1e-4
        Training stops when the epoch loss (or the validation score, with early
        stopping) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows (they stay in the
        graph as unlabeled nodes), stop when their Kendall tau stops improving
        and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out for early stopping.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        Nearest-neighbour search of the graph and of ``predict``: exact,
        an inverted-file index (approximate: it found 98-99.7% of the exact
        neighbours of NAS-Bench-101 embeddings, from 5,000 rows to all
        423,624, in a small fraction of the time), or ``"auto"``: exact up to
        5,000 training rows, the inverted file beyond. See
        :func:`skassess.neighbors.neighbor_index`.
    block_size : int, default=2048
        Rows per tile of the exact nearest-neighbour search.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the graph is built and the network trained. The fitted model is
        kept on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, dropout, batch order and validation split
        (through generators owned by the fit).
    verbose : bool, default=False
        Print the loss of every epoch.

    Attributes
    ----------
    transduction_ : ndarray of shape (n_samples,)
        Predictions for the training rows (labeled and unlabeled).
    labeled_mask_ : ndarray of shape (n_samples,), dtype bool
        Which training rows had a target.
    graph_ : RelationGraph
        The relation graph over the training rows (its ``indices_``,
        ``weights_``, ``bandwidth_`` and ``n_neighbors_``), on the CPU.
    head_ : GraphConvHead
        The trained network (torch module, on the CPU).
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    validation_scores_ : list of float or None
        Validation Kendall tau of each epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best of ``validation_scores_``, else None.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    ArchitectureEmbedder : The first stage, cells to embeddings.
    SemiSupervisedAssessor : Both stages, fine-tuned together end to end.
    sklearn.semi_supervised.LabelSpreading : transductive label propagation
        for classification.

    References
    ----------
    Y. Tang et al., "A Semi-Supervised Assessor of Neural Architectures",
    CVPR 2020. C. Morris et al., "Weisfeiler and Leman Go Neural: Higher-order
    Graph Neural Networks", AAAI 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skassess.assessor import TransductiveGCNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(60, 2))
    >>> y = X.sum(axis=1)
    >>> y[20:] = np.nan  # 20 labeled rows, 40 unlabeled
    >>> model = TransductiveGCNRegressor(n_neighbors=5, random_state=0)
    >>> model = model.fit(X, y)
    >>> model.transduction_.shape, int(model.labeled_mask_.sum())
    ((60,), 20)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "kernel_width": [Interval(Real, 0, None, closed="neither")],
        "distance_threshold": [None, Interval(Real, 0, None, closed="left")],
        "hidden_layer_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions(set(LOSSES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "device": "no_validation",
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_neighbors: int = 10,
        *,
        kernel_width: float = 0.25,
        distance_threshold: float | None = None,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        dropout: float = 0.1,
        loss: str = "pairwise_logistic",
        alpha: float = 1e-4,
        batch_size: int = 64,
        learning_rate_init: float = 0.01,
        max_iter: int = 100,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        algorithm: str = "auto",
        block_size: int = 2048,
        device: str | torch.device = "cpu",
        random_state: int | np.random.RandomState | None = None,
        verbose: bool = False,
    ):
        self.n_neighbors = n_neighbors
        self.kernel_width = kernel_width
        self.distance_threshold = distance_threshold
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.loss = loss
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.algorithm = algorithm
        self.block_size = block_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        return mark_uses_unlabeled(super().__sklearn_tags__())

    # ------------------------------------------------------------------ fit

    @one_torch_thread
    def fit(self, X: ArrayLike, y: ArrayLike) -> TransductiveGCNRegressor:
        """Build the relation graph over all rows and train the graph convolution.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            All rows, labeled and unlabeled.
        y : array-like of shape (n_samples,)
            Targets, ``np.nan`` for unlabeled rows.

        Returns
        -------
        self : TransductiveGCNRegressor
            The fitted regressor.
        """
        self._validate_params()
        check_not_cells(X, self)
        X, y = validate_data(
            self,
            X,
            y,
            validate_separately=(
                {"dtype": [np.float64, np.float32]},
                {"ensure_2d": False, "ensure_all_finite": "allow-nan", "dtype": np.float64},
            ),
        )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        labeled = np.flatnonzero(~np.isnan(y))
        self._check_enough_labels(y[labeled])
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = derive_seed(rng)
        generator = make_generator(seed)
        train_rows, validation_rows = labeled, labeled[:0]
        if self.early_stopping:
            min_train = 1 if self.loss == "mse" else 2
            train_rows, validation_rows = validation_split(
                labeled, self.validation_fraction, rng, min_train=min_train
            )
        if self.loss != "mse" and np.ptp(y[train_rows]) == 0:
            raise ValueError(
                f"loss={self.loss!r} learns from pairs of labeled samples with different "
                "targets, but all labeled targets used for training are equal"
            )
        graph = self.relation_graph(device, seed).fit(X, reference_rows=train_rows)
        head = self.make_head(X.shape[1], generator, device)
        embeddings = graph.embeddings_
        curve, stopper = self.train_head(
            head,
            lambda rows: head(embeddings[rows], *graph.neighbourhood(rows)),
            train_rows,
            y,
            generator,
            validation_rows,
        )
        validation = stopper if len(validation_rows) else None
        return self.set_fitted(head, graph, y, train_rows, curve, validation)

    def relation_graph(self, device: torch.device, seed: int) -> RelationGraph:
        """An unfitted :class:`~skassess.nn.RelationGraph` with this regressor's settings."""
        return RelationGraph(
            self.n_neighbors,
            kernel_width=self.kernel_width,
            distance_threshold=self.distance_threshold,
            algorithm=self.algorithm,
            block_size=self.block_size,
            device=device,
            random_state=seed,
        )

    def make_head(
        self, n_features: int, generator: torch.Generator, device: torch.device
    ) -> GraphConvHead:
        """A freshly initialised :class:`~skassess.nn.GraphConvHead` with these settings."""
        sizes = self.hidden_layer_sizes
        sizes = tuple(sizes) if hasattr(sizes, "__iter__") else (sizes,)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a sequence of them, got "
                f"{self.hidden_layer_sizes!r}"
            )
        return seeded_module(
            lambda: GraphConvHead(n_features, sizes, float(self.dropout)), generator, device
        )

    def train_head(
        self,
        network: torch.nn.Module,
        score,
        train_rows: np.ndarray,
        y: np.ndarray,
        generator: torch.Generator,
        validation_rows: np.ndarray,
        **options,
    ):
        """Train ``network`` with this regressor's loss and schedule.

        ``score(rows)`` scores training rows; ``options`` override the
        schedule (the assessor's fine-tuning runs its own number of epochs).
        See :func:`skassess.nn.fit_scores`.
        """
        schedule = {
            "loss": self.loss,
            "max_iter": self.max_iter,
            "batch_size": self.batch_size,
            "learning_rate_init": self.learning_rate_init,
            "alpha": self.alpha,
            "n_iter_no_change": self.n_iter_no_change,
            "tol": self.tol,
            "verbose": self.verbose,
            **options,
        }
        validation = None
        if len(validation_rows):
            validation = (validation_rows, y[validation_rows])
        return fit_scores(
            score,
            network,
            train_rows,
            y[train_rows],
            generator=generator,
            validation=validation,
            **schedule,
        )

    def set_fitted(
        self,
        head: GraphConvHead,
        graph: RelationGraph,
        y: np.ndarray,
        train_rows: np.ndarray,
        loss_curve: list[float],
        validation: EarlyStopping | None = None,
    ) -> TransductiveGCNRegressor:
        """Keep a trained head and its graph over every training row; score those rows.

        Used by :meth:`fit`, and by :class:`~skassess.SemiSupervisedAssessor`,
        which trains the head together with the cell encoder (the graph is then
        over the trained encoder's embeddings).
        """
        self.head_ = head.cpu().eval()
        self.graph_ = graph.cpu()
        self.n_features_in_ = int(graph.embeddings_.shape[1])
        self.loss_curve_, self.n_iter_ = loss_curve, len(loss_curve)
        self.validation_scores_ = None if validation is None else validation.scores
        self.best_validation_score_ = None if validation is None else validation.best_score
        rows = torch.arange(len(y))
        raw = np.concatenate(
            [
                self._raw_scores(self.graph_.embeddings_[part], *self.graph_.neighbourhood(part))
                for part in rows.split(_SCORE_CHUNK)
            ]
        )
        self._line = rank_preserving_line(raw[train_rows], y[train_rows])
        self.transduction_ = self._line[0] * raw + self._line[1]
        self.labeled_mask_ = ~np.isnan(y)
        return self

    def _check_enough_labels(self, labeled_y: np.ndarray) -> None:
        needed = 1 if self.loss == "mse" else 2
        if len(labeled_y) == 0:
            raise ValueError(
                "y has no labeled samples: every target is NaN (NaN marks an unlabeled "
                f"row); {type(self).__name__} needs at least {needed}"
            )
        if self.early_stopping:
            needed = 2 * needed + int(self.loss == "mse")
        if len(labeled_y) < needed:
            raise ValueError(
                f"{type(self).__name__} with loss={self.loss!r}"
                f"{' and early_stopping=True' if self.early_stopping else ''} needs at "
                f"least {needed} labeled samples, but y has {len(labeled_y)} "
                f"sample{'' if len(labeled_y) == 1 else 's'} with a target"
            )

    # -------------------------------------------------------------- predict

    def _raw_scores(
        self, embedding: torch.Tensor, neighbours: torch.Tensor, weights: torch.Tensor
    ) -> np.ndarray:
        """Uncalibrated scores, in float64 so that a row's score never depends on its batch."""
        head = copy.deepcopy(self.head_).double()
        with torch.no_grad():
            return head(embedding.double(), neighbours.double(), weights.double()).numpy()

    @one_torch_thread
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict new rows, each attached on its own to the training graph.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New rows.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions; a row's prediction does not depend on the other rows.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        predictions = np.empty(len(X))
        for start in range(0, len(X), _SCORE_CHUNK):
            part = torch.as_tensor(X[start : start + _SCORE_CHUNK], dtype=torch.float32)
            raw = self._raw_scores(part, *self.graph_.attach(part))
            predictions[start : start + len(part)] = self._line[0] * raw + self._line[1]
        return predictions

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "head_")
