"""Torch building blocks of skassess's estimators, each in one place.

The data flow of the semi-supervised assessor (Tang et al., CVPR 2020), stage
by stage:

- cells to tensors and embeddings: :class:`CellVocabulary`, :class:`CellBatch`,
  the directional-GIN :class:`CellEncoder` and its :class:`CellDecoder`, with
  :func:`reconstruction_loss` (the auto-encoder);
- embeddings to a relation graph: :class:`RelationGraph` (neighbour lists with
  Gaussian weights, over :mod:`skassess.neighbors`);
- the graph to scores: :class:`GraphConvHead` (a one-hop graph convolution and
  an MLP), or :func:`mlp` without a graph;
- scores to a ranking: :func:`training_loss` (pairwise ranking losses or the
  squared error on Gaussianised ranks) and the order-keeping calibration
  :func:`rank_preserving_line`;
- :func:`train_epochs` and :class:`EarlyStopping`: the one training loop.

:class:`~skassess.ArchitectureEmbedder`, :class:`~skassess.TransductiveGCNRegressor`,
:class:`~skassess.SemiSupervisedAssessor` and
:class:`~skassess.baselines.NeuralPredictor` are thin estimators over these.
"""

from skassess.nn._cell_encoder import (
    CellBatch,
    CellDecoder,
    CellEncoder,
    CellVocabulary,
    DirectionalGINLayer,
    encode_in_batches,
    reconstruction_accuracy,
    reconstruction_loss,
)
from skassess.nn._heads import GraphConvHead, SeededDropout, dropout_generator, mlp
from skassess.nn._losses import (
    LOSSES,
    gaussianised_ranks,
    rank_preserving_line,
    training_loss,
    training_targets,
)
from skassess.nn._relation_graph import RelationGraph, kernel_bandwidth, kernel_weights
from skassess.nn._training import EarlyStopping, fit_scores, train_epochs, validation_split

__all__ = [
    "LOSSES",
    "CellBatch",
    "CellDecoder",
    "CellEncoder",
    "CellVocabulary",
    "DirectionalGINLayer",
    "EarlyStopping",
    "GraphConvHead",
    "RelationGraph",
    "SeededDropout",
    "dropout_generator",
    "encode_in_batches",
    "fit_scores",
    "gaussianised_ranks",
    "kernel_bandwidth",
    "kernel_weights",
    "mlp",
    "rank_preserving_line",
    "reconstruction_accuracy",
    "reconstruction_loss",
    "train_epochs",
    "training_loss",
    "training_targets",
    "validation_split",
]
