"""The NAS-Bench-201 network of a cell as a PyTorch module.

Built as the benchmark's own PyTorch code builds its networks (Dong & Yang,
ICLR 2020; the ``TinyNetwork``, ``InferCell`` and ``ResNetBasicblock`` of the
authors' AutoDL-Projects / NATS-Bench code), so that its trainable parameters
are the benchmark's count:

- stem: 3x3 convolution (no bias) to 16 channels, batch normalisation;
- 3 stages of 5 cells, of 16, 32 and 64 channels, with a residual reduction
  block between stages: ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN, plus a
  shortcut of 2x2 average pooling and a 1x1 convolution (no bias);
- in a cell, node ``j`` (1 to 3) sums the ops on its edges from the nodes
  before it, node 0 is the cell input and node 3 its output; ``none`` outputs
  zeros, ``skip_connect`` is the identity, ``nor_conv_kxk`` is ReLU, kxk
  convolution (no bias, "same" padding), batch normalisation, and
  ``avg_pool_3x3`` is a 3x3 average pooling (stride 1, padding 1, the
  padding left out of the average);
- batch normalisation and ReLU, global average pooling, a dense layer.

Its parameter count is ``73,306 + 243,040 * n_conv3x3 + 28,000 * n_conv1x1``
for 10 classes, which gives the extremes the benchmark's cost tables list,
0.073306 and 1.531546 million (0.079156 and 1.537396 for CIFAR-100's 100
classes, 0.080456 and 1.538696 for ImageNet16-120's 120).

What follows the official network: the layers, their order and their
shapes; batch normalisation with PyTorch's defaults (momentum 0.1, epsilon
1e-5, learned scale and offset, running statistics), as the official code
uses them; each layer's weights drawn as PyTorch's own default initialisation
draws them (uniform, bound ``1 / sqrt(fan_in)``), here from the ``generator``
passed, so nothing is drawn from the global generator. What cannot follow it:
the random draws themselves, and the training recipe (SGD with Nesterov
momentum, cosine schedule, 200 epochs, the data splits and augmentation),
which belongs to the training loop, not the module. The official
``TinyNetwork`` also returns the pooled features beside the logits; this
module returns the logits.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from skassess.spaces import NASBench201
from skassess.spaces._nasbench201 import EDGES, NONE

__all__ = ["NASBench201Network"]


class _ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias ("same" padding unless strided), batch normalisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
        )


def _edge_op(name: str, channels: int) -> nn.Module | None:
    """The module of one edge op; None for ``none``, whose output is zero."""
    if name == NONE:
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)
    kernel = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}[name]
    return _ReLUConvBN(channels, channels, kernel)


class _Cell(nn.Module):
    """The 4-node cell: node ``j`` sums its edges' ops applied to the nodes before it."""

    def __init__(self, edge_ops: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.edges = [(target, source) for target, source in EDGES]
        modules = [_edge_op(name, channels) for name in edge_ops]
        self.kept = [k for k, module in enumerate(modules) if module is not None]
        self.ops = nn.ModuleList([modules[k] for k in self.kept])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x, None, None, None]
        for module, k in zip(self.ops, self.kept, strict=True):
            target, source = self.edges[k]
            value = module(nodes[source] if nodes[source] is not None else torch.zeros_like(x))
            nodes[target] = value if nodes[target] is None else nodes[target] + value
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class _Reduction(nn.Module):
    """The residual block between stages: half the resolution, twice the channels."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_a = _ReLUConvBN(in_channels, out_channels, 3, stride=2)
        self.conv_b = _ReLUConvBN(out_channels, out_channels, 3)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NASBench201Network(nn.Module):
    """The NAS-Bench-201 network built from a cell.

    Parameters
    ----------
    cell : cell of the NAS-Bench-201 space, or its architecture string
        Any spelling :class:`~skassess.spaces.NASBench201` accepts; a cell
        other than the 8-vertex layout stands for the architecture
        :meth:`~skassess.spaces.NASBench201.edge_ops` picks (the same graph).
    channels : int, default=16
        Channels of the first stage; the second and third have 2x and 4x.
    n_cells : int, default=5
        Cells per stage.
    n_classes : int, default=10
        10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120.
    generator : torch.Generator, optional
        Draws the initial weights; the global generator when None (nothing
        else is drawn from it).

    Attributes
    ----------
    edge_ops : tuple of str
        The ops of the cell's 6 edges, (1<-0), (2<-0), (2<-1), (3<-0),
        (3<-1), (3<-2).

    Examples
    --------
    >>> import torch
    >>> from skassess.networks import NASBench201Network
    >>> arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|"
    >>> network = NASBench201Network(arch, generator=torch.Generator().manual_seed(0))
    >>> sum(p.numel() for p in network.parameters() if p.requires_grad)
    802426
    >>> network(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        cell: Any,
        *,
        channels: int = 16,
        n_cells: int = 5,
        n_classes: int = 10,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        space = NASBench201()
        if isinstance(cell, str):
            cell = space.cell_from_arch_str(cell)
        self.edge_ops = space.edge_ops(space.validate(cell))
        # built without storage, so that PyTorch's own initialisation draws
        # nothing from the global generator; _initialise fills everything
        with torch.device("meta"):
            self.stem = nn.Sequential(
                nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
            )
            layers: list[nn.Module] = []
            width = channels
            for stage in range(3):
                if stage > 0:
                    layers.append(_Reduction(width, 2 * width))
                    width *= 2
                layers += [_Cell(self.edge_ops, width) for _ in range(n_cells)]
            self.cells = nn.Sequential(*layers)
            self.head = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU())
            self.classifier = nn.Linear(width, n_classes)
        self.to_empty(device="cpu")
        _initialise(self, generator)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of images (n, 3, height, width)."""
        features = self.head(self.cells(self.stem(images)))
        return self.classifier(features.mean(dim=(2, 3)))


@torch.no_grad()
def _initialise(network: nn.Module, generator: torch.Generator | None) -> None:
    """PyTorch's default initialisation of each layer, drawn from ``generator``.

    Convolution and dense weights (and dense biases) uniform in
    ``+-1 / sqrt(fan_in)``, which is what ``kaiming_uniform_(a=sqrt(5))``
    gives; batch normalisation scale 1, offset 0, running mean 0, variance 1.
    """
    for module in network.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            fan_in = module.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(module.weight, -bound, bound, generator=generator)
            if module.bias is not None:
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()
