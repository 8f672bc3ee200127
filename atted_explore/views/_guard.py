"""Errors stay inside the view that raised them: a short message there, the traceback in the log."""

from __future__ import annotations

import functools
import logging

import panel as pn

from ..errors import InputError
from ._style import escape

logger = logging.getLogger("atted_explore.views")


def problem_pane() -> pn.pane.Alert:
    """Where a view says what went wrong (hidden while all is well)."""
    return pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")


def contained(method):
    """Run a view's update; on an exception show a short message in the view's ``_problem`` pane.

    Input problems (:class:`InputError`) are shown as they are; anything else is
    logged with its traceback and shown as one line, so one failing view never
    takes the page down.
    """

    @functools.wraps(method)
    def update(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except Exception as error:  # the page must survive any failure of one view
            if isinstance(error, InputError):
                text = str(error)
            else:
                logger.exception("%s.%s failed", type(self).__name__, method.__name__)
                text = f"{type(error).__name__}: {error} (details in the server log)"
            self._problem.object = f"<b>{escape(type(self).__name__)} could not update:</b> {escape(text)}"
            self._problem.visible = True
            return None
        self._problem.visible = False
        return result

    return update
