"""The NetworkDrawer alone, served by ``panel serve`` on the atlas at ``$ATTED_EXPLORE_ATLAS`` (browser tests)."""

import os

import panel as pn

from atted_explore import open_atlas
from atted_explore.views import NetworkDrawer

pn.extension()
NetworkDrawer(open_atlas(os.environ["ATTED_EXPLORE_ATLAS"])).servable(title="NetworkDrawer")
