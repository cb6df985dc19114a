"""The networks that cells stand for, as PyTorch modules, to train an architecture found.

- :class:`NASBench101Network`: the CIFAR-10 network of NAS-Bench-101 built from
  a cell, with the official channel rules; its trainable parameters are
  :meth:`skassess.spaces.NASBench101.trainable_parameters`.
"""

from skassess.networks._nasbench101 import NASBench101Network

__all__ = ["NASBench101Network"]
