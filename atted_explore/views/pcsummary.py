"""PCSummary: a card per PC saying what it means (label, summary, gene sets, terms, representative samples)."""

from __future__ import annotations

import numpy as np
import panel as pn
import param
import xarray as xr

from ..compute.interpretation import has_interpretation, interpretation_tables, side_rows
from ..compute.pc_genes import SIDES
from ..compute.pc_samples import plain_text
from . import _style
from ._data import resident
from ._guard import contained, problem_pane

SIDE_TITLES = {"positive": "Positive end (+)", "negative": "Negative end (−)"}
NO_INTERPRETATION = (
    "This species node has no PC interpretation yet. Compute it in Python with "
    "<code>atted_explore.interpret_pcs(node)</code> or on a saved atlas with "
    "<code>atted-explore interpret PATH</code>."
)
#: applied inside the HTML pane's shadow root, so selectors name the card body's own elements.
CARD_STYLE = """
table { border-collapse: collapse; width: 100%; font-size: 12px; margin-bottom: 8px; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
th { color: #555; font-weight: 600; }
.weak { color: #9a9a9a; }
.sides { display: flex; gap: 24px; flex-wrap: wrap; }
.side { flex: 1 1 440px; min-width: 0; }
h4 { margin: 10px 0 4px 0; }
.studies { color: #666; font-size: 11px; }
"""


def _number(value: float) -> str:
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    """An HTML table from already-escaped cells."""
    if not rows:
        return f"<p class='weak'>{_style.escape(empty)}</p>"
    head = "".join(f"<th>{_style.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class PCSummary(pn.viewable.Viewer):
    """One card per PC: its label, summary, description (on expand), the top enriched gene sets with
    FDR, the characteristic annotation terms with their studies and the representative samples of
    both ends. Every text is HTML-escaped (annotations and model-written labels are free text).

    Public params for linking: ``selected_pc`` (int or None) is set when the user presses a card's
    "Show on PC View" button; the Explorer puts that PC on the PC View's axes. ``pcs`` limits the
    cards shown (default: all PCs).
    """

    node = param.ClassSelector(class_=xr.Dataset, doc="species node (PCA and interpret_pcs computed)")
    selected_pc = param.Integer(default=None, allow_None=True, doc="PC of the card the user chose")
    pcs = param.List(default=None, allow_None=True, item_type=int, doc="PCs to show (None: all)")
    alpha = param.Number(default=0.05, bounds=(0, 1), doc="FDR below which sets and terms are shown as significant")
    n_sets = param.Integer(default=3, bounds=(1, None), doc="gene sets shown per side")
    n_terms = param.Integer(default=5, bounds=(1, None), doc="annotation terms shown per side")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._problem = problem_pane()
        self._cards = pn.Column(sizing_mode="stretch_width", css_classes=["pc-summary"])
        self._layout = pn.Column(self._problem, self._cards, sizing_mode="stretch_width")
        self._render()

    @param.depends("node", "pcs", "alpha", "n_sets", "n_terms", watch=True)
    @contained
    def _render(self) -> None:
        if not has_interpretation(self.node):
            self._tables = None
            self._cards[:] = [pn.pane.Alert(NO_INTERPRETATION, alert_type="info", sizing_mode="stretch_width")]
            return
        self._tables = interpretation_tables(self.node)
        self._cards[:] = [self._card(pc) for pc in self.shown_pcs()]

    def shown_pcs(self) -> list[int]:
        """PCs with a card, in order."""
        known = [int(pc) for pc in self.node["pc"].values]
        return known if self.pcs is None else [pc for pc in self.pcs if pc in known]

    def _text(self, coord: str, pc: int) -> str:
        if coord not in self.node.coords:
            return ""
        value = self.node[coord].sel(pc=pc).values.item()
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)

    def card_title(self, pc: int) -> str:
        """``PC3 (4.1%): label`` as plain text (escape before showing)."""
        return _style.pc_axis_label(self.node, pc)

    def _sets_html(self, pc: int, side: str) -> str:
        rows = []
        for row in side_rows(self._tables["enrichment"], pc, side).head(self.n_sets).itertuples():
            weak = "" if row.fdr < self.alpha else " class='weak'"
            # pathway names carry markup (PMN: "<i>myo</i>-inositol"): show their text
            name = _style.escape(plain_text(row.name))
            rows.append([f"<span{weak}>{name}</span>", _style.escape(f"{row.source} {row.set}"),
                         f"{row.overlap}/{row.set_size}", _number(row.fdr)])
        return _table(["gene set", "source", "top genes in set", "FDR"], rows, "no gene set overlaps the top genes")

    def _terms_html(self, pc: int, side: str) -> str:
        rows = []
        for row in side_rows(self._tables["terms"], pc, side).head(self.n_terms).itertuples():
            weak = "" if row.fdr < self.alpha else " class='weak'"
            studies = str(row.extreme_studies).split(",") if row.extreme_studies else []
            shown = ", ".join(studies[:4]) + (f" and {len(studies) - 4} more" if len(studies) > 4 else "")
            rows.append([
                f"<span{weak}>{_style.escape(row.term)}</span>", f"{row.auc:.2f}", _number(row.fdr),
                f"{row.n_samples} / {row.n_studies}",
                f"{row.n_extreme_studies} <span class='studies'>{_style.escape(shown)}</span>",
            ])
        return _table(["term", "AUC", "FDR", "samples / studies", "studies at this end"], rows, "no annotation term")

    def _representatives_html(self, pc: int, side: str) -> str:
        fields = [f for f in ("title", "tissue", "treatment") if f in self.node.coords]
        samples = self.node.indexes["sample"]
        rows = []
        for row in side_rows(self._tables["representatives"], pc, side).itertuples():
            position = samples.get_loc(row.sample)
            annotation = "; ".join(str(self.node[f].values[position]) for f in fields)
            rows.append([_style.escape(row.sample), _style.escape(row.study), f"{row.score:.2f}",
                         _style.escape(" ".join(row.terms)), _style.escape(annotation)])
        shared = side_rows(self._tables["shared"], pc, side)["terms"]
        common = " ".join(shared.iat[0]) if len(shared) else ""
        note = f"<p>All share: <b>{_style.escape(common)}</b></p>" if common else ""
        return note + _table(["sample", "study", "score", "own terms", "annotation"], rows, "no samples")

    def card_html(self, pc: int) -> str:
        """The body of one PC's card as escaped HTML."""
        if self._tables is None:
            return NO_INTERPRETATION
        description = self._text("pc_description", pc)
        parts = [f"<p>{_style.escape(self._text('summary', pc) or 'No summary written.')}</p>"]
        if description:
            parts.append(f"<details><summary>Description</summary><p>{_style.escape(description)}</p></details>")
        sides = []
        for side in SIDES:
            sides.append(
                f"<div class='side'><h4>{SIDE_TITLES[side]}</h4>"
                f"<b>Enriched gene sets</b>{self._sets_html(pc, side)}"
                f"<b>Characteristic terms</b>{self._terms_html(pc, side)}"
                f"<b>Representative samples</b> (one per study){self._representatives_html(pc, side)}</div>"
            )
        parts.append(f"<div class='sides'>{''.join(sides)}</div>")
        return "".join(parts)

    def choose(self, pc: int) -> None:
        """Select ``pc`` (as the card's button does); choosing it again notifies again."""
        if pc == self.selected_pc:  # param does not notify an unchanged value; the PC View must still follow
            self.param.trigger("selected_pc")
        else:
            self.selected_pc = pc

    def _card(self, pc: int) -> pn.Card:
        button = pn.widgets.Button(label="Show on PC View", color="primary", width=150)
        button.on_click(lambda event, pc=pc: self.choose(pc))
        body = pn.pane.HTML(self.card_html(pc), stylesheets=[CARD_STYLE], css_classes=["pc-card"],
                            sizing_mode="stretch_width")
        header = pn.pane.HTML(f"<h3>{_style.escape(self.card_title(pc))}</h3>", css_classes=["pc-card-title"])
        return pn.Card(button, body, header=header, collapsed=pc != self.shown_pcs()[0], sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
