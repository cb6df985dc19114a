"""Parallel fits without oversubscribed cores: torch threads under joblib and Dask.

Cross-validation and grid search run several fits at once through joblib
(``n_jobs``). Each torch fit also runs a pool of intra-op threads, one per
core by default, so ``n_jobs`` fits at once can ask for ``n_jobs x cores``
threads, which thrash instead of helping. What each joblib backend does
(measured with joblib 1.6, torch 2.13, distributed 2026.8):

- ``"loky"`` (the default of ``n_jobs``): each worker process starts with
  ``OMP_NUM_THREADS = cores // n_jobs``, and torch reads it at import.
  Nothing to do.
- ``"dask"``: the Dask nanny starts every worker process with
  ``OMP_NUM_THREADS=1`` (the ``distributed.nanny.pre-spawn-environ``
  setting), so each task uses one torch thread; give each worker as many
  threads (``threads_per_worker``) as it has cores. Nothing to do, unless the
  workers run without a nanny (``dask worker --no-nanny``).
- ``"threading"`` and ``"multiprocessing"``: no limit at all; every fit uses
  all the cores. Wrap the search in :func:`limit_torch_threads`::

      with joblib.parallel_config(backend="threading"), limit_torch_threads(
          threads_per_job(n_jobs=2)
      ):
          GridSearchCV(estimator, grid, n_jobs=2).fit(cells, y)

Examples
--------
>>> import torch
>>> before = torch.get_num_threads()
>>> with limit_torch_threads(1):
...     torch.get_num_threads()
1
>>> torch.get_num_threads() == before
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import joblib

from skassess.utils.validation import check_int

__all__ = ["available_cores", "limit_torch_threads", "threads_per_job"]


def available_cores() -> int:
    """Cores this process may use (CPU affinity and container quotas included).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    return int(joblib.cpu_count())


def threads_per_job(n_jobs: int | None) -> int:
    """Torch threads for each of ``n_jobs`` concurrent fits: ``cores // n_jobs``, at least 1.

    Parameters
    ----------
    n_jobs : int or None
        As in scikit-learn: ``None`` means 1, ``-1`` all cores, ``-2`` all but
        one, and so on.

    Returns
    -------
    int

    Examples
    --------
    >>> threads_per_job(None) == available_cores()
    True
    >>> threads_per_job(-1)
    1
    """
    cores = available_cores()
    if n_jobs is None:
        n_jobs = 1
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
    concurrent = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, cores // concurrent)


@contextlib.contextmanager
def limit_torch_threads(n_threads: int) -> Iterator[None]:
    """Run a block with at most ``n_threads`` torch threads and BLAS threads.

    Caps torch's intra-op thread pool (:func:`torch.set_num_threads`, which is
    process-wide, so it also holds in the threads of joblib's ``"threading"``
    backend and in processes forked inside the block) and, through
    :mod:`threadpoolctl`, the BLAS pools that numpy and scipy use.
    Both are restored afterwards. A limit above the current thread count
    changes nothing.

    Parameters
    ----------
    n_threads : int
        At least 1; :func:`threads_per_job` gives the right value for ``n_jobs``
        concurrent fits.

    Examples
    --------
    >>> import torch
    >>> with limit_torch_threads(threads_per_job(n_jobs=available_cores())):
    ...     torch.get_num_threads()
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    check_int(n_threads, "n_threads")
    before = torch.get_num_threads()
    try:
        with threadpool_limits(limits=n_threads, user_api="blas"):
            torch.set_num_threads(min(before, n_threads))
            yield
    finally:
        torch.set_num_threads(before)
