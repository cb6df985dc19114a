"""The semi-supervised assessor of Tang et al. (CVPR 2020), built from its two parts.

The assessor is its paper's two stages, each done by one of its parts:

1. **embed**: an :class:`~skassess.ArchitectureEmbedder` (the graph
   auto-encoder) is fitted on all cells, labeled or not, without their
   targets (the paper's unsupervised first stage);
2. **regress**: a :class:`~skassess.TransductiveGCNRegressor`'s relation
   graph links each cell to its nearest cells in embedding space, and its
   graph convolution learns to rank the labeled cells from themselves and
   their neighbours, labeled or not, with the regressor's loss. Unlike the
   paper, the cell encoder is trained with it, end to end, and the relation
   graph is rebuilt from the trained encoder every ``graph_update_interval``
   epochs (during training only the labeled cells' neighbourhoods, found
   among all cells, are needed; the last graph covers every cell and keeps
   its search index to attach new cells in ``predict``). The regressor then
   holds that head and graph, fitted on the final embeddings.

Why not fit the regressor to convergence on the frozen embeddings first, and
why no ranking head in stage 1 (which :class:`~skassess.ArchitectureEmbedder`
offers, and which a two-stage ``Pipeline`` uses): both let the head fit the
labeled cells before the encoder learns from them, which left the end-to-end
training little to learn. On NAS-Bench-101 with 100 labels (seed 0, 20,000
held-out cells, pool of 10,000), the assessor ranked at Kendall tau 0.589
with both, 0.582 with the ranking head alone, and 0.630 with neither.

``n_ensemble`` members, each a fitted ``Pipeline(embedder, regressor)``
(stage 2 from different seeds, all starting from the stage-1 embedder unless
``share_embedder=False`` gives each its own), are
averaged after standardising their scores on the labeled cells, and the
average is mapped to target units by a least-squares line on the labeled
cells, which keeps the order.

On the held-out cells of ``benchmarks/bench_assessor.py`` (NAS-Bench-101,
20,000 test cells, pool of 10,000, seeds 0-2) the defaults rank at Kendall tau
0.624 / 0.777 with 100 / 1,000 labels, against 0.609 / 0.756 for the two-stage
pipeline (``make_two_stage_predictor``), 0.588 / 0.758 for the NeuralPredictor
and 0.394 / 0.585 for the E2EPP random forest; see
``benchmarks/results/bench_assessor.md`` for NAS-Bench-201 and NAS-Bench-Graph.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skassess._torch import derive_seed, make_generator, one_torch_thread, resolve_device
from skassess.assessor._embedder import ArchitectureEmbedder
from skassess.assessor._gcn import TransductiveGCNRegressor
from skassess.base import RankingScoreMixin
from skassess.nn import (
    CellBatch,
    encode_in_batches,
    rank_preserving_line,
    reconstruction_loss,
    validation_split,
)
from skassess.utils.tags import mark_uses_unlabeled
from skassess.utils.validation import check_cells, check_partial_targets

__all__ = ["SemiSupervisedAssessor"]

# The parts' templates when none are given. They are never fitted or changed:
# ``fit`` clones them, and nested ``set_params`` replaces them by a copy first.
_DEFAULT_EMBEDDER = ArchitectureEmbedder()
_DEFAULT_REGRESSOR = TransductiveGCNRegressor()


class SemiSupervisedAssessor(RankingScoreMixin, RegressorMixin, BaseEstimator):
    """Predict architecture performance from few labeled and many unlabeled cells.

    The assessor of Tang et al., "A Semi-Supervised Assessor of Neural
    Architectures" (CVPR 2020): an auto-encoder embeds every cell
    (``embedder``), then a graph convolution on a relation graph between the
    embeddings ranks them (``regressor``), trained together with the encoder,
    end to end, with the graph rebuilt from the trained encoder.
    Cells with target ``np.nan`` are unlabeled and used transductively: they
    train the auto-encoder and are nodes of the relation graph.

    The two parts are ordinary estimators, cloned and fitted as scikit-learn's
    meta-estimators do: tune them with nested names (``embedder__embedding_dim``,
    ``regressor__n_neighbors``), and after ``fit`` use ``embedder_`` and
    ``regressor_`` on their own.

    Parameters
    ----------
    embedder : ArchitectureEmbedder, default=ArchitectureEmbedder()
        Stage 1, fitted on all cells (its ``space``, ``embedding_dim``,
        ``hidden_layer_sizes``, ``max_iter``, ``max_samples`` ... apply).
    regressor : TransductiveGCNRegressor, default=TransductiveGCNRegressor()
        Stage 2, trained with the encoder: its relation graph (``n_neighbors``,
        ``kernel_width`` ...), head (``hidden_layer_sizes``, ``dropout``),
        ``loss``, ``batch_size`` and ``alpha`` apply; its ``max_iter`` and
        ``learning_rate_init`` (meant for a head alone) give way to the
        assessor's.
    max_iter : int, default=50
        Epochs of the end-to-end training over the labeled cells.
    learning_rate_init : float, default=2e-3
        Adam's step size in the end-to-end training (it decays to zero along a
        cosine); smaller than the regressor's own, since the encoder is
        trained too.
    graph_update_interval : int, default=10
        Epochs between rebuilds of the relation graph from the trained encoder.
    reconstruction_weight : float, default=0.0
        Weight of the auto-encoder's reconstruction loss during training,
        on a batch of cells drawn from all cells, labeled or not.
    n_ensemble : int, default=3
        Members trained from different seeds and averaged.
    share_embedder : bool, default=True
        Fit the embedder once and start every member from it; with False, each
        member fits its own from its own seed (more diverse members, at
        ``n_ensemble`` times the cost of stage 1).
    n_jobs : int, default=None
        Members trained at once (in joblib worker processes) and scored at once
        in ``predict`` (in threads). ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all cores. The result
        does not depend on it. Each worker holds a copy of the cells' tensors,
        so memory grows with ``n_jobs``. Keep 1 on a GPU.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled cells during
        end-to-end training and keep the epoch whose held-out Kendall tau was best;
        stop after ``n_iter_no_change`` epochs without improvement.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=20
    random_state : int, RandomState instance or None, default=None
        Seeds every part (through generators owned by the fit).
    device : str, default="cpu"
        Torch device of every part during training (it overrides theirs);
        the fitted model lives on the CPU.
    verbose : int, default=0
        Passed on to the parts; prints each epoch's loss.

    Attributes
    ----------
    embedder_ : ArchitectureEmbedder
        The first member's trained embedder:
        ``embedder_.transform(cells)`` gives the embeddings ``regressor_`` saw.
    regressor_ : TransductiveGCNRegressor
        The first member's trained regressor, fitted on those embeddings.
    estimators_ : list of Pipeline
        Every member, ``Pipeline([("embedder", ...), ("regressor", ...)])``.
    transduction_ : ndarray of shape (n_cells,)
        Predictions for every cell given to ``fit``, labeled or not.
    labeled_mask_ : ndarray of shape (n_cells,), bool
        Which cells were labeled.
    n_iter_ : int
        Fine-tuning epochs run by the first member.
    loss_curve_ : list of float
        Mean end-to-end training loss of each epoch of the first member.

    See Also
    --------
    sklearn.pipeline.make_pipeline : ``make_pipeline(ArchitectureEmbedder(),
        TransductiveGCNRegressor())`` is the two stages with a frozen encoder.

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
    >>> assessor.embedder_.transform(cells).shape
    (3, 32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "embedder": [HasMethods(["fit", "transform"])],
        "regressor": [HasMethods(["fit", "predict", "relation_graph", "train_head", "set_fitted"])],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "graph_update_interval": [Interval(Integral, 1, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "n_ensemble": [Interval(Integral, 1, None, closed="left")],
        "share_embedder": ["boolean"],
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
        embedder: ArchitectureEmbedder = _DEFAULT_EMBEDDER,
        regressor: TransductiveGCNRegressor = _DEFAULT_REGRESSOR,
        *,
        max_iter: int = 50,
        learning_rate_init: float = 2e-3,
        graph_update_interval: int = 10,
        reconstruction_weight: float = 0.0,
        n_ensemble: int = 3,
        share_embedder: bool = True,
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
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.graph_update_interval = graph_update_interval
        self.reconstruction_weight = reconstruction_weight
        self.n_ensemble = n_ensemble
        self.share_embedder = share_embedder
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
        return mark_uses_unlabeled(tags)

    def set_params(self, **params: Any) -> SemiSupervisedAssessor:
        """Set parameters, nested ones included (``embedder__embedding_dim=16``).

        A part is copied before a nested parameter changes it, so the
        defaults shared by every assessor are never changed.
        """
        for part in ("embedder", "regressor"):
            if part not in params and any(key.startswith(f"{part}__") for key in params):
                setattr(self, part, clone(getattr(self, part)))
        return super().set_params(**params)

    # ------------------------------------------------------------------ fit

    @one_torch_thread
    def fit(self, X: Any, y: Any) -> SemiSupervisedAssessor:
        """Fit the embedder on all cells, then each member's regressor with the encoder.

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
        cells = check_cells(X, self.embedder.space, min_cells=2)
        target = check_partial_targets(y, len(cells), min_labeled=2)
        self.labeled_mask_ = ~np.isnan(target)
        rng = check_random_state(self.random_state)
        parts = {"device": self.device, "verbose": self.verbose}
        embedder = clone(self.embedder).set_params(random_state=derive_seed(rng), **parts)
        if self.share_embedder:
            embedder.fit(cells)  # stage 1, unsupervised, shared by every member
        regressor = clone(self.regressor).set_params(**parts)
        regressor._validate_params()  # its fit is not called: the assessor trains its head
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_ensemble)
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(self._fit_member)(embedder, regressor, cells, target, int(seed), member)
            for member, seed in enumerate(seeds)
        )
        self.embedder_, self.regressor_ = (step for _, step in self.estimators_[0].steps)
        self.loss_curve_ = self.regressor_.loss_curve_
        self.n_iter_ = self.regressor_.n_iter_
        members = [pipeline[-1].transduction_ for pipeline in self.estimators_]
        self._standardise = [_standardiser(scores[self.labeled_mask_]) for scores in members]
        combined = self._combine(members)
        self._line = rank_preserving_line(combined[self.labeled_mask_], target[self.labeled_mask_])
        self.transduction_ = self._line[0] * combined + self._line[1]
        return self

    @one_torch_thread
    def _fit_member(
        self,
        embedder: ArchitectureEmbedder,
        regressor: TransductiveGCNRegressor,
        cells: list,
        target: np.ndarray,
        seed: int,
        member: int,
    ) -> Pipeline:
        """Stage 2 of one member; runs in a joblib worker when ``n_jobs`` asks.

        The member's randomness comes from ``seed`` alone, so the result does
        not depend on where it runs.
        """
        rng = np.random.RandomState(seed)
        regressor = clone(regressor).set_params(random_state=derive_seed(rng))
        if self.share_embedder:
            embedder = copy.deepcopy(embedder)
        else:  # stage 1 of this member alone
            embedder = clone(embedder).set_params(random_state=derive_seed(rng)).fit(cells)
        self._train_end_to_end(embedder, regressor, cells, target, rng, member)
        return Pipeline([("embedder", embedder), ("regressor", regressor)])

    def _train_end_to_end(
        self,
        embedder: ArchitectureEmbedder,
        regressor: TransductiveGCNRegressor,
        cells: list,
        target: np.ndarray,
        rng: np.random.RandomState,
        member: int,
    ) -> None:
        """Train the regressor's head with the encoder; leave both parts fitted on the result."""
        device = resolve_device(self.device)
        generator = make_generator(derive_seed(rng))
        graph_seed = derive_seed(rng)
        vocabulary = embedder.vocabulary_
        batch = CellBatch(*vocabulary.arrays(cells), len(vocabulary.op_names), device)
        head = regressor.make_head(embedder.encoder_.to_latent.out_features, generator, device)
        network = nn.ModuleDict({"encoder": embedder.encoder_, "head": head})
        if self.reconstruction_weight > 0:
            network["decoder"] = embedder.decoder_
        network.to(device)
        labeled = np.flatnonzero(~np.isnan(target))
        train_rows, validation_rows = labeled, labeled[:0]
        if self.early_stopping:
            train_rows, validation_rows = validation_split(labeled, self.validation_fraction, rng)

        def build_graph(rows: np.ndarray | None):
            embeddings = encode_in_batches(network["encoder"], batch, _encoding_chunk(device))
            return regressor.relation_graph(device, graph_seed).fit(
                embeddings, rows=rows, reference_rows=train_rows
            )

        graph = build_graph(labeled)

        def score(rows: torch.Tensor) -> torch.Tensor:
            _, embedding = network["encoder"](batch[rows])
            return network["head"](embedding, *graph.neighbourhood(rows))

        def rebuild(epoch: int) -> None:
            nonlocal graph
            last = epoch + 1 == self.max_iter  # the graph over every cell follows
            if (epoch + 1) % self.graph_update_interval == 0 and not last:
                graph = build_graph(labeled)

        def reconstruction() -> torch.Tensor:
            others = batch[torch.randint(len(batch), (regressor.batch_size,), generator=generator)]
            latents, _ = network["encoder"](others)
            return self.reconstruction_weight * reconstruction_loss(
                others, *network["decoder"](latents)
            )

        curve, stopper = regressor.train_head(
            network,
            score,
            train_rows,
            target,
            generator,
            validation_rows,
            max_iter=self.max_iter,
            learning_rate_init=self.learning_rate_init,
            n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
            tol=0.0,
            regulariser=reconstruction if self.reconstruction_weight > 0 else None,
            after_epoch=rebuild,
            label=f"member {member} epoch",
        )
        final = build_graph(None)  # every cell, with the search index kept for predict
        embedder.encoder_ = network["encoder"].cpu().eval()
        if self.reconstruction_weight > 0:
            embedder.decoder_ = network["decoder"].cpu().eval()
        validation = stopper if self.early_stopping else None
        regressor.set_fitted(network["head"], final, target, train_rows, curve, validation)

    def _combine(self, member_scores: list[np.ndarray]) -> np.ndarray:
        """Mean of the members' scores, each standardised on the labeled cells."""
        standardised = [
            (scores - mean) / scale
            for scores, (mean, scale) in zip(member_scores, self._standardise, strict=True)
        ]
        return np.mean(standardised, axis=0)

    # -------------------------------------------------------------- predict

    @one_torch_thread
    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, ...]:
        """Predict the performance of cells, each attached on its own to the members' graphs.

        Parameters
        ----------
        X : sequence of cells
        return_std : bool, default=False
            Also return the spread of the members' predictions (their standard
            deviation, in target units): the ensemble's uncertainty.

        Returns
        -------
        y_pred : ndarray of shape (n_cells,)
            Predictions in target units (an order-keeping linear map of the
            members' average score).
        y_std : ndarray of shape (n_cells,)
            Only with ``return_std=True``; zero for an ensemble of one.
        """
        check_is_fitted(self)
        cells = check_cells(X, self.embedder_.space)
        # threads suffice: torch and the neighbour search release the GIL
        members = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(pipeline.predict)(cells) for pipeline in self.estimators_
        )
        slope, intercept = self._line
        prediction = slope * self._combine(members) + intercept
        if not return_std:
            return prediction
        standardised = [
            (scores - mean) / scale
            for scores, (mean, scale) in zip(members, self._standardise, strict=True)
        ]
        return prediction, slope * np.std(standardised, axis=0)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "estimators_")


def _standardiser(labeled_scores: np.ndarray) -> tuple[float, float]:
    """Mean and spread of a member's scores on the labeled cells (spread 1 if constant)."""
    scale = float(labeled_scores.std())
    return float(labeled_scores.mean()), scale if scale > 0 else 1.0


def _encoding_chunk(device: torch.device) -> int:
    # cache-sized batches on a CPU (1.75x faster than 4096), large ones on a GPU
    return 1024 if device.type == "cpu" else 16384
