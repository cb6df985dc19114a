"""The Neural Predictor of Wen et al. (2019): a graph network on each cell's own DAG."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skassess._torch import (
    derive_seed,
    make_generator,
    one_torch_thread,
    resolve_device,
    seeded_module,
    to_cpu,
)
from skassess.base import RankingScoreMixin
from skassess.nn import (
    LOSSES,
    CellBatch,
    CellEncoder,
    CellVocabulary,
    encode_in_batches,
    fit_scores,
    mlp,
    rank_preserving_line,
)
from skassess.utils.validation import check_cells, check_partial_targets

__all__ = ["NeuralPredictor"]


class _PredictorNetwork(nn.Module):
    """The cell encoder and an MLP on the cell embedding."""

    def __init__(
        self, n_ops: int, hidden: tuple[int, ...], embedding_dim: int, head: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.encoder = CellEncoder(n_ops, hidden, embedding_dim)
        self.head = mlp(embedding_dim, head)

    def forward(self, batch: CellBatch) -> torch.Tensor:
        return self.head(self.encoder(batch)[1]).squeeze(-1)


class NeuralPredictor(RankingScoreMixin, RegressorMixin, BaseEstimator):
    """Supervised graph network on each architecture's own graph (Wen et al., 2019).

    Each cell is encoded by the directional graph isomorphism network shared
    with :class:`~skassess.assessor.SemiSupervisedAssessor` (messages along and
    against the DAG's edges, mean readout), and a small MLP regresses its
    performance. Only labeled cells are used: rows with a NaN target are
    ignored in ``fit``. This is the strong supervised competitor of the
    semi-supervised assessor.

    Departures from the paper: the encoder is a directional GIN rather than
    a GCN over the averaged forward and backward adjacency (so that it is
    the same encoder as the assessor's, and the comparison isolates the
    relation graph and the unlabeled cells), and ``loss="mse"`` regresses
    Gaussianised ranks of the targets rather than the raw accuracies, whose
    tail of broken cells dominates a squared error. Predictions are mapped
    back to target units by a least-squares line on the training cells.

    Parameters
    ----------
    space : CellSpace, default=None
        Defines the op vocabulary; ``None`` learns it from the fit cells.
    embedding_dim : int, default=32
    hidden_layer_sizes : tuple of int, default=(64, 64, 64)
        Widths of the message-passing layers.
    head_layer_sizes : tuple of int, default=(64,)
        Widths of the MLP on the cell embedding.
    loss : {"mse", "pairwise_logistic", "pairwise_hinge"}, default="mse"
    max_iter : int, default=100
        Epochs.
    batch_size : int, default=128
    learning_rate_init : float, default=2e-3
        Adam's step size, decayed to zero along a cosine.
    alpha : float, default=1e-4
        L2 penalty (Adam weight decay).
    random_state : int, RandomState instance or None, default=None
    device : str, default="cpu"
    verbose : int, default=0

    Attributes
    ----------
    vocabulary_ : CellVocabulary
    network_ : torch.nn.Module
        The trained network, on the CPU.
    n_iter_ : int
    loss_curve_ : list of float

    References
    ----------
    W. Wen, H. Liu, Y. Chen, H. Li, G. Bender, P.-J. Kindermans, "Neural
    Predictor for Neural Architecture Search", ECCV 2020 (arXiv:1912.00848).

    Examples
    --------
    >>> import numpy as np
    >>> from skassess import Cell
    >>> from skassess.baselines import NeuralPredictor
    >>> cells = [Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", op, "output"])
    ...          for op in ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")]
    >>> model = NeuralPredictor(max_iter=2, random_state=0)
    >>> model.fit(cells, [0.93, 0.91, np.nan]).predict(cells).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "space": "no_validation",
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "head_layer_sizes": ["array-like"],
        "loss": [StrOptions(set(LOSSES))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": "no_validation",
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        space: Any = None,
        *,
        embedding_dim: int = 32,
        hidden_layer_sizes: tuple[int, ...] = (64, 64, 64),
        head_layer_sizes: tuple[int, ...] = (64,),
        loss: str = "mse",
        max_iter: int = 100,
        batch_size: int = 128,
        learning_rate_init: float = 2e-3,
        alpha: float = 1e-4,
        random_state: Any = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.space = space
        self.embedding_dim = embedding_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_layer_sizes = head_layer_sizes
        self.loss = loss
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        return tags

    @one_torch_thread
    def fit(self, X: Any, y: Any) -> NeuralPredictor:
        """Train on the labeled cells; cells with a NaN target are ignored.

        Parameters
        ----------
        X : sequence of cells
        y : array-like of shape (n_cells,)

        Returns
        -------
        self
        """
        self._validate_params()
        cells = check_cells(X, self.space, min_cells=2)
        target = check_partial_targets(y, len(cells), min_labeled=2)
        self.vocabulary_ = (  # from every cell given, so unlabeled cells can be predicted
            CellVocabulary.from_cells(cells)
            if self.space is None
            else CellVocabulary.from_space(self.space)
        )
        labeled = np.flatnonzero(~np.isnan(target))
        cells, target = [cells[i] for i in labeled], target[labeled]
        device = resolve_device(self.device)
        arrays = self.vocabulary_.arrays(cells)
        batch = CellBatch(*arrays, len(self.vocabulary_.op_names), device)
        generator = make_generator(derive_seed(check_random_state(self.random_state)))
        network = seeded_module(self._build_network, generator, device)
        self.loss_curve_, _ = fit_scores(
            lambda rows: network(batch[rows]),
            network,
            np.arange(len(cells)),
            target,
            loss=self.loss,
            max_iter=self.max_iter,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate_init,
            alpha=self.alpha,
            generator=generator,
            verbose=self.verbose,
        )
        self.n_iter_ = len(self.loss_curve_)
        self.network_ = network.cpu().eval()
        cpu_batch = CellBatch(*arrays, len(self.vocabulary_.op_names), torch.device("cpu"))
        self._line = rank_preserving_line(self._scores(cpu_batch), target)
        return self

    def _build_network(self) -> _PredictorNetwork:
        hidden = tuple(int(size) for size in self.hidden_layer_sizes)
        head = tuple(int(size) for size in self.head_layer_sizes)
        if not hidden or min(hidden) < 1 or (head and min(head) < 1):
            raise ValueError(
                "hidden_layer_sizes must be a non-empty tuple of positive ints and "
                "head_layer_sizes a tuple of positive ints"
            )
        return _PredictorNetwork(len(self.vocabulary_.op_names), hidden, self.embedding_dim, head)

    def _scores(self, batch: CellBatch) -> np.ndarray:
        network = self.network_
        embeddings = encode_in_batches(network.encoder, batch, 4096)
        with torch.no_grad():
            return network.head(embeddings).squeeze(-1).numpy().astype(np.float64)

    @one_torch_thread
    def predict(self, X: Any) -> np.ndarray:
        """Predict the performance of cells.

        Parameters
        ----------
        X : sequence of cells

        Returns
        -------
        ndarray of shape (n_cells,)
        """
        check_is_fitted(self)
        cells = check_cells(X, self.space)
        arrays = self.vocabulary_.arrays(cells)
        batch = CellBatch(*arrays, len(self.vocabulary_.op_names), torch.device("cpu"))
        slope, intercept = self._line
        return slope * self._scores(batch) + intercept

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "network_" in state:
            state["network_"] = to_cpu(state["network_"].state_dict())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.get("network_")
        self.__dict__.update(state)
        if isinstance(weights, dict):
            network = self._build_network()
            network.load_state_dict(weights)
            self.network_ = network.eval()
