"""Search spaces: which cells exist, their canonical hashes, sampling and mutation.

A space answers the questions every NAS tool asks of an architecture: is this
cell in the space (:meth:`~CellSpace.validate`, :meth:`~CellSpace.is_valid`),
what does it compute once dead vertices are dropped (:meth:`~CellSpace.prune`),
which benchmark record is it (:meth:`~CellSpace.hash`,
:meth:`~CellSpace.hash_many`), and how to draw or change one
(:meth:`~CellSpace.sample`, :meth:`~CellSpace.mutate`).

- :class:`CellSpace`: your own space of vertex-labelled DAG cells.
- :class:`NASBench101`: NAS-Bench-101, with its official module hash.
- :class:`NASBench201`: NAS-Bench-201, its edge ops turned into vertices.
- :class:`NASBenchGraph`: NAS-Bench-Graph, keyed like its ``light_read`` tables.
"""

from skassess.spaces._nasbench101 import NASBench101
from skassess.spaces._nasbench201 import NASBench201
from skassess.spaces._nasbench_graph import NASBenchGraph
from skassess.spaces._space import CellSpace

__all__ = ["CellSpace", "NASBench101", "NASBench201", "NASBenchGraph"]
