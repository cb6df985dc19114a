"""The PyTorch NAS-Bench-101 network against the official parameter counts."""

import numpy as np
import pytest
import torch

from skassess import Cell, InvalidCellError
from skassess.networks import NASBench101Network
from skassess.spaces import NASBench101


def _trainable(network):
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


@pytest.fixture(scope="module")
def table_sample(nb101_path):
    with np.load(nb101_path) as data:
        sizes = data["num_vertices"]
        rng = np.random.default_rng(0)
        rows = [int(np.flatnonzero(sizes == v)[0]) for v in range(2, 7)]  # every size
        rows += rng.choice(len(sizes), 7, replace=False).tolist()
        names = data["op_names"].astype(str)
        return [
            (
                Cell(
                    data["adjacency"][r, : sizes[r], : sizes[r]],
                    list(names[data["ops"][r, : sizes[r]]]),
                ),
                int(data["params"][r]),
            )
            for r in rows
        ]


def test_parameter_count_is_the_official_one(table_sample):
    for cell, official in table_sample:
        network = NASBench101Network(cell)
        assert _trainable(network) == official == NASBench101().trainable_parameters([cell])[0]


def test_forward_on_a_cifar_batch_and_backward():
    space = NASBench101()
    cell = space.sample(1, random_state=3)[0]
    network = NASBench101Network(cell, generator=torch.Generator().manual_seed(0))
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    logits = network(images)
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in network.parameters())


def test_initialisation_is_reproducible_and_leaves_the_global_generator_alone():
    cell = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv1x1-bn-relu", "output"])
    state = torch.random.get_rng_state()
    first = NASBench101Network(cell, generator=torch.Generator().manual_seed(5))
    second = NASBench101Network(cell, generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.random.get_rng_state(), state)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    conv = first.stem[0].weight
    std = (1 / 27) ** 0.5 / 0.87962566103423978
    assert conv.abs().max() <= 2 * std and abs(conv.std().item() - (1 / 27) ** 0.5) < 0.05


def test_batch_norm_follows_the_official_settings():
    network = NASBench101Network(([[0, 1], [0, 0]], ["input", "output"]))
    norms = [m for m in network.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.eps == 1e-5 and abs(m.momentum - 0.003) < 1e-12 for m in norms)


def test_unpruned_cell_builds_its_pruned_network():
    dangling = (
        [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"],
    )
    pruned = NASBench101().prune(dangling)
    assert _trainable(NASBench101Network(dangling)) == _trainable(NASBench101Network(pruned))


def test_invalid_cell_is_refused():
    with pytest.raises(InvalidCellError, match="unknown op"):
        NASBench101Network(([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]))
