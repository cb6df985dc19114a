"""NAS-Bench-201 (Dong & Yang, ICLR 2020): 15,625 cells on three image data sets."""

from __future__ import annotations

import os

import numpy as np

from skassess.datasets._benchmark import Benchmark
from skassess.datasets._home import find_data_file
from skassess.datasets._npz import read_npz

__all__ = ["load_nasbench201"]

NAME = "NAS-Bench-201"
FILE_NAMES = ("nasbench201.npz",)
WHERE_TO_GET = (
    "skassess reads a table of the NAS-Bench-201 v1_1 results (arrays index, arch_str "
    "and one float array per metric), written once from the official release "
    "(https://github.com/D-X-Y/NAS-Bench-201) by the recipe of the Datasets guide, "
    "'NAS-Bench-201 from the official release'."
)
TARGET = "cifar10_valid_val"
_NOT_METRICS = ("index", "arch_str", "ops", "op_names")


def load_nasbench201(path: str | os.PathLike | None = None) -> Benchmark:
    """Load NAS-Bench-201 as a :class:`Benchmark`.

    Parameters
    ----------
    path : str or path-like, optional
        A ``.npz`` table with the arrays ``index`` (official index),
        ``arch_str`` (official architecture string) and one float array per
        metric, or a folder holding ``nasbench201.npz``. By default
        ``nasbench201.npz`` in :func:`data_folders`.

    Returns
    -------
    Benchmark
        Cells in the order of the table (official index order for a
        table written by the recipe of the Datasets guide), built from the architecture strings with
        :meth:`skassess.spaces.NASBench201.cell_from_arch_str`. Metrics: every
        one-dimensional float array of the file under its own name, e.g.
        ``cifar10_valid_val``, ``cifar100_test``, ``imagenet16_test`` (accuracy
        in percent, 200 epochs, mean over seeds) and the ``*_12ep`` variants.
        Target ``"cifar10_valid_val"``. ``info["index"]`` and
        ``info["arch_str"]`` keep the official index and string.

    Raises
    ------
    FileNotFoundError
        If the file does not exist, saying where it looked.
    ValueError
        If the file is truncated or damaged, the table lacks ``arch_str``, or a
        string is not a NAS-Bench-201 cell (naming its row).
    """
    from skassess.spaces import NASBench201

    path = find_data_file(path, FILE_NAMES, NAME, WHERE_TO_GET)
    space = NASBench201()
    data = read_npz(path, "a NAS-Bench-201 table")
    if "arch_str" not in data:
        raise ValueError(f"{path} has no 'arch_str' array; is it a NAS-Bench-201 table?")
    arch_strings = data["arch_str"].astype(str)
    n_cells = len(arch_strings)
    metrics = {
        key: values
        for key, values in data.items()
        if key not in _NOT_METRICS
        and values.shape == (n_cells,)
        and np.issubdtype(values.dtype, np.floating)
    }
    index = data.get("index", np.arange(n_cells))
    if TARGET not in metrics:
        raise ValueError(f"{path} has no {TARGET!r} array; it has {sorted(metrics)}")
    cells = []
    for row, arch_str in enumerate(arch_strings.tolist()):
        try:
            cells.append(space.cell_from_arch_str(arch_str))
        except ValueError as exc:
            raise ValueError(f"{path}: row {row}: {exc}") from None
    info = {"index": index, "arch_str": arch_strings}
    return Benchmark(NAME, space, cells, metrics, TARGET, info=info)
