"""The PyTorch NAS-Bench-201 network against the benchmark's published parameter counts."""

import numpy as np
import pytest
import torch

from skassess import InvalidCellError
from skassess.networks import NASBench201Network
from skassess.spaces import NASBench201
from skassess.spaces._nasbench201 import LAYOUT

SPACE = NASBench201()
ALL_CONV3X3 = ["nor_conv_3x3"] * 6
NO_WEIGHTS = ["none", "skip_connect", "avg_pool_3x3", "none", "skip_connect", "avg_pool_3x3"]


def _trainable(network):
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


# The smallest and largest networks of the benchmark's cost tables (NAS-Bench-201
# v1_1, ``params`` in millions): no weighted op, and nor_conv_3x3 on every edge.
@pytest.mark.parametrize(
    ("n_classes", "smallest", "largest"),
    [(10, 73_306, 1_531_546), (100, 79_156, 1_537_396), (120, 80_456, 1_538_696)],
)
def test_parameter_counts_are_the_published_extremes(n_classes, smallest, largest):
    small = NASBench201Network(SPACE.cell_from_edge_ops(NO_WEIGHTS), n_classes=n_classes)
    large = NASBench201Network(SPACE.cell_from_edge_ops(ALL_CONV3X3), n_classes=n_classes)
    assert _trainable(small) == smallest
    assert _trainable(large) == largest


def test_each_convolution_adds_its_weights_in_every_stage():
    counts = {}
    for ops in (NO_WEIGHTS, ["nor_conv_1x1", *NO_WEIGHTS[1:]], ["nor_conv_3x3", *NO_WEIGHTS[1:]]):
        counts[ops[0]] = _trainable(NASBench201Network(SPACE.cell_from_edge_ops(ops)))
    # 5 cells per stage; ReLU-conv-BN at 16, 32 and 64 channels
    assert counts["nor_conv_1x1"] - counts["none"] == 5 * sum(c * c + 2 * c for c in (16, 32, 64))
    assert counts["nor_conv_3x3"] - counts["none"] == 5 * sum(
        9 * c * c + 2 * c for c in (16, 32, 64)
    )


def test_arch_string_cell_and_pruned_cell_build_the_same_network():
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    cell = SPACE.cell_from_arch_str(arch)
    from_string = NASBench201Network(arch)
    assert from_string.edge_ops == SPACE.edge_ops(cell)
    assert _trainable(NASBench201Network(cell)) == _trainable(from_string)
    pruned = NASBench201Network(SPACE.prune(cell))
    assert SPACE.hash(SPACE.cell_from_edge_ops(pruned.edge_ops)) == SPACE.hash(cell)


def test_forward_on_a_cifar_batch_and_backward():
    # every op on a path to the output, so that every weight gets a gradient
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    network = NASBench201Network(arch, generator=torch.Generator().manual_seed(0))
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    logits = network(images)
    assert logits.shape == (4, 10) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in network.parameters())


def test_a_cell_that_computes_zero_still_gives_logits():
    network = NASBench201Network(SPACE.cell_from_edge_ops(["none"] * 6), n_classes=3)
    logits = network(torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)))
    assert logits.shape == (2, 3)
    # every stage-1 cell outputs zeros, so the images do not matter
    other = network(torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)))
    torch.testing.assert_close(logits, other)


def test_initialisation_is_reproducible_and_leaves_the_global_generator_alone():
    state = torch.random.get_rng_state()
    cell = SPACE.cell_from_edge_ops(ALL_CONV3X3)
    first = NASBench201Network(cell, generator=torch.Generator().manual_seed(5))
    second = NASBench201Network(cell, generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.random.get_rng_state(), state)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    stem = first.stem[0].weight
    assert stem.abs().max() <= 1 / 27**0.5 and stem.std() > 0.5 / (3 * 27**0.5)


def test_batch_norm_has_pytorch_defaults_as_the_official_code():
    network = NASBench201Network(SPACE.cell_from_edge_ops(ALL_CONV3X3))
    norms = [m for m in network.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 1 + 15 * 6 + 2 * 2 + 1
    assert all(m.eps == 1e-5 and m.momentum == 0.1 and m.affine for m in norms)


def test_invalid_cells_are_refused():
    with pytest.raises(InvalidCellError, match="unknown op"):
        NASBench201Network((LAYOUT, ["input", *ALL_CONV3X3[:5], "conv5x5", "output"]))
    with pytest.raises(InvalidCellError, match="3 nodes"):
        NASBench201Network("|nor_conv_3x3~0|")


def test_network_counts_what_the_space_counts():
    space = NASBench201()
    rng = np.random.RandomState(0)
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    cells = [space.cell_from_edge_ops(rng.choice(ops, 6).tolist()) for _ in range(5)]
    networks = [NASBench201Network(cell) for cell in cells]
    counts = [sum(p.numel() for p in net.parameters() if p.requires_grad) for net in networks]
    assert counts == space.trainable_parameters(cells).tolist()
