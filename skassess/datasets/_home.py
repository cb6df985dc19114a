"""Where the benchmark files live when no path is given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["data_folders", "find_data_file", "get_data_home"]

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
    """Resolve a benchmark file: ``path``, or the first of ``file_names`` in the data folders.

    ``path`` may name the file itself or a folder holding one of
    ``file_names``. Without it, the folders are, in order: ``$SKASSESS_DATA``
    when it is set, else ``~/skassess_data`` and then ``../shared/data``
    (beside the working directory, where the project keeps its shared tables).
    The command line looks in the same places.

    Raises
    ------
    FileNotFoundError
        Saying where it looked and where to get the data.
    """
    if path is not None:
        path = Path(path).expanduser()
        if path.is_file():
            return path
        if not path.is_dir():
            raise FileNotFoundError(f"{what}: no file at {path}. {where_to_get}")
        folders = [path]
    else:
        folders = data_folders()
    for folder in folders:
        for name in file_names:
            if (folder / name).is_file():
                return folder / name
    looked = ", ".join(str(folder) for folder in folders)
    if path is not None:
        raise FileNotFoundError(
            f"{what}: the folder {path} holds none of {', '.join(file_names)}. {where_to_get}"
        )
    raise FileNotFoundError(
        f"{what}: no path given and none of {', '.join(file_names)} is in {looked} (the "
        f"data folder is ${DATA_HOME_VARIABLE}, else ~/skassess_data). "
        f"Pass path=... (the file or its folder) or put the file there. {where_to_get}"
    )


def data_folders() -> list[Path]:
    """The folders searched for a benchmark file when no path is given, in order.

    ``$SKASSESS_DATA`` alone when it is set; else ``~/skassess_data``, then
    ``../shared/data`` relative to the working directory.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> from skassess.datasets import data_folders, get_data_home
    >>> data_folders()[0] == get_data_home()
    True
    """
    if os.environ.get(DATA_HOME_VARIABLE):
        return [get_data_home()]
    return [get_data_home(), Path.cwd().parent / "shared" / "data"]
