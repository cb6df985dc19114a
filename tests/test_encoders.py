import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import get_tags

from skassess import Cell, InvalidCellError
from skassess.encoders import AdjacencyOpsEncoder, PathEncoder
from skassess.spaces import NASBench101
from skassess.utils.estimator_checks import check_architecture_estimator

NB101_OPS = ("conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3")


def _nb101_sample(path, n, seed):
    with np.load(path) as data:
        rows = np.sort(np.random.default_rng(seed).choice(len(data["test_acc"]), n, replace=False))
        names = data["op_names"].astype(str)
        adjacency, ops, sizes = (
            data["adjacency"][rows],
            data["ops"][rows],
            data["num_vertices"][rows],
        )
    return [
        Cell(a[:v, :v], list(names[o[:v]])) for a, o, v in zip(adjacency, ops, sizes, strict=True)
    ]


@pytest.fixture(scope="module")
def nb101_cells(nb101_path):
    return _nb101_sample(nb101_path, 200, seed=0)


# A diamond: input -> a -> output, input -> b -> c -> output, plus input -> c.
DIAMOND = Cell(
    [
        [0, 1, 1, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ],
    ["input", "a", "b", "c", "output"],
)
SMALL = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "c", "output"])
SMALL_NB101 = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])


# -- AdjacencyOpsEncoder ------------------------------------------------------------


def test_adjacency_features_by_hand():
    encoder = AdjacencyOpsEncoder().fit([DIAMOND, SMALL])
    assert encoder.ops_ == ("a", "b", "c") and encoder.max_vertices_ == 5
    names = encoder.get_feature_names_out()
    assert list(names[:4]) == ["edge_0_1", "edge_0_2", "edge_0_3", "edge_0_4"]
    assert list(names[10:]) == [f"vertex{v}_{op}" for v in (1, 2, 3) for op in "abc"]
    features = encoder.transform([DIAMOND, SMALL])
    # edges in triu order (0,1) (0,2) (0,3) (0,4) (1,2) (1,3) (1,4) (2,3) (2,4) (3,4)
    expected_diamond = [*[1, 1, 1, 0, 0, 0, 1, 1, 0, 1], *[1, 0, 0, 0, 1, 0, 0, 0, 1]]
    # SMALL padded to 5 vertices: edges 0->1, 1->2; vertex 1 is c, vertex 2 (its output) no op
    expected_small = [*[1, 0, 0, 0, 1, 0, 0, 0, 0, 0], *[0, 0, 1, 0, 0, 0, 0, 0, 0]]
    np.testing.assert_array_equal(features, [expected_diamond, expected_small])
    assert features.dtype == np.float64


def test_adjacency_on_nb101_has_36_features(nb101_cells):
    encoder = AdjacencyOpsEncoder(space=NASBench101())
    features = encoder.fit_transform(nb101_cells)
    assert features.shape == (len(nb101_cells), 21 + 5 * 3)
    # exactly one op per inner vertex, and as many edges as the cell has
    for cell, row in zip(nb101_cells, features, strict=True):
        assert row[:21].sum() == cell.n_edges
        assert row[21:].reshape(5, 3).sum(axis=1).tolist() == [1] * (cell.n_vertices - 2) + [0] * (
            7 - cell.n_vertices
        )


def test_space_fixes_the_layout_whatever_the_fit_cells():
    space = NASBench101()
    cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    encoder = AdjacencyOpsEncoder(space=space).fit([cell])
    assert encoder.ops_ == NB101_OPS and encoder.max_vertices_ == 7
    assert encoder.transform([cell]).shape == (1, 36)


def test_cells_must_fit_the_space_layout():
    encoder = AdjacencyOpsEncoder(space=NASBench101()).fit([SMALL_NB101])
    no_input = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["output", "maxpool3x3", "output"])
    with pytest.raises(InvalidCellError, match="cell 1: the first vertex must be the input"):
        encoder.transform([SMALL_NB101, no_input])
    # 8 vertices, 5 dangling: in the space once pruned, and encoded as its pruned form
    matrix = np.zeros((8, 8), dtype=int)
    matrix[0, 1] = matrix[1, 7] = matrix[0, 2] = 1
    unpruned = Cell(matrix, ["input", *["conv3x3-bn-relu"] * 6, "output"])
    assert NASBench101().is_valid(unpruned)
    np.testing.assert_array_equal(
        encoder.transform([unpruned]), encoder.transform([NASBench101().prune(unpruned)])
    )


def test_integer_op_ids_need_the_space():
    pair = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [0, 3, 4])
    encoder = AdjacencyOpsEncoder(space=NASBench101()).fit([pair])
    named = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    np.testing.assert_array_equal(encoder.transform([pair]), encoder.transform([named]))
    with pytest.raises(InvalidCellError, match="integer ids"):
        AdjacencyOpsEncoder().fit([pair])


@pytest.mark.parametrize("Encoder", [AdjacencyOpsEncoder, PathEncoder])
def test_unknown_op_and_oversized_cell_are_clear_errors(Encoder):
    encoder = Encoder().fit([SMALL])
    unknown = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "zz", "output"])
    with pytest.raises(InvalidCellError, match=r"cell 1 has op 'zz'.*fitted on inner ops \['c'\]"):
        encoder.transform([SMALL, unknown])
    boundary_inside = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "input", "output"])
    with pytest.raises(InvalidCellError, match="'input' at inner vertex 1"):
        encoder.transform([boundary_inside])
    with pytest.raises(InvalidCellError, match=r"5 vertices.*at most 3 vertices"):
        encoder.transform([DIAMOND])


@pytest.mark.parametrize("Encoder", [AdjacencyOpsEncoder, PathEncoder])
def test_bad_input(Encoder):
    with pytest.raises(TypeError, match="single cell"):
        Encoder().fit(SMALL)
    with pytest.raises(ValueError, match="empty"):
        Encoder().fit([])
    with pytest.raises(ValueError, match="floating"):
        Encoder(dtype=np.int64).fit([SMALL])


@pytest.mark.parametrize("Encoder", [AdjacencyOpsEncoder, PathEncoder])
def test_tags_say_cells_not_tables(Encoder):
    tags = get_tags(Encoder())
    assert not tags.input_tags.two_d_array
    assert tags.transformer_tags.preserves_dtype == []


@pytest.mark.parametrize("Encoder", [AdjacencyOpsEncoder, PathEncoder])
def test_dtype_and_pickle(Encoder, nb101_cells):
    encoder = Encoder(dtype=np.float32).fit(nb101_cells)
    features = encoder.transform(nb101_cells)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(encoder)).transform(nb101_cells), features
    )


# -- PathEncoder --------------------------------------------------------------------


def _paths(cell):
    """Op sequences of all input -> output paths, by plain recursion."""
    out = cell.n_vertices - 1

    def walk(vertex, ops):
        if vertex == out:
            yield tuple(ops)
            return
        for nxt in np.flatnonzero(cell.matrix[vertex]):
            yield from walk(int(nxt), ops if nxt == out else [*ops, cell.ops[nxt]])

    return list(walk(0, []))


def test_path_features_by_hand():
    encoder = PathEncoder(binary=False).fit([DIAMOND])
    names = list(encoder.get_feature_names_out())
    # paths through 0 to 2 inner vertices (the longest in DIAMOND) over 3 ops
    assert encoder.max_path_length_ == 2 and len(names) == 1 + 3 + 9
    assert names[:4] == [
        "input->output",
        "input->a->output",
        "input->b->output",
        "input->c->output",
    ]
    assert names[4] == "input->a->a->output" and names[-1] == "input->c->c->output"
    row = dict(zip(names, encoder.transform([DIAMOND])[0], strict=True))
    present = {name: value for name, value in row.items() if value}
    assert present == {"input->a->output": 1, "input->c->output": 1, "input->b->c->output": 1}


def test_longest_paths_by_hand():
    from skassess.encoders._path import _longest_paths

    no_path = Cell([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "a", "output"])
    encoder = AdjacencyOpsEncoder().fit([DIAMOND, SMALL, no_path])
    adjacency, _, n_vertices = encoder._pack([DIAMOND, SMALL, no_path])
    assert _longest_paths(adjacency, n_vertices).tolist() == [2, 1, -1]


def test_paths_longer_than_any_seen_in_fit_warn_and_are_not_counted():
    fan = Cell(
        [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        ["input", "a", "b", "c", "output"],
    )
    encoder = PathEncoder().fit([fan])
    assert encoder.max_path_length_ == 1
    with pytest.warns(UserWarning, match="path through 2 inner vertices, longer than any"):
        features = encoder.transform([DIAMOND])
    np.testing.assert_array_equal(features, [[0, 1, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit max_path_length truncates silently
        PathEncoder(max_path_length=1).fit([fan]).transform([DIAMOND])


def test_counts_versus_indicators():
    twins = Cell(
        [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", "a", "a", "output"]
    )
    counts = PathEncoder(binary=False).fit([twins]).transform([twins])
    indicators = PathEncoder().fit([twins]).transform([twins])
    assert counts.max() == 2 and indicators.max() == 1
    np.testing.assert_array_equal(indicators, counts > 0)


def test_path_encoding_matches_recursive_enumeration(nb101_cells):
    encoder = PathEncoder(space=NASBench101(), binary=False).fit(nb101_cells)
    assert len(encoder.get_feature_names_out()) == 364  # BANANAS: sum 3**l, l = 0..5
    index = {name: i for i, name in enumerate(encoder.get_feature_names_out())}
    features = encoder.transform(nb101_cells)
    for cell, row in zip(nb101_cells, features, strict=True):
        expected = np.zeros(len(index))
        for ops in _paths(cell):
            expected[index["->".join(["input", *ops, "output"])]] += 1
        np.testing.assert_array_equal(row, expected)


def test_path_encoding_is_invariant_to_vertex_order():
    # DIAMOND with inner vertices relabelled (b, c, a order), still upper triangular
    permuted = Cell(
        [
            [0, 1, 1, 1, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        ["input", "b", "c", "a", "output"],
    )
    encoder = PathEncoder().fit([DIAMOND])
    np.testing.assert_array_equal(encoder.transform([permuted]), encoder.transform([DIAMOND]))
    adjacency = AdjacencyOpsEncoder().fit([DIAMOND])
    assert not np.array_equal(adjacency.transform([permuted]), adjacency.transform([DIAMOND]))


def test_max_path_length_truncates():
    encoder = PathEncoder(max_path_length=1).fit([DIAMOND])
    assert encoder.max_path_length_ == 1
    assert list(encoder.get_feature_names_out()) == [
        "input->output",
        "input->a->output",
        "input->b->output",
        "input->c->output",
    ]
    np.testing.assert_array_equal(encoder.transform([DIAMOND]), [[0, 1, 0, 1]])  # b->c dropped
    for bad in (-1, 1.5, "2"):
        with pytest.raises(ValueError, match="max_path_length"):
            PathEncoder(max_path_length=bad).fit([DIAMOND])


# -- common checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoder",
    [AdjacencyOpsEncoder(), PathEncoder(), PathEncoder(space=NASBench101(), binary=False)],
    ids=repr,
)
def test_architecture_checks(encoder, nb101_cells):
    check_architecture_estimator(encoder, nb101_cells[:40])


@settings(max_examples=50, deadline=None)
@given(
    st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.booleans(), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2),
            st.lists(st.sampled_from("abc"), min_size=n - 2, max_size=n - 2),
        )
    )
)
def test_path_counts_match_recursion_on_random_dags(drawn):
    edges, inner = drawn
    n = len(inner) + 2
    matrix = np.zeros((n, n), dtype=int)
    matrix[np.triu_indices(n, k=1)] = edges
    cell = Cell(matrix, ["input", *inner, "output"])
    reference = Cell(
        [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        ["input", "a", "b", "c", "output"],
    )  # fixes the ops
    encoder = PathEncoder(max_path_length=6, binary=False).fit([reference, cell])
    index = {name: i for i, name in enumerate(encoder.get_feature_names_out())}
    expected = np.zeros(len(index))
    for ops in _paths(cell):
        expected[index["->".join(["input", *ops, "output"])]] += 1
    np.testing.assert_array_equal(encoder.transform([cell])[0], expected)


@pytest.mark.parametrize(
    "Encoder, params, name",
    [
        (AdjacencyOpsEncoder, {"space": "nasbench101"}, "space"),
        (PathEncoder, {"space": 101}, "space"),
        (PathEncoder, {"binary": "yes"}, "binary"),
    ],
)
def test_parameters_are_declared_and_checked(Encoder, params, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of {Encoder.__name__} must be"):
        Encoder(**params).fit([SMALL])
