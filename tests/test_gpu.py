"""Devices: models are portable between GPU and CPU machines, and the GPU path matches the CPU.

Without CUDA (as on CI) the GPU-vs-CPU comparisons skip with a reason; the
portability tests run everywhere. A state dict with CUDA tensors cannot be
made on a CPU-only machine, so portability is tested where it is decided:
what ``__getstate__`` writes must hold only CPU tensors, so that a plain
``pickle.load``/``joblib.load`` (no ``map_location``) works on a machine
without a GPU, in a fresh process that cannot see one; and a model whose
``device`` parameter says ``"cuda"`` must still predict there.
"""

import copy
import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from skassess import ArchitectureEmbedder, Cell, SemiSupervisedAssessor
from skassess._torch import to_cpu
from skassess.assessor import TransductiveGCNRegressor
from skassess.neighbors import InvertedFileIndex

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# not NAS-Bench-101 op names: random DAGs with those would be read (and refused) as its cells
OPS = ("conv1x1", "conv3x3", "pool")


def random_cells(n, seed=0):
    rng = np.random.RandomState(seed)
    cells = []
    for _ in range(n):
        v = rng.randint(3, 8)
        matrix = np.triu(rng.rand(v, v) < 0.5, k=1).astype(np.uint8)
        matrix[0, 1] = matrix[v - 2, v - 1] = 1
        cells.append(
            Cell(matrix, ["input", *(OPS[i] for i in rng.randint(3, size=v - 2)), "output"])
        )
    return cells


@pytest.fixture(scope="module")
def problem():
    cells = random_cells(120)
    y = np.array([cell.n_edges + 0.1 * cell.ops.count("conv3x3") for cell in cells])
    partial = y.copy()
    partial[60:] = np.nan
    return cells, partial


def embedder(device="cpu"):
    return ArchitectureEmbedder(
        embedding_dim=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0, device=device
    )


def assessor(device="cpu", algorithm="auto"):
    return SemiSupervisedAssessor(
        embedder=embedder(),
        regressor=TransductiveGCNRegressor(algorithm=algorithm, batch_size=16),
        max_iter=3,
        n_ensemble=1,
        graph_update_interval=2,
        random_state=0,
        device=device,
    )


def gcn(device="cpu", algorithm="auto"):
    return TransductiveGCNRegressor(
        n_neighbors=5, max_iter=20, algorithm=algorithm, random_state=0, device=device
    )


BUILD = {
    "embedder": embedder,
    "gcn": gcn,
    "assessor": assessor,
    "gcn_ivf": lambda device="cpu": gcn(device, algorithm="ivf"),
    "assessor_ivf": lambda device="cpu": assessor(device, algorithm="ivf"),
}


def _tensors(value, seen=None):
    """Every torch tensor reachable from a pickled state (dicts, lists, modules, objects)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, torch.nn.Module):
        yield from value.state_dict().values()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item, seen)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item, seen)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        yield from _tensors(vars(value), seen)


def fitted(name, problem):
    cells, y = problem
    if name == "embedder":
        return embedder().fit(cells), cells
    if name.startswith("assessor"):
        return BUILD[name]().fit(cells, y), cells
    features = embedder().fit(cells).transform(cells)
    return BUILD[name]().fit(features, y), features


# the inverted-file variants keep a different neighbour index for predict
MODELS = ["embedder", "gcn", "assessor", "gcn_ivf", "assessor_ivf"]


@pytest.fixture(scope="module")
def models(problem):
    """Each model fitted on the CPU, with its input."""
    return {name: fitted(name, problem) for name in MODELS}


def output(model, X):
    return model.transform(X) if hasattr(model, "transform") else model.predict(X)


def test_to_cpu_gives_detached_cpu_tensors():
    layer = torch.nn.Linear(3, 2)
    state = to_cpu(layer.state_dict())
    assert all(t.device.type == "cpu" and not t.requires_grad for t in state.values())
    np.testing.assert_array_equal(state["weight"].numpy(), layer.weight.detach().numpy())


@pytest.mark.parametrize("name", MODELS)
def test_pickled_state_holds_only_cpu_tensors(name, models):
    model, _ = models[name]
    state = model.__getstate__()
    devices = {tensor.device.type for tensor in _tensors(state)}
    assert devices <= {"cpu"}
    assert b"cuda" not in pickle.dumps(model)


_LOAD_ELSEWHERE = """
import pickle, sys, numpy as np, torch
assert not torch.cuda.is_available()
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    model, X = pickle.load(open(path, "rb"))  # plain pickle: no map_location anywhere
    try:
        out = model.transform(X) if hasattr(model, "transform") else model.predict(X)
        np.save(path + ".npy", out)
    except Exception as exc:
        open(path + ".error", "w").write(f"{type(exc).__name__}: {exc}")
"""


@pytest.fixture(scope="module")
def loaded_without_cuda(models, tmp_path_factory):
    """Each model, marked as fitted on CUDA, unpickled and used in a process without CUDA."""
    folder = tmp_path_factory.mktemp("portable")
    arguments, expected = [], {}
    for name in MODELS:
        model, X = copy.deepcopy(models[name])
        expected[name] = output(model, X[:10])
        model.set_params(device="cuda")  # what a GPU fit leaves among the parameters
        path = folder / f"{name}.pkl"
        path.write_bytes(pickle.dumps((model, X[:10])))
        arguments += [name, str(path)]
    run = subprocess.run(
        [sys.executable, "-c", _LOAD_ELSEWHERE, *arguments],
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": "", "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return folder, expected


@pytest.mark.parametrize("name", MODELS)
def test_a_model_fitted_on_cuda_predicts_where_there_is_none(name, loaded_without_cuda):
    folder, expected = loaded_without_cuda
    error = folder / f"{name}.pkl.error"
    assert not error.exists(), error.read_text() if error.exists() else ""
    np.testing.assert_allclose(
        np.load(folder / f"{name}.pkl.npy"), expected[name], rtol=1e-5, atol=1e-6
    )


def test_torch_load_of_a_cpu_state_needs_no_map_location(models):
    model, _ = models["assessor"]
    buffer = io.BytesIO()
    parts = [model.embedder_.encoder_, model.regressor_.head_]
    torch.save([part.state_dict() for part in parts], buffer)
    buffer.seek(0)
    states = torch.load(buffer, weights_only=True)  # would fail for CUDA tensors without a GPU
    assert all(t.device.type == "cpu" for state in states for t in state.values())


# ------------------------------------------------------------ real CUDA


@cuda
def test_knn_on_the_gpu_matches_the_cpu():
    from skassess.neighbors import attach, knn_graph

    X = np.random.RandomState(0).normal(size=(3000, 16))
    for search in (
        lambda device: knn_graph(X, 10, device=device),
        lambda device: attach(X[:100] + 0.01, X, 10, device=device),
        lambda device: (
            InvertedFileIndex(n_probe=4, random_state=0, device=device)
            .fit(X)
            .kneighbors(n_neighbors=10)
        ),
    ):
        cpu_indices, cpu_distances = search("cpu")
        gpu_indices, gpu_distances = search("cuda")
        assert (gpu_indices == cpu_indices).mean() > 0.999
        np.testing.assert_allclose(gpu_distances, cpu_distances, rtol=1e-5)


@cuda
@pytest.mark.parametrize("name", MODELS)
def test_fitting_on_the_gpu_matches_the_cpu_and_the_model_moves_to_the_cpu(name, problem, models):
    _, y = problem
    cpu_model, X = models[name]
    gpu_model = BUILD[name](device="cuda")
    gpu_model.fit(X, y) if name != "embedder" else gpu_model.fit(X)
    np.testing.assert_allclose(
        output(gpu_model, X[:20]), output(cpu_model, X[:20]), rtol=1e-3, atol=1e-4
    )
    devices = {tensor.device.type for tensor in _tensors(gpu_model.__getstate__())}
    assert devices <= {"cpu"}
