"""Small torch helpers shared by the estimators: device, private randomness, CPU state.

skassess never seeds torch's global generators: a user's program must not see
its random stream change because it fitted an estimator. Randomness comes from
a seed derived from the estimator's ``random_state`` (through
:func:`sklearn.utils.check_random_state`), used in a private
:class:`torch.Generator` where an API takes one and in :func:`private_rng`
(a :func:`torch.random.fork_rng` scope) where it does not (dropout).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = [
    "derive_seed",
    "make_generator",
    "one_torch_thread",
    "private_rng",
    "resolve_device",
    "to_cpu",
]


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn an estimator's ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"cpu", "cuda", "auto"} or str or torch.device
        ``"auto"`` picks CUDA when available and the CPU otherwise.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the name is not a device, or CUDA is asked for but not available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'auto' or a torch device, got {device!r}"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='cpu' or device='auto'"
        )
    return resolved


def derive_seed(random_state: Any) -> int:
    """Draw an integer seed for torch from ``random_state``.

    ``random_state`` is anything :func:`sklearn.utils.check_random_state`
    accepts. An int gives the same seed every time; a ``RandomState`` is
    advanced by one draw.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private :class:`torch.Generator` on ``device`` seeded with ``seed``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@contextlib.contextmanager
def private_rng(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run a block with torch's global RNG forked and seeded, then restore it.

    For operations that take no generator argument (dropout, some
    initialisers): the caller's global random state is the same after the
    block as before it.
    """
    device = torch.device(device)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


def to_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Copy a ``state_dict`` to the CPU, so it pickles and loads without a GPU."""
    return {name: tensor.detach().to("cpu") for name, tensor in state.items()}


def one_torch_thread(method: Callable) -> Callable:
    """Run an estimator method with a single torch intra-op thread, then restore the count.

    skassess's networks are small (cells of a few vertices, widths of tens),
    so each torch operation is too small to share between threads: on the
    2-core development machine, with other work running, two threads made a
    2,000-cell :class:`~skassess.SemiSupervisedAssessor` fit six times slower
    than one (64 s against 10 s), as the threads spin waiting for each other.
    Parallelism comes from running several fits at once instead (``n_jobs`` in
    cross-validation and grid search; see :mod:`skassess.utils.parallel`).
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        if before == 1:
            return method(*args, **kwargs)
        torch.set_num_threads(1)
        try:
            return method(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper
