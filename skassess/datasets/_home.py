"""Where the benchmark files live when no path is given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["find_data_file", "get_data_home"]

DATA_HOME_VARIABLE = "SKASSESS_DATA"


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder where skassess looks for benchmark files and keeps caches.

    In order: ``data_home`` when given, the environment variable
    ``SKASSESS_DATA`` when set, otherwise ``~/skassess_data`` (the way
    :func:`sklearn.datasets.get_data_home` uses ``~/scikit_learn_data``). The
    folder is not created here.

    Parameters
    ----------
    data_home : str or path-like, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> get_data_home("/tmp/nas").as_posix()
    '/tmp/nas'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_VARIABLE) or Path("~") / "skassess_data"
    return Path(data_home).expanduser()


def find_data_file(
    path: str | os.PathLike | None, file_names: Sequence[str], what: str, where_to_get: str
) -> Path:
    """Resolve a benchmark file: ``path`` when given, else the first of ``file_names`` found.

    Raises
    ------
    FileNotFoundError
        Saying where it looked and where to get the data.
    """
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{what}: no file at {path}{' (it is a folder)' if path.is_dir() else ''}. "
                f"{where_to_get}"
            )
        return path
    home = get_data_home()
    candidates = [home / name for name in file_names]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"{what}: no path given and none of {looked} exists (the data folder is "
        f"${DATA_HOME_VARIABLE}, else ~/skassess_data). Pass path=... or put the file "
        f"there. {where_to_get}"
    )
