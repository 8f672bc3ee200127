"""Views: Panel components on an atlas, each usable in a notebook cell and composed in the Explorer."""

# The views set Bokeh plot options, which need the Bokeh renderer registered even outside a notebook.
import holoviews.plotting.bokeh  # noqa: F401

from .coexlist import CoexList
from .coexmap import CoexMap
from .coexviewer import CoexViewer
from .explorer import AtlasOverview, Explorer
from .network import NetworkDrawer
from .pcsummary import PCSummary
from .pcview import PCView

__all__ = ["AtlasOverview", "CoexList", "CoexMap", "CoexViewer", "Explorer", "NetworkDrawer", "PCSummary", "PCView"]
