"""Datasets: the embedded synthetic demo atlas and the registry of real public data."""

from . import registry
from .demo import demo
from .registry import load

__all__ = ["demo", "load", "registry"]
