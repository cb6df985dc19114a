"""Unsupervised embedding of architectures with a graph auto-encoder."""

from __future__ import annotations

import copy
import time
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skassess._torch import derive_seed, one_torch_thread, private_rng, resolve_device
from skassess.assessor._cell_encoder import (
    CellBatch,
    CellDecoder,
    CellEncoder,
    CellVocabulary,
    encode_in_batches,
    reconstruction_accuracy,
    reconstruction_loss,
)
from skassess.assessor._inputs import check_cells

__all__ = ["ArchitectureEmbedder"]


class ArchitectureEmbedder(TransformerMixin, BaseEstimator):
    """Embed architectures as fixed-size vectors with a graph auto-encoder.

    The encoder is a directional graph isomorphism network over each cell's
    DAG (messages flow along and against the edges); a cell's embedding is the
    mean of its vertex latents. The decoder rebuilds the adjacency (a bilinear
    score per vertex pair) and the ops (a linear layer per vertex), and the
    auto-encoder is trained on the reconstruction loss alone, so every cell,
    labeled or not, can be used. This is the first stage of the assessor of
    Tang et al. (CVPR 2020); used before a tabular regressor, it makes a
    two-stage assessor:
    ``make_pipeline(ArchitectureEmbedder(), TransductiveGCNRegressor())``.

    Parameters
    ----------
    space : CellSpace, default=None
        Search space whose ``op_names`` and ``max_vertices`` define the input
        encoding. ``None`` learns the op vocabulary and the size from the cells
        given to ``fit``, as a text vectorizer learns its vocabulary.
    embedding_dim : int, default=32
        Size of the embedding.
    hidden_layer_sizes : tuple of int, default=(64, 64, 64)
        Width of each message-passing layer of the encoder.
    max_iter : int, default=100
        Maximum number of epochs.
    batch_size : int, default=256
        Cells per optimisation step, and per chunk in ``transform`` (which
        bounds its memory).
    learning_rate_init : float, default=1e-3
        Adam's step size.
    alpha : float, default=0.0
        L2 penalty (Adam weight decay).
    tol : float, default=1e-4
        Training stops when the epoch loss has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and batch order (through a private torch
        generator; the global torch RNG is left untouched).
    device : str, default="cpu"
        Torch device for training and transform; ``"auto"`` picks CUDA when
        available. The fitted model is stored on the CPU.
    verbose : int, default=0
        Print the loss every epoch when positive.

    Attributes
    ----------
    vocabulary_ : CellVocabulary
        Op names and padded size used to encode cells.
    encoder_ : CellEncoder
        The trained encoder (torch module, on the CPU).
    decoder_ : CellDecoder
        The trained decoder (torch module, on the CPU).
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Mean reconstruction loss of each epoch.

    See Also
    --------
    SemiSupervisedAssessor : The encoder trained jointly with the regressor.

    Examples
    --------
    >>> from skassess import ArchitectureEmbedder, Cell
    >>> cells = [Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", op, "output"])
    ...          for op in ("conv3x3-bn-relu", "maxpool3x3")]
    >>> embedder = ArchitectureEmbedder(embedding_dim=4, max_iter=2, random_state=0)
    >>> embedder.fit_transform(cells).shape
    (2, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        "space": "no_validation",
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
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
        max_iter: int = 100,
        batch_size: int = 256,
        learning_rate_init: float = 1e-3,
        alpha: float = 0.0,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        random_state: Any = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.space = space
        self.embedding_dim = embedding_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @one_torch_thread
    def fit(self, X: Any, y: Any = None) -> ArchitectureEmbedder:
        """Train the auto-encoder on cells.

        Parameters
        ----------
        X : sequence of cells
            Every spelling :func:`skassess.as_cells` accepts.
        y : ignored
            Accepted (NaN included) so that the embedder fits in pipelines.

        Returns
        -------
        self
        """
        self._validate_params()
        cells = check_cells(X, self.space)
        device = resolve_device(self.device)
        self.vocabulary_ = (
            CellVocabulary.from_cells(cells)
            if self.space is None
            else CellVocabulary.from_space(self.space)
        )
        batch = CellBatch(*self.vocabulary_.arrays(cells), len(self.vocabulary_.op_names), device)
        seed = derive_seed(self.random_state)
        with private_rng(seed, device):
            encoder, decoder = self._build_modules(device)
            self.loss_curve_ = self._train(encoder, decoder, batch)
        self.n_iter_ = len(self.loss_curve_)
        self.encoder_ = encoder.cpu().eval()
        self.decoder_ = decoder.cpu().eval()
        return self

    def _build_modules(self, device: torch.device) -> tuple[CellEncoder, CellDecoder]:
        n_ops = len(self.vocabulary_.op_names)
        hidden = tuple(int(size) for size in self.hidden_layer_sizes)
        if not hidden or min(hidden) < 1:
            raise ValueError(
                f"hidden_layer_sizes must be a non-empty tuple of positive ints, got "
                f"{self.hidden_layer_sizes!r}"
            )
        encoder = CellEncoder(n_ops, hidden, self.embedding_dim).to(device)
        decoder = CellDecoder(self.embedding_dim, n_ops).to(device)
        return encoder, decoder

    def _train(self, encoder: CellEncoder, decoder: CellDecoder, batch: CellBatch) -> list[float]:
        parameters = [*encoder.parameters(), *decoder.parameters()]
        optimizer = torch.optim.Adam(
            parameters, lr=self.learning_rate_init, weight_decay=self.alpha
        )
        n_cells = len(batch)
        batch_size = min(self.batch_size, n_cells)
        curve: list[float] = []
        best, stale = np.inf, 0
        for epoch in range(self.max_iter):
            start = time.perf_counter()
            order = torch.randperm(n_cells, device=batch.mask.device)
            total = 0.0
            for first in range(0, n_cells, batch_size):
                part = batch[order[first : first + batch_size]]
                optimizer.zero_grad()
                latents, _ = encoder(part)
                loss = reconstruction_loss(part, *decoder(latents))
                loss.backward()
                optimizer.step()
                total += loss.item() * len(part)
            curve.append(total / n_cells)
            if self.verbose:
                print(
                    f"epoch {epoch + 1}: loss {curve[-1]:.5f} ({time.perf_counter() - start:.2f} s)"
                )
            if curve[-1] < best - self.tol:
                best, stale = curve[-1], 0
            else:
                stale += 1
                if stale >= self.n_iter_no_change:
                    break
        return curve

    def _batch(self, X: Any) -> tuple[CellBatch, torch.device]:
        check_is_fitted(self)
        cells = check_cells(X, self.space)
        # a model fitted on a GPU still transforms on a machine without one
        device = resolve_device(self.device) if torch.cuda.is_available() else torch.device("cpu")
        arrays = self.vocabulary_.arrays(cells)
        return CellBatch(*arrays, len(self.vocabulary_.op_names), device), device

    def _module_on(self, module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        return module if device.type == "cpu" else copy.deepcopy(module).to(device)

    @one_torch_thread
    def transform(self, X: Any) -> np.ndarray:
        """Embed cells.

        Parameters
        ----------
        X : sequence of cells

        Returns
        -------
        ndarray of shape (n_cells, embedding_dim), float32
        """
        batch, device = self._batch(X)
        encoder = self._module_on(self.encoder_, device)
        return encode_in_batches(encoder, batch, self.batch_size).cpu().numpy()

    @one_torch_thread
    def reconstruction_score(self, X: Any, *, detail: bool = False) -> float | dict[str, float]:
        """Fraction of cells that the auto-encoder rebuilds exactly.

        Parameters
        ----------
        X : sequence of cells
        detail : bool, default=False
            Return ``{"cell": ..., "op": ..., "edge": ...}``: the exact-cell rate
            and the mean accuracy over ops and over possible edges.

        Returns
        -------
        float or dict
        """
        batch, device = self._batch(X)
        encoder = self._module_on(self.encoder_, device)
        decoder = self._module_on(self.decoder_, device)
        parts = []
        with torch.no_grad():
            for first in range(0, len(batch), self.batch_size):
                part = batch[first : first + self.batch_size]
                latents, _ = encoder(part)
                parts.append(reconstruction_accuracy(part, *decoder(latents)))
        scores = {key: float(np.concatenate([p[key] for p in parts]).mean()) for key in parts[0]}
        return scores if detail else scores["cell"]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the embedding's columns: ``architectureembedder0``, ..."""
        check_is_fitted(self)
        return np.asarray(
            [f"architectureembedder{i}" for i in range(self.embedding_dim)], dtype=object
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")
