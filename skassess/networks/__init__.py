"""The networks that cells stand for, as PyTorch modules, to train an architecture found.

- :class:`NASBench101Network`: the CIFAR-10 network of NAS-Bench-101 built from
  a cell, with the official channel rules; its trainable parameters are
  :meth:`skassess.spaces.NASBench101.trainable_parameters`.
- :class:`NASBench201Network`: the network of NAS-Bench-201 built from a cell
  (or an architecture string), with the benchmark's parameter counts.
"""

from skassess.networks._nasbench101 import NASBench101Network
from skassess.networks._nasbench201 import NASBench201Network

__all__ = ["NASBench101Network", "NASBench201Network"]
