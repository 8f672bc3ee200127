"""Robust text input: gzip or plain, UTF-8 with or without BOM, LF or CRLF.

Every failure becomes a :class:`~atted_explore.errors.FormatError` naming the
file (and the line for undecodable bytes), never a bare ``UnicodeDecodeError``
or ``EOFError`` from deep inside a parser.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ..errors import FormatError, InputError

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic number."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise FormatError(
            f"{path}: truncated or corrupt gzip data ({error}); expected a complete gzip file"
        ) from None


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a leading BOM dropped, CRLF and CR turned into LF)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError(
            f"{source}, line {line}: byte {data[error.start:error.start + 1]!r} is not valid UTF-8; "
            "expected UTF-8 text (re-save the file as UTF-8)"
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text(path: str | os.PathLike) -> str:
    """The decoded text of a (possibly gzipped) file."""
    return decode(read_bytes(path), str(path))
