"""Exceptions raised for bad input.

Every error a user can cause by handing the package a bad file, table or
atlas derives from :class:`InputError` (a ``ValueError``), so callers can
catch one type and the command line can print one clear line.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the file, line or field and what was expected."""


class AtlasValidationError(InputError):
    """An atlas (or one of its nodes) does not follow the data model."""


class FormatError(InputError):
    """A file does not follow the format it claims to be in."""


class UnsafeArchiveError(InputError):
    """An archive would write outside its target or expand to an absurd size."""


class OutputPathError(InputError):
    """An output path cannot be used (exists and is not an atlas, read-only, ...)."""
