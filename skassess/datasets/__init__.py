"""Real NAS benchmarks in one call, as :class:`Benchmark` tables.

* :func:`load_nasbench101`: NAS-Bench-101 from the official TFRecord files
  (read without TensorFlow, cached as ``.npz``) or from a table;
* :func:`load_nasbench201`: NAS-Bench-201 from a table;
* :func:`load_nasbench_graph`: NAS-Bench-Graph, shipped with the
  ``nas-bench-graph`` package.

Every loader returns a :class:`Benchmark`: cells, a dict of metrics aligned
with them, a default target, and look-up of any cell by its canonical hash.
:func:`write_records` writes files in the official NAS-Bench-101 format, for
tests and tools; :func:`convert_nasbench101` turns an official file into the
fast ``.npz`` format.
"""

from skassess.datasets._benchmark import Benchmark, UnknownCellError
from skassess.datasets._home import data_folders, get_data_home
from skassess.datasets._nasbench101 import RUN_METRICS, convert_nasbench101, load_nasbench101
from skassess.datasets._nasbench201 import load_nasbench201
from skassess.datasets._nasbench_graph import load_nasbench_graph
from skassess.datasets._runs import RunTable
from skassess.datasets._tfrecord import CorruptedFileError
from skassess.datasets.nasbench101_tfrecord import (
    NASBench101Record,
    make_record,
    read_records,
    write_records,
)

__all__ = [
    "RUN_METRICS",
    "Benchmark",
    "CorruptedFileError",
    "NASBench101Record",
    "RunTable",
    "UnknownCellError",
    "convert_nasbench101",
    "data_folders",
    "get_data_home",
    "load_nasbench101",
    "load_nasbench201",
    "load_nasbench_graph",
    "make_record",
    "read_records",
    "write_records",
]
