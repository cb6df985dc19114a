"""The NAS-Bench-101 search space (Ying et al., ICML 2019)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from skassess.spaces._parameters import network_parameters
from skassess.spaces._space import INPUT, OUTPUT, CellSpace

__all__ = ["NASBench101"]

CONV1X1 = "conv1x1-bn-relu"
CONV3X3 = "conv3x3-bn-relu"
MAXPOOL3X3 = "maxpool3x3"

# The order of ``available_ops`` in the official nasbench config; a cell's hash
# labels each inner op by its index here (``ModelSpec.hash_spec``).
_CANONICAL_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
# Side of each op's convolution; 0 for ops without parameters.
_KERNEL_SIZES = {INPUT: 0, CONV1X1: 1, CONV3X3: 3, MAXPOOL3X3: 0, OUTPUT: 0}


class NASBench101(CellSpace):
    """The NAS-Bench-101 space: cells of at most 7 vertices and 9 edges.

    Inner vertices carry ``conv1x1-bn-relu``, ``conv3x3-bn-relu`` or
    ``maxpool3x3``. Validity, pruning and :meth:`hash` follow the official
    ``nasbench`` code exactly (``ModelSpec`` prunes, ``NASBench.is_valid``
    checks the pruned cell), so :meth:`hash` is the official module hash that
    keys the benchmark's records, and :meth:`hash_arrays` gives it for a whole
    table at once.

    Attributes
    ----------
    ops : tuple of str
        ``("conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3")``.
    op_names : tuple of str
        ``("input", *ops, "output")``: op id 0 is the input, 4 the output, as in
        the ``nasbench101.npz`` table of :func:`skassess.datasets.load_nasbench101`.
    max_vertices : int
        7.
    max_edges : int
        9.

    Examples
    --------
    >>> from skassess.spaces import NASBench101
    >>> space = NASBench101()
    >>> matrix = [[0, 1, 1, 1, 0, 1, 0],
    ...           [0, 0, 0, 0, 0, 0, 1],
    ...           [0, 0, 0, 0, 0, 0, 1],
    ...           [0, 0, 0, 0, 1, 0, 0],
    ...           [0, 0, 0, 0, 0, 0, 1],
    ...           [0, 0, 0, 0, 0, 0, 1],
    ...           [0, 0, 0, 0, 0, 0, 0]]
    >>> ops = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
    ...        "conv3x3-bn-relu", "maxpool3x3", "output"]
    >>> space.hash((matrix, ops))
    '28cfc7874f6d200472e1a9dcd8650aa0'
    """

    vectorised_checks = True  # its batch hooks check what _check checks

    def __init__(self) -> None:
        super().__init__(ops=(CONV1X1, CONV3X3, MAXPOOL3X3), max_vertices=7, max_edges=9)

    def _params(self) -> dict[str, Any]:
        return {}

    def _label_map(self) -> dict[str, int]:
        return {INPUT: -1, OUTPUT: -2, **{op: k for k, op in enumerate(_CANONICAL_OPS)}}

    def trainable_parameters(self, cells: Iterable[Any]) -> np.ndarray:
        """Trainable parameters of the NAS-Bench-101 network built from each cell.

        The official CIFAR-10 network: a 128-channel stem, 3 stacks of 3
        copies of the (pruned) cell with downsampling and channel doubling
        between stacks, global pooling and a 10-class dense layer, with each
        vertex's channels set as the official model builder sets them (see
        :mod:`skassess.spaces._parameters`). It equals the benchmark's
        ``trainable_parameters`` (the ``params`` of its table) for all
        423,624 cells of the space, vectorised: the whole space takes a few
        seconds.

        Parameters
        ----------
        cells : sequence of cells in any spelling accepted by :func:`skassess.as_cells`

        Returns
        -------
        ndarray of shape (n_cells,), int64

        Raises
        ------
        InvalidCellError
            If a cell is not in the space; the message names its position.

        Notes
        -----
        The builder splits the output's channels among the vertices that feed
        it, the first ones (in vertex order) taking one more when the split is
        uneven, so two orders of the same graph can differ by a few
        parameters; the count is that of the cell in the order given. The
        benchmark's tables (and :func:`skassess.datasets.load_nasbench101`)
        keep orders that give the official count.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> matrix = [[0, 1, 1, 1, 0, 1, 0],
        ...           [0, 0, 0, 0, 0, 0, 1],
        ...           [0, 0, 0, 0, 0, 0, 1],
        ...           [0, 0, 0, 0, 1, 0, 0],
        ...           [0, 0, 0, 0, 0, 0, 1],
        ...           [0, 0, 0, 0, 0, 0, 1],
        ...           [0, 0, 0, 0, 0, 0, 0]]
        >>> ops = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
        ...        "conv3x3-bn-relu", "maxpool3x3", "output"]
        >>> NASBench101().trainable_parameters([(matrix, ops)])
        array([2694282])
        """
        adjacency, ops, sizes = self._pruned_arrays(cells)
        kernels = np.array([_KERNEL_SIZES[name] for name in self.op_names] + [0])
        return network_parameters(adjacency, kernels[ops], sizes)

    def _too_large_message(self, total: int) -> str:
        return (
            "NASBench101() has 423,624 distinct cells, too many to enumerate from "
            "scratch (about 5 x 10^8 labelled candidates); load them from the "
            "benchmark table with skassess.datasets.load_nasbench101(path).cells"
        )
