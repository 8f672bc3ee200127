"""Safe zip archives: every entry is checked before anything is read or extracted.

Refused (:class:`~atted_explore.errors.UnsafeArchiveError`): entries with an
absolute path, a drive letter or ``..`` (zip slip), symbolic links, and
archives whose declared uncompressed size or compression ratio is absurd
(zip bomb). The declared sizes bound what is read: ``zipfile`` stops at the
declared size and checks the CRC.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import FormatError, UnsafeArchiveError

#: refuse archives that would expand past this many bytes in total.
MAX_TOTAL_BYTES = 8 * 2**30
#: refuse entries compressed more than this ratio (text compresses ~10-20x; bombs ~1000x).
MAX_RATIO = 200
#: ratios are only judged for entries at least this large (tiny files compress oddly).
RATIO_MIN_BYTES = 2**20


def _unsafe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def open_zip(path: str | os.PathLike, max_total_bytes: int = MAX_TOTAL_BYTES) -> zipfile.ZipFile:
    """Open a zip after checking every entry for zip slip and zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise FormatError(f"{path}: not a readable zip archive ({error})") from None
    total = 0
    for info in archive.infolist():
        if _unsafe_name(info.filename):
            archive.close()
            raise UnsafeArchiveError(
                f"{path}: entry {info.filename!r} would be written outside the target folder (zip slip); refused"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            archive.close()
            raise UnsafeArchiveError(f"{path}: entry {info.filename!r} is a symbolic link; refused")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and ratio > MAX_RATIO:
            archive.close()
            raise UnsafeArchiveError(
                f"{path}: entry {info.filename!r} expands {ratio:,.0f}-fold to {info.file_size:,} bytes "
                f"(zip bomb?); refused before extraction (limit {MAX_RATIO}-fold)"
            )
    if total > max_total_bytes:
        archive.close()
        raise UnsafeArchiveError(
            f"{path}: would expand to {total:,} bytes, more than the limit of {max_total_bytes:,} (zip bomb?); "
            "refused before extraction"
        )
    return archive


def extract_zip(path: str | os.PathLike, target: str | os.PathLike, max_total_bytes: int = MAX_TOTAL_BYTES) -> Path:
    """Extract a checked zip into ``target`` (created; must not exist yet) and return it."""
    target = Path(target)
    with open_zip(path, max_total_bytes) as archive:
        target.mkdir(parents=True, exist_ok=False)
        archive.extractall(target)
    return target
