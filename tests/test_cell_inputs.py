"""Estimators read cells as their space does, from every container users hold them in.

Issue 12, points 3 and 6: one architecture gets one prediction however it is
written (pruned or not), cells outside a known space are refused, and cells
arrive as NAS-Bench-201 strings, one-column tables, ``(n, 1)`` object arrays
or a ``Benchmark``, with messages that say what was given otherwise.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import BaggingRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skassess import Cell, InvalidCellError, as_cells
from skassess.assessor import (
    ArchitectureEmbedder,
    SemiSupervisedAssessor,
    TransductiveGCNRegressor,
)
from skassess.baselines import LabeledOnly, NeuralPredictor, make_random_forest_predictor
from skassess.datasets import Benchmark
from skassess.encoders import AdjacencyOpsEncoder, PathEncoder
from skassess.spaces import CellSpace, NASBench101, NASBench201, NASBenchGraph
from skassess.spaces._inputs import infer_space, prune_dangling
from skassess.utils.validation import check_cells, check_not_cells

CONV3, CONV1, POOL = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# input -> conv3 -> output, and a pool that reads the input but feeds nothing.
DANGLING = Cell(
    [[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", POOL, CONV3, "output"]
)
PRUNED = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", CONV3, "output"])
# 8 vertices in a chain: valid as a DAG, too large for NAS-Bench-101.
CHAIN_8 = Cell(np.eye(8, k=1, dtype=np.uint8), ["input", *[CONV3] * 6, "output"])
ARCH_STR = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


def nb101_cells(n=40, seed=0):
    return NASBench101().sample(n, random_state=seed)


def tiny_embedder(**params):
    defaults = dict(embedding_dim=4, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    return ArchitectureEmbedder(**{**defaults, **params})


# -- point 3: pruned and validated on the way in ------------------------------------------


def test_the_dangling_and_the_pruned_form_are_one_architecture():
    assert NASBench101().prune(DANGLING) == PRUNED
    assert NASBench101().hash(DANGLING) == NASBench101().hash(PRUNED)


@pytest.mark.parametrize("space", [None, NASBench101()], ids=["inferred", "given"])
def test_embedder_embeds_a_dangling_cell_as_its_pruned_form(space):
    embedder = tiny_embedder(space=space).fit(nb101_cells())
    np.testing.assert_array_equal(embedder.transform([DANGLING]), embedder.transform([PRUNED]))


def test_predictor_predicts_a_dangling_cell_as_its_pruned_form():
    cells = nb101_cells()
    y = np.array([cell.n_edges + 0.1 * cell.n_vertices for cell in cells])
    model = NeuralPredictor(embedding_dim=4, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    model.fit(cells, y)
    assert model.predict([DANGLING])[0] == model.predict([PRUNED])[0]
    # and fitting on the unpruned spelling is fitting on the pruned one
    refit = clone(model).fit([DANGLING, *cells[1:]], y)
    same = clone(model).fit([PRUNED, *cells[1:]], y)
    np.testing.assert_array_equal(refit.predict(cells), same.predict(cells))


def test_assessor_predicts_a_dangling_cell_as_its_pruned_form():
    cells = nb101_cells()
    y = np.array([cell.n_edges + 0.1 * cell.n_vertices for cell in cells])
    y[::2] = np.nan
    assessor = SemiSupervisedAssessor(
        embedder=tiny_embedder(),
        regressor=TransductiveGCNRegressor(n_neighbors=5, hidden_layer_sizes=(8,), max_iter=5),
        max_iter=2,
        n_ensemble=1,
        random_state=0,
    ).fit(cells, y)
    assert assessor.predict([DANGLING])[0] == assessor.predict([PRUNED])[0]


@pytest.mark.parametrize("encoder", [AdjacencyOpsEncoder, PathEncoder])
def test_encoders_encode_a_dangling_cell_as_its_pruned_form(encoder):
    cells = nb101_cells()
    fitted = encoder().fit(cells)
    np.testing.assert_array_equal(fitted.transform([DANGLING]), fitted.transform([PRUNED]))
    model = make_random_forest_predictor(n_estimators=5, random_state=0)
    model.fit(cells, [cell.n_edges for cell in cells])
    assert model.predict([DANGLING])[0] == model.predict([PRUNED])[0]


@pytest.mark.parametrize("space", [None, NASBench101()], ids=["inferred", "given"])
def test_an_8_vertex_cell_is_refused_in_nasbench101(space):
    with pytest.raises(InvalidCellError, match=r"cell 3: .*8 vertices .*max_vertices=7"):
        tiny_embedder(space=space).fit([*nb101_cells(3), CHAIN_8])


def test_the_refusal_of_an_inferred_space_says_how_to_give_another():
    with pytest.raises(InvalidCellError, match=r"NASBench101.*space=CellSpace"):
        check_cells([CHAIN_8])
    roomy = CellSpace(ops=[CONV1, CONV3, POOL], max_vertices=9)
    assert check_cells([CHAIN_8], roomy) == [CHAIN_8]


def test_cells_of_no_single_known_space_are_taken_as_given():
    mixed = Cell(np.eye(4, k=1, dtype=np.uint8), ["input", CONV3, "gcn", "output"])
    other = Cell([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ["input", "my_op", "output"])
    assert infer_space([mixed]) is None and infer_space([other]) is None
    assert check_cells([mixed, other]) == [mixed, other]  # no space: not pruned either


def test_the_space_is_inferred_from_the_ops():
    nb201 = NASBench201().cell_from_arch_str(ARCH_STR)
    graph = NASBenchGraph().cell_from_arch([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"])
    assert infer_space([DANGLING]) == NASBench101()
    assert infer_space([nb201]) == NASBench201()
    assert infer_space([graph]) == NASBenchGraph()
    assert infer_space([Cell([[0, 1], [0, 0]], ["input", "output"])]) is None


def test_pruning_keeps_cells_with_nothing_to_drop_as_the_same_objects():
    cells = [PRUNED, DANGLING, NASBench201().cell_from_arch_str(ARCH_STR)]
    pruned = prune_dangling(cells)
    assert pruned[0] is cells[0] and pruned[2] is cells[2]
    assert pruned[1] == PRUNED


def test_nasbench201_cells_keep_their_8_vertex_form():
    # 'none' computes nothing, yet the layout names exactly one benchmark entry:
    # pruning is structural, so the encoding of NAS-Bench-201 cells is unchanged.
    cell = NASBench201().cell_from_arch_str(ARCH_STR)
    assert check_cells([cell])[0] is cell
    assert check_cells([cell], NASBench201())[0].n_vertices == 8


def test_a_benchmark_whole_space_check_is_vectorised_and_exact():
    cells = NASBench101().sample(300, random_state=1, prune=False)
    expected = [NASBench101().prune(cell) for cell in cells]
    assert check_cells(cells) == expected
    assert check_cells(cells, NASBench101()) == expected


# -- point 6: the inputs people have -----------------------------------------------------


def test_nasbench201_strings_are_cells_when_the_space_is_nasbench201():
    expected = NASBench201().cell_from_arch_str(ARCH_STR)
    assert as_cells([ARCH_STR], space=NASBench201()) == [expected]
    assert as_cells(np.array([ARCH_STR]), space=NASBench201()) == [expected]
    assert check_cells([ARCH_STR]) == [expected]  # strings name NAS-Bench-201 cells


def test_an_estimator_given_nasbench201_takes_strings():
    space = NASBench201()
    cells = space.sample(20, random_state=0)
    strings = [space.arch_str(cell) for cell in cells]
    embedder = tiny_embedder(space=space).fit(strings)
    np.testing.assert_array_equal(embedder.transform(strings), embedder.transform(cells))


def test_strings_without_a_space_that_reads_them_say_so():
    with pytest.raises(InvalidCellError, match=r"cell 0: got the string .*NAS-Bench-201"):
        as_cells([ARCH_STR])
    with pytest.raises(InvalidCellError, match="cell 0: got the string"):
        tiny_embedder(space=NASBench101()).fit([ARCH_STR])
    with pytest.raises(TypeError, match="single str"):
        as_cells(ARCH_STR)


def test_a_one_column_table_or_object_array_of_cells_is_a_sequence_of_cells():
    pd = pytest.importorskip("pandas")
    cells = nb101_cells(10)
    column = np.empty((len(cells), 1), dtype=object)
    column[:, 0] = cells
    assert as_cells(column) == cells
    assert as_cells(pd.DataFrame({"cell": cells})) == cells
    assert as_cells(pd.Series(cells)) == cells
    embedder = tiny_embedder().fit(column)
    np.testing.assert_array_equal(embedder.transform(column), embedder.transform(cells))


def test_bagging_passes_a_column_of_cells_through():
    cells = nb101_cells(30)
    y = np.array([cell.n_edges for cell in cells], dtype=float)
    column = np.empty((len(cells), 1), dtype=object)
    column[:, 0] = cells
    model = make_pipeline(tiny_embedder(), LabeledOnly(Ridge()))
    bagging = BaggingRegressor(model, n_estimators=2, random_state=0).fit(column, y)
    assert bagging.predict(column).shape == (30,)


def test_a_benchmark_is_its_cells_in_its_space():
    cells = nb101_cells(12)
    bench = Benchmark("toy", NASBench101(), cells, {"acc": np.arange(12.0)}, "acc")
    assert check_cells(bench) == cells
    assert as_cells(bench) == cells
    embedder = tiny_embedder().fit(bench)
    np.testing.assert_array_equal(embedder.transform(bench), embedder.transform(cells))


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([["a", "b"], ["c", "d"]]), "array of strings of shape \\(2, 2\\)"),
        (np.zeros((3, 4)), "numeric array of shape \\(3, 4\\)"),
        (np.array([b"x"]), "array of bytes"),
        (np.empty((2, 2), dtype=object), "array of objects of shape \\(2, 2\\)"),
        (3.5, "got float"),
    ],
)
def test_messages_say_what_was_given(X, match):
    with pytest.raises(TypeError, match=match):
        as_cells(X)


def test_a_table_of_several_columns_says_to_pick_the_cells():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"cell": nb101_cells(2), "acc": [0.9, 0.8]})
    with pytest.raises(TypeError, match=r"DataFrame of 2 columns \['cell', 'acc'\]"):
        as_cells(table)


def test_gcn_regressor_given_cells_says_to_embed_them_first():
    cells = nb101_cells(10)
    y = np.arange(10.0)
    with pytest.raises(TypeError, match=r"put an ArchitectureEmbedder first: make_pipeline"):
        TransductiveGCNRegressor().fit(cells, y)
    with pytest.raises(TypeError, match="ArchitectureEmbedder"):
        TransductiveGCNRegressor().fit([ARCH_STR] * 10, y)


def test_check_not_cells_lets_numbers_through():
    check_not_cells(np.zeros((3, 2)), Ridge())
    check_not_cells([[0.0, 1.0], [2.0, 3.0]], Ridge())
    check_not_cells([], Ridge())
