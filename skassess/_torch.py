"""Small torch helpers shared by the estimators: device, private randomness, CPU state.

skassess never touches torch's global generators: a user's program must not see
its random stream change because it fitted an estimator, and fits running in
threads must equal fits run one after the other. Every random draw of a fit
(initial weights through :func:`seeded_module`, batch order, dropout, pair
sampling) comes from a CPU :class:`torch.Generator` that the fit owns, seeded
from the estimator's ``random_state`` (through
:func:`sklearn.utils.check_random_state`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = [
    "derive_seed",
    "make_generator",
    "one_torch_thread",
    "resolve_device",
    "seeded_module",
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


def seeded_module(
    factory: Callable[[], torch.nn.Module],
    generator: torch.Generator,
    device: torch.device | str = "cpu",
) -> torch.nn.Module:
    """Build ``factory()`` with weights drawn from ``generator``, not torch's global one.

    The module is built on the ``meta`` device (no memory, no random draws),
    materialised on the CPU, and every :class:`torch.nn.Linear` is initialised
    as torch does by default (Kaiming-uniform weights, uniform biases of bound
    ``1 / sqrt(fan_in)``) from ``generator``; then it moves to ``device``. So a
    fit's weights depend on its own seed only, never on what other threads or
    the user's program draw.

    Parameters
    ----------
    factory : callable
        Builds the module; its parameters must all belong to ``nn.Linear`` layers.
    generator : torch.Generator
        A CPU generator owned by the fit.
    device : torch.device or str, default="cpu"

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> make = lambda: torch.nn.Linear(3, 2)
    >>> a = seeded_module(make, make_generator(0))
    >>> b = seeded_module(make, make_generator(0))
    >>> torch.equal(a.weight, b.weight)
    True
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    for layer in module.modules():
        own = list(layer.parameters(recurse=False))
        if isinstance(layer, torch.nn.Linear):
            _init_linear(layer, generator)
        elif own:
            raise TypeError(f"seeded_module initialises nn.Linear only, got {type(layer).__name__}")
    return module.to(device)


@torch.no_grad()
def _init_linear(layer: torch.nn.Linear, generator: torch.Generator) -> None:
    torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features else 0.0
        torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
