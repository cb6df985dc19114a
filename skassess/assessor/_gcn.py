"""A graph convolutional network regressor on a kNN relation graph over its rows.

The regressor half of Tang et al. (CVPR 2020): the rows (architecture
embeddings) become the nodes of a k-nearest-neighbour graph with Gaussian edge
weights, and a graph convolutional network (Kipf & Welling, ICLR 2017) is
trained on the labeled nodes while propagating over all of them, so unlabeled
rows shape the predictions through the graph (transductive learning).
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.stats import kendalltau
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
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
    private_rng,
    resolve_device,
)
from skassess.assessor._graph import (
    ALGORITHMS,
    adjacency_matrix,
    degrees,
    kernel_bandwidth,
    kernel_weights,
    neighbor_index,
    normalized_adjacency,
    to_torch_sparse,
)
from skassess.baselines._labeled_only import labeled_r2_score

__all__ = ["TransductiveGCNRegressor"]

_LOSSES = ("mse", "pairwise_logistic", "pairwise_hinge")
# A ranking loss uses every ordered pair of labeled rows while there are at most
# this many pairs, and this many random pairs per epoch beyond.
_MAX_PAIRS = 2**18


class TransductiveGCNRegressor(RegressorMixin, BaseEstimator):
    """Graph convolutional network on a kNN graph over the rows, semi-supervised.

    ``fit`` connects every row to its ``n_neighbors`` nearest rows (Euclidean;
    found exactly, or nearly so by an inverted file on large inputs: see
    ``algorithm``) with Gaussian weights ``exp(-d ** 2 / (2 * sigma ** 2))``, where ``sigma``
    is ``kernel_width`` times the mean neighbour distance, symmetrises the
    graph, adds self-loops and normalises it, ``A_hat = D^-1/2 (A + I) D^-1/2``.
    A GCN, layers ``H' = relu(A_hat H W + b)`` and a linear last layer
    (Kipf & Welling, 2017), is then trained full-batch with Adam on the
    labeled rows. Rows whose target is ``np.nan`` are unlabeled: they are
    nodes of the graph, so they carry information between labeled rows, but
    have no loss term. Without NaN targets this is plain supervised
    regression on a kNN graph.

    ``transduction_`` holds the predictions for the training rows. ``predict``
    is inductive and row-independent: each new row is attached to its
    ``n_neighbors`` nearest training rows and passed through the network,
    aggregating at every layer over its own representation and its
    neighbours' fixed training-graph representations.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per row in the relation graph (fewer when there are fewer
        other rows).
    kernel_width : float, default=0.25
        Gaussian kernel width as a multiple of the mean neighbour distance.
        Small values weaken the edges (0.25 makes them nearly vanish); 1.0
        smooths strongly over neighbours, which suits data whose target varies
        smoothly along a manifold.
    distance_threshold : float, default=None
        Edges longer than this are dropped.
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Widths of the hidden GCN layers; ``()`` gives a single linear layer
        ``A_hat X w + b``.
    dropout : float, default=0.1
        Dropout rate on the hidden representations during training.
    loss : {"mse", "pairwise_logistic", "pairwise_hinge"}, default="pairwise_logistic"
        ``"mse"``: squared error on the standardised target, as in Tang et
        al. (2020). The pairwise
        losses train the ranking of labeled pairs (``log(1 + exp(-(f_i - f_j)))``
        or ``max(0, 1 - (f_i - f_j))`` for ``y_i > y_j``); their outputs are
        then mapped to the target's mean and spread on the labeled rows, so
        only their order is meaningful.
    alpha : float, default=5e-4
        L2 penalty ``alpha / 2 * sum ||W||^2`` on the weight matrices.
    learning_rate_init : float, default=0.01
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs (full-batch gradient steps).
    tol : float, default=1e-4
        Training stops when the loss (or the validation score, with early
        stopping) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows (they stay in the
        graph as unlabeled nodes), stop when their score stops improving and
        keep the weights of the best epoch. The score is R^2 for ``"mse"`` and
        Kendall's tau for the pairwise losses.
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out for early stopping.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        Nearest-neighbour search of the graph and of ``predict``: exact and
        blockwise, an inverted-file index (approximate: it found 98-99.7% of the
        exact neighbours of NAS-Bench-101 embeddings, from 5,000 rows to all
        423,624, in a small fraction of the time), or ``"auto"``:
        exact up to 5,000 training rows, the inverted file beyond. See
        :func:`skassess.assessor.neighbor_index`.
    block_size : int, default=2048
        Rows per tile of the nearest-neighbour search.
    batch_size : int, default=4096
        Rows predicted at a time, bounding the memory of ``predict``.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the graph is built and the network trained. The fitted model is
        always kept on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, dropout, pair sampling and validation split.
    verbose : bool, default=False
        Print the loss every tenth of ``max_iter`` epochs.

    Attributes
    ----------
    transduction_ : ndarray of shape (n_samples,)
        Predictions for the training rows (labeled and unlabeled).
    labeled_mask_ : ndarray of shape (n_samples,), dtype bool
        Which training rows had a target.
    graph_ : scipy.sparse.csr_array of shape (n_samples, n_samples)
        The normalised propagation matrix ``D^-1/2 (A + I) D^-1/2``.
    n_neighbors_ : int
        Neighbours per row actually used.
    bandwidth_ : float
        The kernel's ``sigma``.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (in, out), float32.
    intercepts_ : list of ndarray
        Bias vectors, float32.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Training loss (penalty included) at each epoch.
    validation_scores_ : list of float or None
        Validation score at each epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best of ``validation_scores_``, else None.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    sklearn.semi_supervised.LabelSpreading : transductive label propagation
        for classification.
    sklearn.neural_network.MLPRegressor : the same network without a graph.

    References
    ----------
    Y. Tang et al., "A Semi-Supervised Assessor of Neural Architectures",
    CVPR 2020. T. N. Kipf and M. Welling, "Semi-Supervised Classification with
    Graph Convolutional Networks", ICLR 2017.

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

    def __init__(
        self,
        n_neighbors: int = 10,
        *,
        kernel_width: float = 0.25,
        distance_threshold: float | None = None,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        dropout: float = 0.1,
        loss: str = "pairwise_logistic",
        alpha: float = 5e-4,
        learning_rate_init: float = 0.01,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        algorithm: str = "auto",
        block_size: int = 2048,
        batch_size: int = 4096,
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
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.algorithm = algorithm
        self.block_size = block_size
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    @one_torch_thread
    def fit(self, X: ArrayLike, y: ArrayLike) -> TransductiveGCNRegressor:
        """Build the relation graph over all rows and train the GCN.

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
        labeled_mask = ~np.isnan(y)
        self._check_enough_labels(y[labeled_mask])
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = derive_seed(rng)
        train_index, validation_index = self._split_labeled(np.flatnonzero(labeled_mask), rng)
        if self.loss != "mse" and np.ptp(y[train_index]) == 0:
            raise ValueError(
                f"loss={self.loss!r} learns from pairs of labeled samples with different "
                "targets, but all labeled targets used for training are equal"
            )

        self._fit_X = np.asarray(X, dtype=np.float64)
        self._build_graph(self._fit_X, device, seed)
        y_mean = float(y[train_index].mean())
        y_scale = float(y[train_index].std()) or 1.0
        target = np.where(labeled_mask, (y - y_mean) / y_scale, 0.0)
        self._train_network(target, train_index, validation_index, seed, device)

        _, raw = self._training_representations()
        if self.loss == "mse":
            self._output_scale, self._output_offset = y_scale, y_mean
        else:
            self._output_scale, self._output_offset = _moment_match(
                raw[train_index], y[train_index]
            )
        self.transduction_ = raw * self._output_scale + self._output_offset
        self.labeled_mask_ = labeled_mask
        self._validation_index = validation_index
        return self

    def _validate_params(self) -> None:
        _check_int(self.n_neighbors, "n_neighbors", minimum=1)
        _check_real(self.kernel_width, "kernel_width", low=0.0, low_open=True)
        if self.distance_threshold is not None:
            _check_real(self.distance_threshold, "distance_threshold", low=0.0)
        sizes = self._hidden_sizes()
        if not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a sequence of them, got "
                f"{self.hidden_layer_sizes!r}"
            )
        _check_real(self.dropout, "dropout", low=0.0, high=1.0, high_open=True)
        if self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {self.loss!r}")
        _check_real(self.alpha, "alpha", low=0.0)
        _check_real(self.learning_rate_init, "learning_rate_init", low=0.0, low_open=True)
        _check_int(self.max_iter, "max_iter", minimum=1)
        _check_real(self.tol, "tol", low=0.0)
        _check_int(self.n_iter_no_change, "n_iter_no_change", minimum=1)
        _check_real(
            self.validation_fraction,
            "validation_fraction",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        )
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        _check_int(self.block_size, "block_size", minimum=1)
        _check_int(self.batch_size, "batch_size", minimum=1)

    def _hidden_sizes(self) -> tuple:
        sizes = self.hidden_layer_sizes
        return tuple(sizes) if hasattr(sizes, "__iter__") else (sizes,)

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

    def _split_labeled(
        self, labeled_index: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation rows, both drawn from the labeled rows only."""
        if not self.early_stopping:
            return labeled_index, labeled_index[:0]
        min_train = 1 if self.loss == "mse" else 2
        n_validation = math.ceil(self.validation_fraction * len(labeled_index))
        n_validation = min(max(n_validation, 2), len(labeled_index) - min_train)
        shuffled = rng.permutation(labeled_index)
        return np.sort(shuffled[n_validation:]), np.sort(shuffled[:n_validation])

    def _build_graph(self, X: np.ndarray, device: torch.device, seed: int) -> None:
        self.n_neighbors_ = min(self.n_neighbors, len(X) - 1)
        # kept for predict, which attaches new rows to the same rows
        self._neighbors = neighbor_index(
            X,
            algorithm=self.algorithm,
            block_size=self.block_size,
            device=device,
            random_state=seed,
        )
        indices, distances = self._neighbors.kneighbors(n_neighbors=self.n_neighbors_)
        self.bandwidth_ = kernel_bandwidth(distances, self.kernel_width)
        weights = kernel_weights(
            distances, self.bandwidth_, distance_threshold=self.distance_threshold
        )
        adjacency = adjacency_matrix(indices, weights)
        self._degree = degrees(adjacency)
        self.graph_ = normalized_adjacency(adjacency)

    def _train_network(
        self,
        target: np.ndarray,
        train_index: np.ndarray,
        validation_index: np.ndarray,
        seed: int,
        device: torch.device,
    ) -> None:
        """Full-batch training; sets the weights and the training curves."""
        graph = to_torch_sparse(self.graph_, device=device)
        features = torch.as_tensor(self.graph_ @ self._fit_X, dtype=torch.float32, device=device)
        target = torch.as_tensor(target, dtype=torch.float32, device=device)
        train_index = torch.as_tensor(train_index, device=device)
        with private_rng(seed, device):
            network = _GCN(self._fit_X.shape[1], self._hidden_sizes(), 1, self.dropout)
            network.to(device)
            optimizer = _Adam(list(network.parameters()), lr=self.learning_rate_init)
            pairs = _PairSampler(target, train_index, make_generator(seed, device))
            self.loss_curve_ = []
            self.validation_scores_ = [] if self.early_stopping else None
            best, best_state, epochs_without_improvement = -np.inf, None, 0
            for epoch in range(self.max_iter):
                network.train()
                optimizer.zero_grad()
                output = network(features, graph)
                loss = self._data_loss(output, target, train_index, pairs)
                loss = loss + 0.5 * self.alpha * network.weight_norm()
                loss.backward()
                optimizer.step()
                self.loss_curve_.append(float(loss.detach()))
                if self.early_stopping:
                    score = self._validation_score(
                        network, features, graph, target, validation_index
                    )
                    self.validation_scores_.append(score)
                else:
                    score = -self.loss_curve_[-1]
                if score > best + self.tol:
                    epochs_without_improvement = 0
                else:
                    epochs_without_improvement += 1
                if score > best:
                    best = score
                    if self.early_stopping:
                        best_state = {
                            k: v.detach().clone() for k, v in network.state_dict().items()
                        }
                self._report(epoch)
                if epochs_without_improvement >= self.n_iter_no_change:
                    break
            else:
                warnings.warn(
                    f"{type(self).__name__} stopped after max_iter={self.max_iter} "
                    "epochs without converging; increase max_iter",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        self.n_iter_ = epoch + 1
        if self.early_stopping:
            network.load_state_dict(best_state)
            self.best_validation_score_ = float(best)
        else:
            self.best_validation_score_ = None
        self.coefs_, self.intercepts_ = network.numpy_weights()

    def _data_loss(
        self,
        output: torch.Tensor,
        target: torch.Tensor,
        train_index: torch.Tensor,
        pairs: _PairSampler,
    ) -> torch.Tensor:
        if self.loss == "mse":
            return torch.mean((output[train_index] - target[train_index]) ** 2)
        higher, lower = pairs.sample()
        margin = output[higher] - output[lower]
        if self.loss == "pairwise_logistic":
            return torch.nn.functional.softplus(-margin).mean()
        return torch.relu(1.0 - margin).mean()

    def _validation_score(self, network, features, graph, target, validation_index) -> float:
        network.eval()
        with torch.no_grad():
            output = network(features, graph)[validation_index].double().cpu().numpy()
        truth = target[validation_index].double().cpu().numpy()
        if self.loss == "mse":
            return float(r2_score(truth, output))
        tau = kendalltau(truth, output).statistic
        return 0.0 if np.isnan(tau) else float(tau)

    def _report(self, epoch: int) -> None:
        if not self.verbose:
            return
        every = max(1, self.max_iter // 10)
        if (epoch + 1) % every == 0 or epoch == 0:
            message = f"Epoch {epoch + 1}/{self.max_iter}, loss = {self.loss_curve_[-1]:.6f}"
            if self.early_stopping:
                message += f", validation score = {self.validation_scores_[-1]:.4f}"
            print(message)

    # -------------------------------------------------------------- predict

    def _training_representations(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Every layer's input on the training graph, and the raw output (float64).

        The network in evaluation mode (no dropout), computed in float64 with
        the stored weights, so ``transduction_`` and ``predict`` agree with
        each other to float64 precision.
        """
        graph = self.graph_.astype(np.float64)
        inputs = [self._fit_X]
        hidden = self._fit_X
        for layer, (coef, intercept) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            if layer > 0:
                hidden = np.maximum(hidden, 0.0)
                inputs.append(hidden)
            hidden = graph @ (hidden @ coef.astype(np.float64)) + intercept
        return inputs, hidden[:, 0]

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
        X = np.asarray(X, dtype=np.float64)
        # a model fitted on a GPU still predicts on a machine without one
        device = resolve_device(self.device) if torch.cuda.is_available() else torch.device("cpu")
        self._neighbors.device = device  # where this machine can search
        inputs, _ = self._training_representations()
        predictions = np.empty(len(X))
        for start in range(0, len(X), self.batch_size):
            batch = X[start : start + self.batch_size]
            predictions[start : start + len(batch)] = self._predict_batch(batch, inputs)
        return predictions * self._output_scale + self._output_offset

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """R^2 of the predictions on the labeled rows; rows whose target is NaN are ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True targets, NaN for unlabeled rows.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        return labeled_r2_score(self, X, y, sample_weight)

    def _predict_batch(self, X: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        """Raw outputs of new rows, by one-hop attachment at every layer.

        A new row ``v`` with neighbours ``j`` (kernel weights ``w_vj``) gets
        the degree ``d_v = 1 + sum_j w_vj``, the self weight ``1 / d_v`` and
        neighbour weights ``w_vj / sqrt(d_v d_j)``, with ``d_j`` the training
        degree: its row of ``D^-1/2 (A + I) D^-1/2`` had it been in the graph,
        leaving the training rows unchanged.
        """
        neighbors, distances = self._neighbors.kneighbors(X, self.n_neighbors_)
        weights = kernel_weights(
            distances, self.bandwidth_, distance_threshold=self.distance_threshold
        ).astype(np.float64)
        degree = 1.0 + weights.sum(axis=1)
        self_weight = 1.0 / degree
        neighbor_weight = weights / np.sqrt(degree[:, None] * self._degree[neighbors])
        hidden = X
        for layer, (coef, intercept) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            if layer > 0:
                hidden = np.maximum(hidden, 0.0)
            aggregated = self_weight[:, None] * hidden + np.einsum(
                "ik,ikf->if", neighbor_weight, inputs[layer][neighbors]
            )
            hidden = aggregated @ coef.astype(np.float64) + intercept
        return hidden[:, 0]


class _GCN(torch.nn.Module):
    """GCN layers ``A_hat H W + b`` with ReLU and dropout between them.

    ``forward`` takes the first layer's input already propagated
    (``A_hat X``, which is constant during training) and propagates each later
    layer after its matrix product, the cheaper order when layers narrow.
    """

    def __init__(self, n_features: int, hidden: tuple[int, ...], n_outputs: int, dropout: float):
        super().__init__()
        sizes = (n_features, *hidden, n_outputs)
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(n_in, n_out) for n_in, n_out in itertools.pairwise(sizes)
        )
        for layer in self.layers:  # Glorot initialisation, as Kipf & Welling
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, propagated_features: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        hidden = self.layers[0](propagated_features)
        for layer in self.layers[1:]:
            hidden = self.dropout(torch.relu(hidden))
            hidden = _SymmetricPropagation.apply(graph, hidden @ layer.weight.T) + layer.bias
        return hidden[:, 0]

    def weight_norm(self) -> torch.Tensor:
        return sum((layer.weight**2).sum() for layer in self.layers)

    def numpy_weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        coefs = [layer.weight.detach().cpu().numpy().T.copy() for layer in self.layers]
        intercepts = [layer.bias.detach().cpu().numpy().copy() for layer in self.layers]
        return coefs, intercepts


class _Adam:
    """Adam (Kingma & Ba, ICLR 2015) with the default betas, written out.

    Equivalent to :class:`torch.optim.Adam` without weight decay; it exists
    because the first use of ``torch.optim`` imports ``torch._dynamo``, which
    takes several seconds, longer than fitting a small model.
    """

    def __init__(self, params: list[torch.nn.Parameter], lr: float):
        self.params, self.lr = params, lr
        self.betas, self.eps, self.n_steps = (0.9, 0.999), 1e-8, 0
        self.first = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params]

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.n_steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.n_steps)
        correction2 = 1 - beta2**self.n_steps
        for param, first, second in zip(self.params, self.first, self.second, strict=True):
            if param.grad is None:
                continue
            first.mul_(beta1).add_(param.grad, alpha=1 - beta1)
            second.mul_(beta2).addcmul_(param.grad, param.grad, value=1 - beta2)
            denominator = (second / correction2).sqrt_().add_(self.eps)
            param.addcdiv_(first, denominator, value=-step_size)


class _SymmetricPropagation(torch.autograd.Function):
    """``graph @ hidden`` for a symmetric sparse graph; the gradient is ``graph @ grad``.

    Using the symmetry avoids a transposed sparse product in the backward
    pass, which keeps it deterministic.
    """

    @staticmethod
    def forward(ctx, graph: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        ctx.graph = graph
        return torch.sparse.mm(graph, hidden)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, torch.sparse.mm(ctx.graph, grad)


class _PairSampler:
    """Ordered pairs ``(higher, lower)`` of training rows with different targets."""

    def __init__(self, target: torch.Tensor, train_index: torch.Tensor, generator):
        self.target = target
        self.train_index = train_index
        self.generator = generator
        self._all = None
        n = len(train_index)
        if n * (n - 1) // 2 <= _MAX_PAIRS:
            first, second = torch.triu_indices(n, n, offset=1, device=target.device)
            self._all = self._orient(train_index[first], train_index[second])

    def _orient(self, first: torch.Tensor, second: torch.Tensor):
        difference = self.target[first] - self.target[second]
        keep = difference != 0
        first, second, difference = first[keep], second[keep], difference[keep]
        higher = torch.where(difference > 0, first, second)
        lower = torch.where(difference > 0, second, first)
        return higher, lower

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._all is not None:
            return self._all
        n, device = len(self.train_index), self.target.device
        picks = torch.randint(n, (2, _MAX_PAIRS), generator=self.generator, device=device)
        return self._orient(self.train_index[picks[0]], self.train_index[picks[1]])


def _moment_match(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Scale and offset giving ``raw`` the mean and spread of ``y`` (order kept)."""
    raw_scale = raw.std()
    scale = float(y.std() / raw_scale) if raw_scale > 0 else 1.0
    return scale, float(y.mean() - scale * raw.mean())


def _check_int(value, name: str, *, minimum: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a real number in {interval}, got {value!r}")
