"""The NAS-Bench-101 network of a cell as a PyTorch module.

Built as the official TensorFlow model builder builds it
(``nasbench/lib/model_builder.py`` and ``base_ops.py``, Ying et al., 2019),
so that its trainable parameters are exactly the benchmark's count
(:mod:`skassess.spaces._parameters` states the rules):

- stem: 3x3 convolution to 128 channels, batch normalisation, ReLU;
- 3 stacks of 3 modules (copies of the pruned cell), a 2x2 max pooling and
  twice the channels before the second and the third stack;
- in a module, vertex ``t`` adds the outputs of the inner vertices feeding it,
  each cut to its first ``channels[t]`` channels, and a 1x1 projection of the
  module input when the input feeds it, then applies its op; the output
  concatenates the inner vertices feeding it, in vertex order, plus a 1x1
  projection of the input when the input feeds it;
- global average pooling and a dense layer to 10 classes.

What follows the official network: convolutions without bias, "same" padding,
batch normalisation with the official momentum 0.997 (PyTorch's ``momentum``
is the weight of the new batch: 0.003) and epsilon 1e-5; convolution weights
drawn from a normal distribution truncated at two standard deviations with
variance ``1 / fan_in`` (TensorFlow's ``variance_scaling_initializer()``), the
dense layer's weights Glorot-uniform and its biases zero
(``tf.layers.dense``). What cannot follow it exactly: the random draws
themselves (PyTorch's generators are not TensorFlow's), cuDNN/TPU numerics,
and the training recipe (RMSProp with epsilon 1, cosine decay, weight decay on
all variables, the data pipeline), which belongs to the training loop, not the
module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from skassess.spaces import NASBench101
from skassess.spaces._parameters import vertex_channels

__all__ = ["NASBench101Network"]

_BN_MOMENTUM = 1 - 0.997  # TensorFlow's decay of the moving averages, as PyTorch's momentum
_BN_EPSILON = 1e-5
_KERNEL = {"conv1x1-bn-relu": 1, "conv3x3-bn-relu": 3}


class _ConvBnRelu(nn.Sequential):
    """Convolution (no bias, "same" padding), batch normalisation, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels, eps=_BN_EPSILON, momentum=_BN_MOMENTUM),
            nn.ReLU(),
        )


class _Module(nn.Module):
    """One copy of a pruned cell with ``in_channels`` in and ``out_channels`` out.

    ``vertices[t]`` computes inner vertex ``t``; ``projections[t]`` is the 1x1
    projection of the module input into it (or into the output, last).
    """

    def __init__(
        self, matrix: np.ndarray, ops: tuple[str, ...], in_channels: int, out_channels: int
    ) -> None:
        super().__init__()
        n = matrix.shape[0]
        self.matrix = [row.tolist() for row in matrix.astype(bool)]
        self.channels = vertex_channels(matrix[None], np.array([n]), in_channels, out_channels)[
            0
        ].tolist()
        self.vertices = nn.ModuleList()
        self.projections = nn.ModuleList()
        for t in range(1, n):
            c = self.channels[t]
            fed = self.matrix[0][t]
            self.projections.append(_ConvBnRelu(in_channels, c, 1) if fed else nn.Identity())
            if t < n - 1:
                kernel = _KERNEL.get(ops[t])
                op = (
                    _ConvBnRelu(c, c, kernel)
                    if kernel
                    else nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
                )
                self.vertices.append(op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        outputs: list[torch.Tensor] = [x]
        for t in range(1, n - 1):
            c = self.channels[t]
            summands = [outputs[s][:, :c] for s in range(1, t) if self.matrix[s][t]]
            if self.matrix[0][t]:
                summands.append(self.projections[t - 1](x))
            outputs.append(self.vertices[t - 1](sum(summands[1:], summands[0])))
        fan_in = [outputs[t] for t in range(1, n - 1) if self.matrix[t][n - 1]]
        if not fan_in:  # input -> output only
            return self.projections[-1](x)
        out = torch.cat(fan_in, dim=1) if len(fan_in) > 1 else fan_in[0]
        if self.matrix[0][n - 1]:
            out = out + self.projections[-1](x)
        return out


class NASBench101Network(nn.Module):
    """The NAS-Bench-101 CIFAR-10 network built from a cell.

    Parameters
    ----------
    cell : cell of the NAS-Bench-101 space, in any spelling :func:`skassess.as_cell` accepts
        Pruned first, as the official ``ModelSpec`` does; its vertex order
        decides which vertices get the extra channel of an uneven split (see
        :meth:`skassess.spaces.NASBench101.trainable_parameters`).
    stem_channels : int, default=128
    n_stacks : int, default=3
    n_modules : int, default=3
        Modules (copies of the cell) per stack.
    n_classes : int, default=10
    generator : torch.Generator, optional
        Draws the initial weights; the global generator when None (nothing
        else is drawn from it).

    Examples
    --------
    >>> import torch
    >>> from skassess.networks import NASBench101Network
    >>> cell = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> network = NASBench101Network(cell, generator=torch.Generator().manual_seed(0))
    >>> sum(p.numel() for p in network.parameters() if p.requires_grad)
    10177674
    >>> network(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        cell: Any,
        *,
        stem_channels: int = 128,
        n_stacks: int = 3,
        n_modules: int = 3,
        n_classes: int = 10,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        space = NASBench101()
        pruned = space.prune(space.validate(cell))
        # built without storage, so that PyTorch's own initialisation draws
        # nothing from the global generator; _initialise fills everything
        with torch.device("meta"):
            self.stem = _ConvBnRelu(3, stem_channels, 3)
            layers: list[nn.Module] = []
            in_channels = channels = stem_channels
            for stack in range(n_stacks):
                if stack > 0:
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                    channels *= 2
                for _ in range(n_modules):
                    layers.append(_Module(pruned.matrix, pruned.ops, in_channels, channels))
                    in_channels = channels
            self.stacks = nn.Sequential(*layers)
            self.classifier = nn.Linear(channels, n_classes)
        self.to_empty(device="cpu")
        _initialise(self, generator)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of images (n, 3, height, width)."""
        features = self.stacks(self.stem(images))
        return self.classifier(features.mean(dim=(2, 3)))


@torch.no_grad()
def _initialise(network: nn.Module, generator: torch.Generator | None) -> None:
    """TensorFlow's defaults: truncated-normal (variance 1 / fan_in) kernels, Glorot dense.

    Every parameter and buffer is set, so the network may have been built
    without storage (``to_empty``).
    """
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            # a normal truncated at 2 std has variance 0.7737 of the untruncated one
            std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
            nn.init.trunc_normal_(module.weight, 0.0, std, -2 * std, 2 * std, generator=generator)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight, generator=generator)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()  # scale 1, offset 0, moving mean 0 and variance 1
