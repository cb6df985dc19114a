"""The semi-supervised assessor of Tang et al. (CVPR 2020), trained end to end on cells.

Design, and why:

- A directional GIN encoder embeds every cell; a relation graph links each cell
  to its ``n_neighbors`` nearest cells in embedding space (Gaussian weights of
  width ``kernel_width`` x the mean neighbour distance); a graph convolution
  with a separate weight for the cell itself and for its neighbourhood (the
  GraphConv of Morris et al., AAAI 2019) regresses the score. The separate
  self weight lets training decide how far to trust neighbours, which matters
  because neighbours in embedding space do not always perform alike.
- Encoder, decoder and graph head are trained *jointly*: ranking loss on the
  labeled cells plus ``reconstruction_weight`` x the auto-encoder loss on all
  cells. The graph is rebuilt from the fine-tuned encoder every
  ``graph_update_interval`` epochs, over *all* cells given to ``fit``, labeled or
  not (transductive): a labeled cell's neighbourhood includes unlabeled ones.
- Neighbour embeddings come from a cache refreshed with the graph, so a step
  costs one encoder pass over a batch of labeled cells, not over the pool.
- Scale: a rebuild during training encodes every cell but searches only the
  labeled cells' neighbourhoods (a 1,000 x 423,624 search, not 423,624 x
  423,624); only the last graph covers every cell, for ``transduction_``, and
  its search index (exact, or an inverted file past 5,000 cells) stays to
  attach new cells in ``predict``. Pretraining sees at most
  ``pretrain_max_samples`` cells. Scoring goes in chunks of 8,192 cells, so
  ``predict`` takes bounded memory whatever the number of cells.
- ``n_ensemble`` networks trained from different seeds are averaged (their
  scores standardised on the labeled cells). The average score is mapped to
  target units by a least-squares line fitted on the labeled cells, which
  keeps the ranking exactly (an isotonic map would create ties).

Defaults were chosen on a NAS-Bench-101 development split (5,000 cells outside
the benchmark's held-out cells, pool of 10,000 unlabeled cells, Kendall tau,
seeds 0-1; single networks unless said otherwise):

================================================  ========  ==========
setting                                           tau @100  tau @1,000
================================================  ========  ==========
pairwise logistic, 100 epochs, batch 128          0.623     0.760 [1]_
same, no relation graph (``n_neighbors=0``)       0.622     0.754
same, ``loss="mse"`` (Gaussianised ranks) [2]_    0.629     0.768
ensemble of 3, 40 epochs, pairwise                --        0.770
ensemble of 3, 40 epochs, mse                     --        0.737
self-training (``self_training_weight=1``)        0.622     --
ensemble of 3, 50 epochs, batch 64                0.628     0.779
single network, 50 epochs, batch 64               0.620     --
same, auto-encoder pretrained 20 epochs           0.635     --
ensemble of 3, pretrained 20 epochs: the default  0.641     0.780
NeuralPredictor (same encoder, no graph, mse)     0.611     0.762
================================================  ========  ==========

.. [1] seed 0 only.
.. [2] 300 epochs at 100 labels.

The pairwise loss is robust to short schedules where the squared error is not;
the graph and the ensemble each add a little; pretraining the auto-encoder on
the unlabeled cells (the paper's first stage) adds about 0.015 at 100 labels
and nothing at 1,000; self-training and the reconstruction loss during joint
training (as in the prototype's findings) did not help, so both are off by
default.

On the held-out cells of ``benchmarks/bench_assessor.py`` (NAS-Bench-101, 20,000
test cells, pool of 10,000), the defaults reach Kendall tau 0.613 / 0.778 /
0.831 with 100 / 1,000 / 10,000 labels, against 0.394 / 0.585 / 0.733 for the
E2EPP random forest and 0.588 / 0.758 / 0.815 for the NeuralPredictor; see
``benchmarks/results/bench_assessor.md`` for NAS-Bench-201 and NAS-Bench-Graph.
"""

from __future__ import annotations

import copy
import time
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skassess._torch import one_torch_thread, private_rng, resolve_device, to_cpu
from skassess.assessor._cell_encoder import (
    CellBatch,
    CellDecoder,
    CellEncoder,
    CellVocabulary,
    encode_in_batches,
    reconstruction_loss,
)
from skassess.assessor._embedder import ArchitectureEmbedder
from skassess.assessor._graph import (
    ALGORITHMS,
    kernel_bandwidth,
    kernel_weights,
    knn_graph,
    neighbor_index,
)
from skassess.assessor._inputs import check_cells, check_partial_targets, labeled_r2_score
from skassess.assessor._losses import (
    LOSSES,
    gaussianised_ranks,
    rank_preserving_line,
    training_loss,
)

__all__ = ["SemiSupervisedAssessor"]

# Graph settings used when ``regressor`` is None, or when the regressor lacks them.
_GRAPH_DEFAULTS = {
    "n_neighbors": 10,
    "kernel_width": 0.25,
    "hidden_layer_sizes": (64,),
    "dropout": 0.1,
    "distance_threshold": None,
    "algorithm": "auto",
}
# Cells scored at a time in ``predict`` and for ``transduction_``: bounds memory.
_SCORE_CHUNK = 8192


class AssessorNetwork(nn.Module):
    """Cell encoder, decoder and a one-hop graph convolution head."""

    def __init__(
        self,
        n_ops: int,
        encoder_sizes: tuple[int, ...],
        embedding_dim: int,
        head_sizes: tuple[int, ...],
        dropout: float,
    ) -> None:
        super().__init__()
        self.encoder = CellEncoder(n_ops, encoder_sizes, embedding_dim)
        self.decoder = CellDecoder(embedding_dim, n_ops)
        layers: list[nn.Module] = []
        width = 2 * embedding_dim
        for size in head_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def score(
        self, embedding: torch.Tensor, neighbours: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Scores from embeddings (b, d), neighbour embeddings (b, k, d) and weights (b, k).

        The neighbourhood is the weighted mean over the cell and its neighbours
        (row-normalised ``A + I``); the head reads the cell and its
        neighbourhood side by side.
        """
        pooled = embedding + (weights.unsqueeze(-1) * neighbours).sum(dim=1)
        pooled = pooled / (1.0 + weights.sum(dim=1, keepdim=True))
        return self.head(torch.cat([embedding, pooled], dim=-1)).squeeze(-1)


class _Graph:
    """Embeddings of the training cells and the neighbourhoods of some or all of them.

    Built with the relation-graph helpers of :mod:`skassess.assessor._graph`.
    During training only the cells that need a neighbourhood (the labeled ones)
    get one, found among *all* cells; the final graph covers every cell and keeps
    its search index, to attach new cells in ``predict``. Edge weights are
    Gaussian, ``sigma = kernel_width`` x the mean neighbour distance of the
    labeled cells, the same definition in every graph of a fit.
    """

    def __init__(
        self,
        embeddings: torch.Tensor,
        settings: dict[str, Any],
        labeled: np.ndarray,
        *,
        rows: np.ndarray | None,
        seed: int,
    ) -> None:
        self.embeddings = embeddings
        self.points = embeddings.detach().cpu().numpy()
        self.n_neighbors = min(int(settings["n_neighbors"]), len(self.points) - 1)
        self.distance_threshold = settings["distance_threshold"]
        device = embeddings.device
        if rows is None:  # every cell: keep the index for predict
            self.index, indices, distances = _all_neighbours(
                self.points, self.n_neighbors, settings["algorithm"], device, seed
            )
            self.position = None
        else:
            self.index = None
            indices, distances = knn_graph(
                self.points,
                self.n_neighbors,
                rows=rows,
                algorithm=settings["algorithm"],
                device=device,
                random_state=seed,
            )
            self.position = np.full(len(self.points), -1)
            self.position[rows] = np.arange(len(rows))
        labeled_distances = distances[labeled if self.position is None else self.position[labeled]]
        self.bandwidth = kernel_bandwidth(labeled_distances, float(settings["kernel_width"]))
        self.indices = torch.as_tensor(indices, device=device)
        self.weights = self._weights(distances)

    @property
    def is_full(self) -> bool:
        return self.position is None

    def _weights(self, distances: np.ndarray) -> torch.Tensor:
        weights = kernel_weights(
            distances, self.bandwidth, distance_threshold=self.distance_threshold
        )
        return torch.as_tensor(weights, device=self.embeddings.device)

    def neighbourhood(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour embeddings (b, k, d) and weights (b, k) of training cells ``rows``."""
        if self.position is not None:
            rows = torch.as_tensor(self.position[rows.cpu().numpy()], device=rows.device)
        return self.embeddings[self.indices[rows]], self.weights[rows]

    def attach(self, embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbourhoods of new cells among the training cells, each on its own."""
        indices, distances = self.index.kneighbors(embeddings.cpu().numpy(), self.n_neighbors)
        return self.embeddings[torch.as_tensor(indices)], self._weights(distances)

    def to_cpu(self) -> _Graph:
        """Move to the CPU for keeping; the training neighbourhoods are dropped."""
        self.embeddings = torch.from_numpy(self.points)  # shares memory with the index's rows
        self.index.device = "cpu"
        del self.indices
        self.weights = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["embeddings"] = None  # the same numbers as ``points``
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.embeddings = torch.from_numpy(self.points)


class SemiSupervisedAssessor(RegressorMixin, BaseEstimator):
    """Predict architecture performance from few labeled and many unlabeled cells.

    The assessor of Tang et al., "A Semi-Supervised Assessor of Neural
    Architectures" (CVPR 2020), end to end on cells: a graph auto-encoder embeds
    every cell; a relation graph links cells whose embeddings are close; a
    graph convolution on it predicts performance. Encoder and graph head are
    trained jointly on a ranking loss over the labeled cells plus the
    reconstruction loss over all cells, and the graph is rebuilt from the
    fine-tuned encoder during training. Cells with target ``np.nan`` are
    unlabeled and used transductively.

    Parameters
    ----------
    embedder : ArchitectureEmbedder, default=None
        Its parameters define the cell encoder (``space``, ``embedding_dim``,
        ``hidden_layer_sizes``); it is not fitted. ``None`` uses
        ``ArchitectureEmbedder()``. Tune through nested names, e.g.
        ``embedder__embedding_dim``.
    regressor : TransductiveGCNRegressor, default=None
        Its parameters define the relation graph and the graph head:
        ``n_neighbors``, ``kernel_width`` (a factor of the mean neighbour
        distance), ``hidden_layer_sizes``, ``dropout``, ``distance_threshold``;
        it is not fitted. ``None`` uses 10 neighbours, width 0.25, one hidden
        layer of 64 and dropout 0.1. Note that ``TransductiveGCNRegressor()``
        itself defaults to ``kernel_width=1.0`` (stronger edges); the
        prototype measurements in the project's findings favoured 0.25.
    loss : {"pairwise_logistic", "pairwise_hinge", "mse"}, default="pairwise_logistic"
        Objective on the labeled cells: a pairwise ranking loss, or the squared
        error on Gaussianised ranks of the targets.
    reconstruction_weight : float, default=0.0
        Weight of the auto-encoder's reconstruction loss, averaged over a batch
        of cells drawn from all cells, labeled or not.
    self_training_weight : float, default=0.0
        When positive, self-training: after a first ensemble is trained, its
        scores on the unlabeled cells become their targets, weighted by this
        factor, and a fresh ensemble is trained on both (twice the fit time).
    pretrain_iter : int, default=20
        The paper's first stage: the auto-encoder is trained for this many
        epochs on all cells, labeled or not (an :class:`ArchitectureEmbedder`
        with ``embedder``'s parameters), and every member starts from it.
        ``0`` starts from random weights (faster; no loss at 1,000 labels).
    pretrain_max_samples : int or None, default=20000
        Pretraining sees at most this many cells, drawn at random from all cells
        (``None``: all of them), so that its cost stops growing with the pool:
        20 epochs over the 423,624 cells of NAS-Bench-101 would take about 15
        CPU-minutes, and the unlabeled pool adds little past 10,000 cells.
    max_iter : int, default=50
        Epochs over the labeled cells.
    batch_size : int, default=64
        Labeled cells per step.
    learning_rate_init : float, default=2e-3
        Adam's step size; it decays to zero along a cosine.
    alpha : float, default=1e-4
        L2 penalty (Adam weight decay).
    graph_update_interval : int, default=10
        Epochs between rebuilds of the relation graph from the current encoder.
    n_ensemble : int, default=3
        Networks trained from different seeds and averaged.
    n_jobs : int, default=None
        Ensemble members trained at once (in joblib worker processes) and
        scored at once in ``predict`` (in threads). ``None`` means 1 unless in
        a :func:`joblib.parallel_config` context, ``-1`` all cores. The result
        does not depend on it. Each member uses one torch thread; each worker
        holds a copy of the cells' tensors, so memory grows with ``n_jobs``. On
        two cores, ``n_jobs=2`` took a fit over all 423,624 NAS-Bench-101 cells
        from 226 s to 172 s (3.9 GiB instead of 1.9). Keep 1 on a GPU.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled cells and keep the epoch
        whose held-out Kendall tau was best; stop after ``n_iter_no_change``
        epochs without improvement.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=20
    random_state : int, RandomState instance or None, default=None
    device : str, default="cpu"
        Torch device for training; the fitted model lives on the CPU.
    verbose : int, default=0

    Attributes
    ----------
    transduction_ : ndarray of shape (n_cells,)
        Predictions for every cell given to ``fit``, labeled or not.
    labeled_mask_ : ndarray of shape (n_cells,), bool
        Which cells were labeled.
    vocabulary_ : CellVocabulary
    networks_ : list of AssessorNetwork
        The trained ensemble members (on the CPU).
    n_iter_ : int
        Epochs run by the first member.
    loss_curve_ : list of float
        Mean training loss of each epoch of the first member.

    Examples
    --------
    >>> import numpy as np
    >>> from skassess import Cell, SemiSupervisedAssessor
    >>> cells = [Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", op, "output"])
    ...          for op in ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")]
    >>> y = np.array([0.93, 0.91, np.nan])
    >>> assessor = SemiSupervisedAssessor(max_iter=2, n_ensemble=1, random_state=0)
    >>> assessor.fit(cells, y).transduction_.shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "embedder": [None, ArchitectureEmbedder],
        "regressor": "no_validation",
        "loss": [StrOptions(set(LOSSES))],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "self_training_weight": [Interval(Real, 0, None, closed="left")],
        "pretrain_iter": [Interval(Integral, 0, None, closed="left")],
        "pretrain_max_samples": [None, Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "graph_update_interval": [Interval(Integral, 1, None, closed="left")],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": "no_validation",
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        embedder: ArchitectureEmbedder | None = None,
        regressor: Any = None,
        *,
        loss: str = "pairwise_logistic",
        reconstruction_weight: float = 0.0,
        self_training_weight: float = 0.0,
        pretrain_iter: int = 20,
        pretrain_max_samples: int | None = 20_000,
        max_iter: int = 50,
        batch_size: int = 64,
        learning_rate_init: float = 2e-3,
        alpha: float = 1e-4,
        graph_update_interval: int = 10,
        n_ensemble: int = 3,
        n_jobs: int | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 20,
        random_state: Any = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.embedder = embedder
        self.regressor = regressor
        self.loss = loss
        self.reconstruction_weight = reconstruction_weight
        self.self_training_weight = self_training_weight
        self.pretrain_iter = pretrain_iter
        self.pretrain_max_samples = pretrain_max_samples
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.graph_update_interval = graph_update_interval
        self.n_ensemble = n_ensemble
        self.n_jobs = n_jobs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ fit

    def _settings(self) -> dict[str, Any]:
        """Encoder and graph settings read from the ``embedder`` and ``regressor``."""
        embedder = ArchitectureEmbedder() if self.embedder is None else clone(self.embedder)
        settings = {
            "space": embedder.space,
            "embedding_dim": int(embedder.embedding_dim),
            "encoder_sizes": tuple(int(size) for size in embedder.hidden_layer_sizes),
        }
        for name, default in _GRAPH_DEFAULTS.items():
            value = getattr(self.regressor, name, default) if self.regressor else default
            settings[name] = default if value is None else value
        settings["hidden_layer_sizes"] = tuple(int(s) for s in settings["hidden_layer_sizes"])
        if settings["algorithm"] not in ALGORITHMS:
            raise ValueError(
                f"regressor.algorithm must be one of {ALGORITHMS}, got {settings['algorithm']!r}"
            )
        if not settings["encoder_sizes"] or min(settings["encoder_sizes"]) < 1:
            raise ValueError(
                "embedder.hidden_layer_sizes must be a non-empty tuple of positive ints, "
                f"got {embedder.hidden_layer_sizes!r}"
            )
        return settings

    @one_torch_thread
    def fit(self, X: Any, y: Any) -> SemiSupervisedAssessor:
        """Train on cells, of which those with a NaN target are unlabeled.

        Parameters
        ----------
        X : sequence of cells
            Labeled and unlabeled cells, in any spelling :func:`skassess.as_cells`
            accepts.
        y : array-like of shape (n_cells,)
            Targets; ``np.nan`` marks an unlabeled cell.

        Returns
        -------
        self
        """
        self._validate_params()
        settings = self._settings()
        cells = check_cells(X, settings["space"], min_cells=2)
        target = check_partial_targets(y, len(cells), min_labeled=2)
        self.labeled_mask_ = ~np.isnan(target)
        device = resolve_device(self.device)
        self.vocabulary_ = (
            CellVocabulary.from_cells(cells)
            if settings["space"] is None
            else CellVocabulary.from_space(settings["space"])
        )
        batch = CellBatch(*self.vocabulary_.arrays(cells), len(self.vocabulary_.op_names), device)
        self._settings_ = settings

        rng = check_random_state(self.random_state)
        labeled = np.flatnonzero(self.labeled_mask_)
        unlabeled = np.flatnonzero(~self.labeled_mask_)
        pseudo = None
        self._pretrained = self._pretrain(cells, rng) if self.pretrain_iter else None
        rounds = 2 if self.self_training_weight > 0 and unlabeled.size else 1
        for _ in range(rounds):
            seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble)
            combined = self._fit_ensemble(batch, labeled, target, settings, device, seeds, pseudo)
            # Self-training: the ensemble's scores on the unlabeled cells become their
            # targets (weighted by self_training_weight) for a fresh ensemble.
            pseudo = (unlabeled, combined[unlabeled])
        del self._pretrained
        self._calibration = rank_preserving_line(combined[labeled], target[labeled])
        self.transduction_ = _apply_line(self._calibration, combined)
        return self

    def _pretrain(self, cells, rng) -> dict[str, Any]:
        """Auto-encoder weights trained on all cells (or a sample), each member's start."""
        embedder = ArchitectureEmbedder() if self.embedder is None else clone(self.embedder)
        embedder.set_params(
            max_iter=self.pretrain_iter,
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
            device=self.device,
            verbose=self.verbose,
        )
        if self.pretrain_max_samples is not None and len(cells) > self.pretrain_max_samples:
            picked = np.sort(rng.choice(len(cells), self.pretrain_max_samples, replace=False))
            cells = [cells[i] for i in picked]
        embedder.fit(cells)
        return {
            "encoder": embedder.encoder_.state_dict(),
            "decoder": embedder.decoder_.state_dict(),
        }

    def _fit_ensemble(self, batch, labeled, target, settings, device, seeds, pseudo):
        """Train ``len(seeds)`` members; return their mean standardised score per cell."""
        self.networks_, self._graphs, self._score_scales = [], [], []
        members = Parallel(n_jobs=self.n_jobs)(
            delayed(self._train_member)(
                batch, labeled, target[labeled], settings, device, member, int(seed), pseudo
            )
            for member, seed in enumerate(seeds)
        )
        scores = []
        for member, (network, graph, curve, member_scores) in enumerate(members):
            if member == 0:
                self.loss_curve_ = curve
                self.n_iter_ = len(curve)
            mean, scale = member_scores[labeled].mean(), member_scores[labeled].std()
            scale = scale if scale > 0 else 1.0
            scores.append((member_scores - mean) / scale)
            self.networks_.append(network)
            self._graphs.append(graph)
            self._score_scales.append((mean, scale))
        return np.mean(scores, axis=0)

    @one_torch_thread
    def _train_member(self, batch, labeled, labeled_target, settings, device, member, seed, pseudo):
        """One member, on the CPU once trained, its loss curve and its score of every cell.

        Runs in a joblib worker when ``n_jobs`` asks for several at once; the
        member's randomness comes from ``seed`` alone, so the result does not
        depend on where it runs.
        """
        with private_rng(seed, device):
            network, graph, curve = self._fit_member(
                batch, labeled, labeled_target, settings, device, member, seed, pseudo
            )
        scores = self._score_graph(network, graph)
        return network.cpu().eval(), graph.to_cpu(), curve, scores

    def _fit_member(
        self,
        batch: CellBatch,
        labeled: np.ndarray,
        labeled_target: np.ndarray,
        settings: dict[str, Any],
        device: torch.device,
        member: int,
        seed: int,
        pseudo: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[AssessorNetwork, _Graph, list[float]]:
        network = AssessorNetwork(
            len(self.vocabulary_.op_names),
            settings["encoder_sizes"],
            settings["embedding_dim"],
            settings["hidden_layer_sizes"],
            float(settings["dropout"]),
        )
        if self._pretrained is not None:
            network.encoder.load_state_dict(self._pretrained["encoder"])
            network.decoder.load_state_dict(self._pretrained["decoder"])
        network.to(device)
        train_rows, valid_rows = labeled, labeled[:0]
        train_target = labeled_target
        if self.early_stopping:
            order = torch.randperm(len(labeled)).numpy()
            n_valid = max(2, round(self.validation_fraction * len(labeled)))
            if len(labeled) - n_valid < 2:
                raise ValueError(
                    f"early_stopping needs at least {n_valid + 2} labeled cells, got {len(labeled)}"
                )
            valid_rows, train_rows = labeled[order[:n_valid]], labeled[order[n_valid:]]
            valid_target = labeled_target[order[:n_valid]]
            train_target = labeled_target[order[n_valid:]]
        if self.loss == "mse":
            train_target = gaussianised_ranks(train_target)
        if pseudo is not None:
            pseudo_rows = torch.as_tensor(pseudo[0], device=device)
            pseudo_target = torch.as_tensor(pseudo[1], dtype=torch.float32, device=device)
        train_rows_t = torch.as_tensor(train_rows, device=device)
        train_target_t = torch.as_tensor(train_target, dtype=torch.float32, device=device)

        batch_size = min(self.batch_size, len(train_rows))
        steps_per_epoch = -(-len(train_rows) // batch_size)
        total_steps = steps_per_epoch * self.max_iter
        optimizer = torch.optim.Adam(
            network.parameters(), lr=self.learning_rate_init, weight_decay=self.alpha
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)

        # Training needs the neighbourhoods of the labeled cells (and of the
        # pseudo-labeled ones when self-training), found among all cells; the
        # final graph gives every cell its neighbourhood.
        needed = labeled if pseudo is None else np.union1d(labeled, pseudo[0])

        def rebuild(full: bool) -> _Graph:
            embeddings = encode_in_batches(network.encoder, batch, _encoding_batch_size(device))
            rows = None if full or len(needed) == len(batch) else needed
            return _Graph(embeddings, settings, labeled, rows=rows, seed=seed)

        graph = rebuild(full=False)
        curve: list[float] = []
        best_tau, best_state, stale = -np.inf, None, 0
        for epoch in range(self.max_iter):
            start = time.perf_counter()
            network.train()
            order = torch.randperm(len(train_rows), device=device)
            total = 0.0
            for first in range(0, len(train_rows), batch_size):
                picked = order[first : first + batch_size]
                rows = train_rows_t[picked]
                part = batch[rows]
                _, embedding = network.encoder(part)
                scores = network.score(embedding, *graph.neighbourhood(rows))
                loss = training_loss(self.loss, scores, train_target_t[picked])
                if pseudo is not None:
                    picked_pseudo = torch.randint(len(pseudo_rows), (batch_size,), device=device)
                    rows = pseudo_rows[picked_pseudo]
                    _, embedding = network.encoder(batch[rows])
                    scores = network.score(embedding, *graph.neighbourhood(rows))
                    loss = loss + self.self_training_weight * training_loss(
                        self.loss, scores, pseudo_target[picked_pseudo]
                    )
                if self.reconstruction_weight > 0:
                    others = torch.randint(len(batch), (batch_size,), device=device)
                    other = batch[others]
                    other_latents, _ = network.encoder(other)
                    loss = loss + self.reconstruction_weight * reconstruction_loss(
                        other, *network.decoder(other_latents)
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.item() * len(picked)
            curve.append(total / len(train_rows))
            if epoch + 1 == self.max_iter:
                graph = rebuild(full=True)
            elif (epoch + 1) % self.graph_update_interval == 0:
                graph = rebuild(full=False)
            message = f"member {member} epoch {epoch + 1}: loss {curve[-1]:.5f}"
            if self.early_stopping:
                tau = _kendall_tau(
                    self._score_rows(network, graph, batch, valid_rows), valid_target
                )
                message += f", validation tau {tau:.4f}"
                if tau > best_tau:
                    best_tau, stale = tau, 0
                    best_state = copy.deepcopy(network.state_dict())
                else:
                    stale += 1
            if self.verbose:
                print(f"{message} ({time.perf_counter() - start:.2f} s)")
            if self.early_stopping and stale >= self.n_iter_no_change:
                break
        if best_state is not None:
            network.load_state_dict(best_state)
            graph = rebuild(full=True)
        elif not graph.is_full:  # a loop that ended without its full graph
            graph = rebuild(full=True)
        network.eval()
        return network, graph, curve

    @staticmethod
    def _score_rows(
        network: AssessorNetwork, graph: _Graph, batch: CellBatch, rows: np.ndarray
    ) -> np.ndarray:
        """Scores of some training cells, embedded by the current encoder."""
        network.eval()
        rows_t = torch.as_tensor(rows, device=graph.embeddings.device)
        with torch.no_grad():
            _, embedding = network.encoder(batch[rows_t])
            scores = network.score(embedding, *graph.neighbourhood(rows_t))
        return scores.cpu().numpy().astype(np.float64)

    @staticmethod
    def _score_graph(network: AssessorNetwork, graph: _Graph) -> np.ndarray:
        """Scores of every training cell from its cached embedding and neighbourhood."""
        network.eval()
        n_cells, device = graph.embeddings.shape[0], graph.embeddings.device
        parts = []
        with torch.no_grad():
            for start in range(0, n_cells, _SCORE_CHUNK):
                rows = torch.arange(start, min(start + _SCORE_CHUNK, n_cells), device=device)
                parts.append(network.score(graph.embeddings[rows], *graph.neighbourhood(rows)))
        return torch.cat(parts).cpu().numpy().astype(np.float64)

    # -------------------------------------------------------------- predict

    @one_torch_thread
    def predict(self, X: Any) -> np.ndarray:
        """Predict the performance of cells, each attached on its own to the training graph.

        Parameters
        ----------
        X : sequence of cells

        Returns
        -------
        ndarray of shape (n_cells,)
            Predictions in target units (a ranking-preserving linear map of the
            ensemble's average score).
        """
        check_is_fitted(self)
        cells = check_cells(X, self._settings_["space"])
        scores = np.empty(len(cells))
        for start in range(0, len(cells), _SCORE_CHUNK):
            scores[start : start + _SCORE_CHUNK] = self._mean_score(
                cells[start : start + _SCORE_CHUNK]
            )
        return _apply_line(self._calibration, scores)

    def _mean_score(self, cells: list) -> np.ndarray:
        """The members' average standardised score of some cells, on the CPU."""
        device = torch.device("cpu")
        batch = CellBatch(*self.vocabulary_.arrays(cells), len(self.vocabulary_.op_names), device)
        # threads suffice: torch and the neighbour search release the GIL
        members = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_member_score)(network, graph, batch)
            for network, graph in zip(self.networks_, self._graphs, strict=True)
        )
        scores = np.zeros(len(cells))
        for member, (mean, scale) in zip(members, self._score_scales, strict=True):
            scores += (member - mean) / scale
        return scores / len(self.networks_)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 on the cells whose target is not NaN (unlabeled rows are skipped)."""
        return labeled_r2_score(self, X, y, sample_weight)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "networks_")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "networks_" in state:
            state["networks_"] = [to_cpu(net.state_dict()) for net in self.networks_]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        networks = state.get("networks_")
        if networks is not None and networks and isinstance(networks[0], dict):
            settings = state["_settings_"]
            rebuilt = []
            for weights in networks:
                network = AssessorNetwork(
                    len(state["vocabulary_"].op_names),
                    settings["encoder_sizes"],
                    settings["embedding_dim"],
                    settings["hidden_layer_sizes"],
                    float(settings["dropout"]),
                )
                network.load_state_dict(weights)
                rebuilt.append(network.eval())
            state["networks_"] = rebuilt
        self.__dict__.update(state)


def _all_neighbours(points: np.ndarray, n_neighbors: int, algorithm: str, device, seed: int):
    """A search index over every cell, and every cell's neighbours and distances."""
    index = neighbor_index(points, algorithm=algorithm, device=device, random_state=seed)
    return index, *index.kneighbors(n_neighbors=n_neighbors)


def _member_score(network: AssessorNetwork, graph: _Graph, batch: CellBatch) -> np.ndarray:
    """One member's scores of new cells, each attached on its own to its graph."""
    embeddings = encode_in_batches(network.encoder, batch, _encoding_batch_size(batch.ops.device))
    with torch.no_grad():
        return network.score(embeddings, *graph.attach(embeddings)).numpy().astype(np.float64)


def _encoding_batch_size(device: torch.device) -> int:
    # cache-sized batches on a CPU (1.75x faster than 4096), large ones on a GPU
    return 1024 if device.type == "cpu" else 16384


def _apply_line(line: tuple[float, float], scores: np.ndarray) -> np.ndarray:
    return line[0] * scores + line[1]


def _kendall_tau(scores: np.ndarray, target: np.ndarray) -> float:
    from scipy.stats import kendalltau

    tau = kendalltau(scores, target).statistic
    return float(tau) if np.isfinite(tau) else -1.0
