"""Reading ``.npz`` tables whole, with one clear error for a damaged file."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["is_zip_file", "read_npz"]

_ZIP_SIGNATURE = b"PK\x03\x04"


def is_zip_file(path: str | os.PathLike) -> bool:
    """Whether the file starts as a zip archive (and so an ``.npz`` file) does."""
    with open(path, "rb") as file:
        return file.read(len(_ZIP_SIGNATURE)) == _ZIP_SIGNATURE


def read_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read now, without pickles.

    Parameters
    ----------
    path : str or path-like
    what : str
        What the file should hold, for the error message ("a NAS-Bench-201 table").

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    ValueError
        Naming the file, if it is not an ``.npz`` archive, is truncated or
        damaged, or holds object (pickled) arrays.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "table.npz")
    >>> np.savez(path, y=np.arange(3.0))
    >>> read_npz(path, "a table")["y"]
    array([0., 1., 2.])
    """
    path = Path(path)
    if not is_zip_file(path):
        raise ValueError(
            f"{path} is not {what}: it is not an .npz file (it does not start as a zip "
            "archive does)"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ValueError(
            f"{path} is not a readable .npz file: it is truncated or damaged "
            f"({type(exc).__name__}: {exc}); download or write {what} again"
        ) from None
    except ValueError as exc:  # an object array, or a malformed array header
        reason = str(exc).split(". ")[0]
        raise ValueError(f"{path} is not {what}: {reason}") from None
