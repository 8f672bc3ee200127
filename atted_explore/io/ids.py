"""Gene ID normalization and join reports shared by every reader.

IDs are trimmed; species whose IDs are case-insensitive (AGI ``AT1G01060`` =
``At1g01060``, rice RAP ``OS07G0264100`` = ``Os07g0264100``) are compared
case-folded; transcript suffixes (``AT1G01060.1``) can be stripped so
transcripts map to their gene. The IDs stored in an atlas keep the spelling of
the expression matrix: other tables are mapped onto them.

Every join reports how many IDs matched and which did not, as a
:class:`JoinWarning` and, on request, as a table (:meth:`JoinReport.table`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

#: transcript/isoform suffixes: ``AT1G01060.1``, ``AL1G11530.t1``, ``Zm00001d001234_T001``.
ISOFORM_SUFFIX = r"(?:\.t?\d+|_[TP]\d{3})$"


class JoinWarning(UserWarning):
    """IDs of one table were joined to another; the message gives matched/unmatched counts."""


@dataclass(frozen=True)
class IdRule:
    """How the gene IDs of one species compare.

    ``case_insensitive``: compare case-folded. ``isoform_suffix``: a regular
    expression for transcript suffixes removed before comparing (``None`` keeps them).
    """

    case_insensitive: bool = True
    isoform_suffix: str | None = None

    def key(self, ids: Iterable[str]) -> pd.Index:
        """Comparison keys of ``ids``."""
        keys = pd.Index([str(i) for i in ids], dtype=object).str.strip()
        if self.isoform_suffix:
            keys = keys.str.replace(self.isoform_suffix, "", regex=True)
        if self.case_insensitive:
            keys = keys.str.casefold()
        return pd.Index(keys, dtype=object)

    def gene_ids(self, ids: Iterable[str]) -> pd.Index:
        """``ids`` trimmed and with isoform suffixes removed (case kept)."""
        genes = pd.Index([str(i) for i in ids], dtype=object).str.strip()
        if self.isoform_suffix:
            genes = genes.str.replace(self.isoform_suffix, "", regex=True)
        return pd.Index(genes, dtype=object)


#: Plant gene IDs (AGI, RAP, maize Zm...) are case-insensitive and carry ``.N`` isoform suffixes.
DEFAULT_RULE = IdRule(case_insensitive=True, isoform_suffix=ISOFORM_SUFFIX)


#: Species whose IDs need another rule than :data:`DEFAULT_RULE`, by ATTED-II species code.
SPECIES_RULES = {
    # maize B73 v3 transcripts carry two digits (GRMZM2G000001_T01), v4/v5 three (Zm00001d001234_T001)
    "Zma": IdRule(case_insensitive=True, isoform_suffix=r"(?:\.t?\d+|_[TP]\d{2,3})$"),
}


def id_rule(node_name: str | None) -> IdRule:
    """The ID rule of a species node (``"Zma-r"``) or code (``"Zma"``); :data:`DEFAULT_RULE` unless listed."""
    code = (node_name or "").split("-")[0]
    return SPECIES_RULES.get(code, DEFAULT_RULE)


@dataclass
class JoinReport:
    """Outcome of mapping the IDs of one table (``what``) onto a set of genes (``onto``)."""

    what: str
    onto: str
    mapping: dict[str, str | None] = field(repr=False)

    @property
    def n_total(self) -> int:
        return len(self.mapping)

    @property
    def matched(self) -> list[str]:
        return [i for i, gene in self.mapping.items() if gene is not None]

    @property
    def unmatched(self) -> list[str]:
        return [i for i, gene in self.mapping.items() if gene is None]

    @property
    def n_matched(self) -> int:
        return len(self.matched)

    @property
    def n_unmatched(self) -> int:
        return self.n_total - self.n_matched

    def counts(self) -> dict[str, int | str]:
        """A small dict for node attrs and printing."""
        return {
            "what": self.what,
            "onto": self.onto,
            "ids": self.n_total,
            "matched": self.n_matched,
            "unmatched": self.n_unmatched,
        }

    def table(self) -> pd.DataFrame:
        """One row per distinct input ID: ``id``, ``gene`` (matched gene or missing), ``matched``."""
        frame = pd.DataFrame({"id": list(self.mapping), "gene": list(self.mapping.values())})
        frame["matched"] = frame["gene"].notna()
        return frame

    def message(self) -> str:
        examples = ", ".join(self.unmatched[:5])
        text = f"{self.what} -> {self.onto}: {self.n_matched:,} of {self.n_total:,} IDs matched, {self.n_unmatched:,} unmatched"
        return text + (f" (e.g. {examples})" if examples else "")

    def warn(self, stacklevel: int = 3) -> JoinReport:
        warnings.warn(self.message(), JoinWarning, stacklevel=stacklevel)
        return self


def map_ids(
    ids: Iterable[str], genes: Iterable[str], rule: IdRule, *, what: str, onto: str, warn: bool = True
) -> JoinReport:
    """Map each distinct ID of ``ids`` onto ``genes`` (comparison by ``rule``) and report it."""
    genes = pd.Index(genes, dtype=object)
    by_key: dict[str, str] = {}
    for key, gene in zip(rule.key(genes), genes, strict=True):
        by_key.setdefault(key, gene)
    distinct = list(dict.fromkeys(str(i) for i in ids))
    mapping = {i: by_key.get(k) for i, k in zip(distinct, rule.key(distinct), strict=True)}
    report = JoinReport(what=what, onto=onto, mapping=mapping)
    return report.warn(stacklevel=3) if warn else report


def looks_like_isoforms(ids: Iterable[str], rule: IdRule) -> bool:
    """True when most IDs carry a transcript suffix (``AT1G01060.1``)."""
    if not rule.isoform_suffix:
        return False
    ids = pd.Index(list(ids), dtype=object)
    return len(ids) > 0 and ids.str.contains(re.compile(rule.isoform_suffix)).mean() > 0.5
