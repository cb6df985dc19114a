"""Embedding of architectures with a graph auto-encoder, arranged by performance if labeled."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from skassess._torch import (
    derive_seed,
    make_generator,
    one_torch_thread,
    resolve_device,
    seeded_module,
)
from skassess.encoders import ParameterCountEncoder
from skassess.nn import (
    CellBatch,
    CellDecoder,
    CellEncoder,
    CellVocabulary,
    EarlyStopping,
    encode_in_batches,
    mlp,
    reconstruction_accuracy,
    reconstruction_loss,
    train_epochs,
    training_loss,
)
from skassess.spaces._inputs import infer_space
from skassess.utils.validation import check_cells, check_targets

__all__ = ["ArchitectureEmbedder"]

# Labeled cells per step of the ranking head (fewer when fewer are labeled).
_RANKING_BATCH = 64


class ArchitectureEmbedder(TransformerMixin, BaseEstimator):
    """Embed architectures as fixed-size vectors with a graph auto-encoder.

    The first stage of the assessor of Tang et al. (CVPR 2020). The encoder is
    a directional graph isomorphism network over each cell's DAG (messages flow
    along and against the edges); a cell's embedding is the mean of its vertex
    latents. The decoder rebuilds the adjacency (a bilinear score per vertex
    pair) and the ops (a linear layer per vertex). The reconstruction loss
    needs no labels, so every cell, labeled or not, trains the embedding.

    When ``y`` holds targets (NaN marks an unlabeled cell), a linear ranking
    head on the embedding is trained beside the decoder with a pairwise ranking
    loss on the labeled cells, weighted by ``ranking_weight``: the embedding is
    then arranged by performance as well as by structure, so that a cell's
    nearest neighbours in it tend to perform alike. This is what a scikit-learn
    :class:`~sklearn.pipeline.Pipeline` gives it, since a pipeline passes ``y``
    to every step: ``make_pipeline(ArchitectureEmbedder(),
    TransductiveGCNRegressor())`` is the two-stage assessor. With ``y=None``,
    all-NaN targets or ``ranking_weight=0`` it is the pure auto-encoder.

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
    ranking_weight : float, default=100.0
        Weight of one labeled cell's ranking loss against one cell's
        reconstruction loss. A training step averages each loss over its own
        batch, so the ranking term is weighted by ``ranking_weight`` times the
        fraction of labeled cells among those reconstructed in an epoch: about
        1 for 100 labeled cells in 10,100, 9 for 1,000 in 11,000, 100 with no
        unlabeled cells. The embedding follows the labels more as they grow
        (on NAS-Bench-101, a fixed weight of 10 lifts the two-stage pipeline
        at 1,000 labels and costs it 0.02 Kendall tau at 100).
    auxiliary : "auto", transformer or None, default="auto"
        Features that every cell has for free, known without training it (for
        example :class:`~skassess.encoders.PathEncoder` or
        :class:`~skassess.encoders.ParameterCountEncoder`): a clone is fitted
        on the cells, and a linear head on the embedding learns to predict its
        standardised output for every cell, labeled or not (squared error,
        weighted by ``auxiliary_weight``). Unlabeled cells then teach the
        embedding what the features say about an architecture, not only how
        to rebuild it. ``"auto"``: the logarithm of the trainable-parameter
        count of the cell's network where the space (``space``, or the
        public space whose ops the cells use) defines it (NAS-Bench-101 and
        -201), else none. In the assessor, with 100 NAS-Bench-101 labels, it
        raised Kendall tau from 0.616 to 0.624 (3 seeds), and on NAS-Bench-201
        with 78 labels (TNASP protocol) from 0.640 to 0.658; at 1,000
        NAS-Bench-101 labels it changed little (-0.002, 2 seeds).
    auxiliary_weight : float, default=1.0
        Weight of the auxiliary loss (unused without ``auxiliary``).
    max_iter : int, default=20
        Maximum number of epochs over the cells (``0`` keeps the initial
        random weights).
    max_samples : int or None, default=20000
        An epoch reconstructs at most this many cells, drawn once at random
        from those given to ``fit`` (``None``: all of them), so that the cost
        stops growing with the pool (the whole NAS-Bench-101 space holds
        423,624 cells); every labeled cell still trains the ranking head.
    batch_size : int, default=256
        Cells reconstructed per step, and per chunk in ``transform`` (which
        bounds its memory).
    learning_rate_init : float, default=1e-3
        Adam's step size (constant).
    alpha : float, default=0.0
        L2 penalty (Adam weight decay).
    tol : float, default=1e-4
        Training stops when the epoch loss has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the sample and the batch order, through a
        generator owned by the fit (torch's global generator is left alone).
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
    auxiliary_ : transformer or None
        The fitted clone of the auxiliary features' encoder (``"auto"``
        resolved), or None when there was none.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch (reconstruction plus weighted ranking).

    See Also
    --------
    TransductiveGCNRegressor : The second stage, on the embeddings.
    SemiSupervisedAssessor : Both stages, fine-tuned together end to end.

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
        "ranking_weight": [Interval(Real, 0, None, closed="left")],
        "auxiliary": [None, StrOptions({"auto"}), HasMethods(["fit", "transform"])],
        "auxiliary_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "max_samples": [None, Interval(Integral, 1, None, closed="left")],
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
        ranking_weight: float = 100.0,
        auxiliary: Any = "auto",
        auxiliary_weight: float = 1.0,
        max_iter: int = 20,
        max_samples: int | None = 20_000,
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
        self.ranking_weight = ranking_weight
        self.auxiliary = auxiliary
        self.auxiliary_weight = auxiliary_weight
        self.max_iter = max_iter
        self.max_samples = max_samples
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
        """Train the auto-encoder on cells, and the ranking head on the labeled ones.

        Parameters
        ----------
        X : sequence of cells
            Every spelling :func:`skassess.as_cells` accepts.
        y : array-like of shape (n_cells,), default=None
            Targets, NaN for unlabeled cells; ``None`` for none at all.

        Returns
        -------
        self
        """
        self._validate_params()
        cells = check_cells(X, self.space)
        target = None if y is None else check_targets(y, len(cells))
        self.vocabulary_ = (
            CellVocabulary.from_cells(cells)
            if self.space is None
            else CellVocabulary.from_space(self.space)
        )
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        generator = make_generator(derive_seed(rng))
        batch = CellBatch(*self.vocabulary_.arrays(cells), len(self.vocabulary_.op_names), device)
        encoder, decoder = self._build_modules(generator, device)
        sample = self._sample(len(cells), rng)
        ranked = self._ranked_cells(target)
        ranker = None
        if ranked is not None:
            ranker = seeded_module(lambda: mlp(self.embedding_dim, ()), generator, device)
            ranked_target = torch.as_tensor(target[ranked], dtype=torch.float32, device=device)
            ranking_weight = self.ranking_weight * len(ranked) / len(sample)
            ranked = torch.as_tensor(ranked, device=device)
        features, predictor = self._auxiliary_features(cells, sample, generator, device)

        def step(rows: torch.Tensor) -> torch.Tensor:
            part = batch[sample[rows].to(device)]
            latents, embedding = encoder(part)
            loss = reconstruction_loss(part, *decoder(latents))
            if predictor is not None:
                predicted = predictor(embedding)
                loss = loss + self.auxiliary_weight * F.mse_loss(predicted, features[rows])
            if ranker is not None:
                picked = torch.randperm(len(ranked), generator=generator)[:_RANKING_BATCH]
                picked = picked.to(device)
                _, embedding = encoder(batch[ranked[picked]])
                scores = ranker(embedding).squeeze(-1)
                loss = loss + ranking_weight * training_loss(
                    "pairwise_logistic", scores, ranked_target[picked]
                )
            return loss

        stopper = EarlyStopping(self.n_iter_no_change, self.tol)
        parameters = [*encoder.parameters(), *decoder.parameters()]
        for head in (ranker, predictor):
            if head is not None:
                parameters += list(head.parameters())
        self.loss_curve_ = train_epochs(
            step,
            parameters,
            len(sample),
            max_iter=self.max_iter,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate_init,
            alpha=self.alpha,
            generator=generator,
            after_epoch=lambda epoch, loss: stopper.update(-loss),
            cosine=False,  # it stops on a tolerance
            verbose=self.verbose,
        )
        self.n_iter_ = len(self.loss_curve_)
        self.encoder_ = encoder.cpu().eval()
        self.decoder_ = decoder.cpu().eval()
        return self

    def _build_modules(
        self, generator: torch.Generator, device: torch.device
    ) -> tuple[CellEncoder, CellDecoder]:
        n_ops = len(self.vocabulary_.op_names)
        hidden = tuple(int(size) for size in self.hidden_layer_sizes)
        if not hidden or min(hidden) < 1:
            raise ValueError(
                f"hidden_layer_sizes must be a non-empty tuple of positive ints, got "
                f"{self.hidden_layer_sizes!r}"
            )
        encoder = seeded_module(
            lambda: CellEncoder(n_ops, hidden, self.embedding_dim), generator, device
        )
        decoder = seeded_module(lambda: CellDecoder(self.embedding_dim, n_ops), generator, device)
        return encoder, decoder

    def _auxiliary_encoder(self, cells: list) -> Any:
        """``auxiliary``, with ``"auto"`` resolved for these cells."""
        if not isinstance(self.auxiliary, str):
            return self.auxiliary
        space = self.space if self.space is not None else infer_space(cells)
        if callable(getattr(space, "trainable_parameters", None)):
            return ParameterCountEncoder(space, log=True)
        return None

    def _auxiliary_features(
        self, cells: list, sample: torch.Tensor, generator: torch.Generator, device: torch.device
    ) -> tuple[torch.Tensor | None, torch.nn.Module | None]:
        """Standardised free features of the sampled cells, and the head that predicts them."""
        auxiliary = self._auxiliary_encoder(cells)
        self.auxiliary_ = None if auxiliary is None else clone(auxiliary).fit(cells)
        if self.auxiliary_ is None or self.auxiliary_weight == 0:
            return None, None
        rows = sample.numpy()
        features = np.asarray(self.auxiliary_.transform([cells[i] for i in rows]), dtype=float)
        if features.ndim != 2 or features.shape[0] != len(rows):
            raise ValueError(
                f"auxiliary must transform n cells into an (n, n_features) array, got shape "
                f"{features.shape} for {len(rows)} cells"
            )
        features = StandardScaler().fit_transform(features)  # constant columns become 0
        width = features.shape[1]
        predictor = seeded_module(lambda: nn.Linear(self.embedding_dim, width), generator, device)
        return torch.as_tensor(features, dtype=torch.float32, device=device), predictor

    def _sample(self, n_cells: int, rng: np.random.RandomState) -> torch.Tensor:
        """Positions of the cells reconstructed in each epoch (at most ``max_samples``)."""
        if self.max_samples is None or n_cells <= self.max_samples:
            return torch.arange(n_cells)
        return torch.as_tensor(np.sort(rng.choice(n_cells, self.max_samples, replace=False)))

    def _ranked_cells(self, target: np.ndarray | None) -> np.ndarray | None:
        """Positions of the labeled cells, when they can train the ranking head."""
        if target is None or self.ranking_weight == 0:
            return None
        labeled = np.flatnonzero(~np.isnan(target))
        if labeled.size < 2 or np.ptp(target[labeled]) == 0:
            return None  # nothing to rank: the pure auto-encoder
        return labeled

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
