"""Trainable parameters of NAS-Bench-101 networks against the official counts."""

import numpy as np
import pytest

from skassess import Cell, InvalidCellError
from skassess.encoders import ParameterCountEncoder
from skassess.spaces import NASBench101
from skassess.spaces._parameters import vertex_channels
from skassess.utils.estimator_checks import check_architecture_estimator

README_MATRIX = [
    [0, 1, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
README_OPS = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu"]
README_OPS += ["conv3x3-bn-relu", "maxpool3x3", "output"]


@pytest.fixture(scope="module")
def bench(nb101_path):
    from skassess.datasets import load_nasbench101

    return load_nasbench101(nb101_path)


@pytest.fixture(scope="module")
def table(nb101_path):
    with np.load(nb101_path) as data:
        return {k: data[k] for k in ("params", "hashes", "adjacency", "ops", "num_vertices")}


@pytest.mark.slow
def test_every_cell_of_the_table_has_its_official_parameter_count(bench, table):
    counts = NASBench101().trainable_parameters(bench.cells)
    mismatches = np.flatnonzero(counts != table["params"])
    assert mismatches.size == 0, f"{mismatches.size} cells differ, first rows {mismatches[:5]}"


def test_readme_cell_has_the_readme_count_in_both_orders(table):
    row = int(np.flatnonzero(table["hashes"] == b"28cfc7874f6d200472e1a9dcd8650aa0")[0])
    n = int(table["num_vertices"][row])
    names = NASBench101().op_names
    stored = Cell(table["adjacency"][row, :n, :n], [names[i] for i in table["ops"][row, :n]])
    counts = NASBench101().trainable_parameters([(README_MATRIX, README_OPS), stored])
    assert counts.tolist() == [2_694_282, 2_694_282] == [table["params"][row]] * 2


def test_the_smallest_cell_by_hand():
    # input -> output: each module is one 1x1 projection (conv + batch norm) of its input
    stem = 3 * 3 * 3 * 128 + 2 * 128
    pairs = [(128, 128)] * 3 + [(128, 256)] + [(256, 256)] * 2 + [(256, 512)] + [(512, 512)] * 2
    modules = sum(c_in * c_out + 2 * c_out for c_in, c_out in pairs)
    dense = 512 * 10 + 10
    count = NASBench101().trainable_parameters([([[0, 1], [0, 0]], ["input", "output"])])
    assert count.tolist() == [stem + modules + dense]


def test_unpruned_cells_count_as_their_pruned_form():
    dangling = Cell(
        [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"],
    )
    pruned = NASBench101().prune(dangling)
    counts = NASBench101().trainable_parameters([dangling, pruned])
    assert pruned.n_vertices == 3 and counts[0] == counts[1]


def test_invalid_cells_are_named():
    cells = [([[0, 1], [0, 0]], ["input", "output"]), ([[0, 0], [0, 0]], ["input", "output"])]
    with pytest.raises(InvalidCellError, match="cell 1: the input cannot reach the output"):
        NASBench101().trainable_parameters(cells)


def _official_channels(matrix, input_channels, output_channels):
    """compute_vertex_channels of nasbench's model_builder, read as a plain loop."""
    n = matrix.shape[0]
    channels = [0] * n
    channels[0], channels[n - 1] = input_channels, output_channels
    if n == 2:
        return channels
    fan_in = int(matrix[1:, n - 1].sum())
    share, extra = divmod(output_channels, fan_in)
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            channels[v] = share + (1 if extra else 0)
            extra -= 1 if extra else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for w in range(v + 1, n - 1):
                if matrix[v, w]:
                    channels[v] = max(channels[v], channels[w])
    return channels


def test_vertex_channels_match_the_builders_loop_on_random_cells():
    space = NASBench101()
    cells = [space.prune(c) for c in space.sample(300, random_state=0, prune=False)]
    sizes = np.array([c.n_vertices for c in cells])
    adjacency = np.zeros((len(cells), 7, 7), dtype=np.uint8)
    for k, cell in enumerate(cells):
        adjacency[k, : cell.n_vertices, : cell.n_vertices] = cell.matrix
    for c_in, c_out in [(128, 128), (128, 256), (256, 512), (7, 13)]:
        got = vertex_channels(adjacency, sizes, c_in, c_out)
        for k, cell in enumerate(cells):
            n = cell.n_vertices
            assert got[k, :n].tolist() == _official_channels(cell.matrix, c_in, c_out)
            assert not got[k, n:].any()


def test_vertex_channels_reject_bad_sizes():
    with pytest.raises(ValueError, match="n_vertices must hold 1 sizes between 2 and 3"):
        vertex_channels(np.zeros((1, 3, 3)), np.array([4]), 8, 8)


def test_parameter_count_encoder():
    space = NASBench101()
    cells = space.sample(40, random_state=1)
    counts = space.trainable_parameters(cells)
    features = ParameterCountEncoder().fit_transform(cells)
    assert features.shape == (40, 1) and features[:, 0].tolist() == counts.tolist()
    logged = ParameterCountEncoder(log=True, dtype=np.float32).fit(cells)
    np.testing.assert_allclose(logged.transform(cells)[:, 0], np.log(counts), rtol=1e-6)
    assert logged.transform(cells).dtype == np.float32
    assert logged.get_feature_names_out().tolist() == ["log_n_parameters"]
    reason = "stateless: transform needs no fit, as with FunctionTransformer"
    stateless = {"check_unfitted": reason, "check_clone": reason}
    check_architecture_estimator(ParameterCountEncoder(), cells, expected_failed_checks=stateless)


def test_parameter_count_encoder_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one cell"):
        ParameterCountEncoder().fit([])
    with pytest.raises(ValueError, match="floating-point"):
        ParameterCountEncoder(dtype=np.int64).fit([([[0, 1], [0, 0]], ["input", "output"])])
    with pytest.raises(InvalidCellError, match="cell 0"):
        ParameterCountEncoder().fit([([[0, 1], [0, 0]], ["input", "conv"])])


def test_nasbench201_parameter_counts_span_the_published_range():
    from skassess.spaces import NASBench201

    space = NASBench201()
    cells = [space.cell_from_edge_ops([op] * 6) for op in ("nor_conv_3x3", "skip_connect")]
    # Dong and Yang (2020) publish 0.073306 to 1.531546 million for CIFAR-10
    assert space.trainable_parameters(cells).tolist() == [1_531_546, 73_306]
    one_of_each = space.cell_from_arch_str(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|none~2|"
    )
    counts = space.trainable_parameters([one_of_each, one_of_each], num_classes=100)
    assert counts.tolist() == [79_156 + 243_040 + 28_000] * 2
    encoded = ParameterCountEncoder(space).fit([one_of_each]).transform([one_of_each])
    assert encoded.tolist() == [[73_306 + 243_040 + 28_000]]


def test_parameter_count_encoder_needs_a_space_that_counts():
    with pytest.raises(ValueError, match="trainable_parameters"):
        ParameterCountEncoder(space=object()).fit([([[0, 1], [0, 0]], ["input", "output"])])
