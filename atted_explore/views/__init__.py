"""Views: Panel components on an atlas, each usable in a notebook cell and composed in the Explorer."""

from .coexlist import CoexList
from .coexviewer import CoexViewer
from .explorer import AtlasOverview, Explorer
from .pcview import PCView

__all__ = ["AtlasOverview", "CoexList", "CoexViewer", "Explorer", "PCView"]
