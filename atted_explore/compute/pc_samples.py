"""What the samples at each end of a PC have in common: annotation terms, study annotation, representatives.

Terms
    Every sample's annotation fields (``title``, ``tissue``, ``treatment``,
    ``study_title``, those present) are reduced to terms: HTML tags dropped with
    the standard library's parser (the text is never executed or rendered) and
    entities decoded; lower-cased; split into words of letters and digits;
    stop words, accession IDs (``SRR123``, ``GSE45``, ``PRJNA12`` ...),
    numbers, numbers with a unit (``24h``, ``10um``), replicate tags (``rep2``)
    and one-letter words removed; a plural (``roots``) folded onto its singular
    when the singular occurs in the same atlas.

Study common annotation
    The terms shared by every sample of a study: what the study is about, said
    once per study whatever its size.

Study contrasts (:func:`contrasted_terms`)
    A study's free text is often repeated in every sample: a title such as
    "leaf cold stress; control rep1" names the treatment on the control
    samples too. When a term varies within a study in some field (some but not
    all of its samples carry it there, e.g. ``treatment`` = cold vs control),
    the study itself says which samples it describes: the term is counted for
    those samples only, not for the others through the shared text. A term that
    never varies within a study (a tissue study, or an atlas whose only text is
    the study title) is counted for every sample carrying it, as before.
    Without this, a treatment's controls sit in the "with" group of the rank
    test at the opposite end of the PC and bury the treatment's term.

Characteristic terms of a PC side
    For every term carried by at least ``min_samples`` samples (and not by all;
    counted after the study contrasts above),
    the PC scores of samples with the term against those without, by the
    Mann–Whitney U test (one-sided: higher scores on the positive side, lower on
    the negative side). Effect size = AUC = U / (n_with · n_without): the
    probability that a sample with the term lies further towards that end than
    one without (0.5 = no effect). P-values are BH-adjusted over all PCs, sides
    and terms together. Studies are counted, not only samples: ``n_studies``
    is the number of studies with the term, ``n_extreme_studies`` the number of
    studies with the term among the ``extreme_fraction`` of samples at that end.
    Terms are ranked by: FDR below ``alpha`` and at least ``min_studies``
    extreme studies first, then by AUC.

Representative samples of a PC side
    Walking from the extreme inwards, at most one sample per study until
    ``n_representatives`` samples (so one large study cannot fill the list);
    the terms all of them share are reported once (``shared``) and removed from
    each sample's own terms.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..atlas import INTERPRETATION_TABLES
from ..errors import InputError
from .pc_genes import SIDES, bh_adjust, check_pcs

#: annotation fields that are tokenised, in display order.
TEXT_FIELDS = ("title", "tissue", "treatment", "study_title")

STOP_WORDS = frozenset(
    """a about above after again all also an and any are as at be been before being below between both but by can
    did do does during each few for from further had has have having here how if in into is it its itself just more
    most no nor not of off on once only or other our out over own same so some such than that the their them then
    there these they this those through to too under until up very via vs versus was were what when where which
    while who whom why will with within without
    rna seq rnaseq mrna sample samples replicate replicates rep biological technical library libraries run runs
    data dataset study studies experiment experiments analysis analyses transcriptome transcriptomes transcriptomic
    transcriptomics expression profiling profile profiles genome wide sequencing illumina total using based reveals
    high throughput deep response responses several col""".split()
)
#: SRA/ENA/DDBJ/GEO/ArrayExpress/BioProject/BioSample accessions and number-like tokens.
ACCESSION = re.compile(
    r"^(?:[sed]r[rxspa]|gs[emp]|gpl|prj(?:na|eb|db)|sam[nde][a-z]?|e(?:mtab|geod)|pxd|ena)\d+$"
)
NUMBER_LIKE = re.compile(r"^\d+(?:\.\d+)?(?:[a-z]{1,3})?$|^(?:rep|r|bio|br|tr|s|n|x)\d+$")
WORD = re.compile(r"[a-z0-9]+")
SKIPPED_TAGS = frozenset({"script", "style"})


class _TextOnly(HTMLParser):
    """Collect the text of an HTML fragment; tags are dropped, script/style content is skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        self._skipping += tag in SKIPPED_TAGS

    def handle_endtag(self, tag):
        self._skipping -= tag in SKIPPED_TAGS and self._skipping > 0

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def plain_text(value) -> str:
    """The text of a possibly-HTML annotation value, with tags removed and entities decoded."""
    parser = _TextOnly()
    parser.feed(str(value))
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def tokens(value) -> list[str]:
    """The terms of one annotation value (see the module docstring for the rules), in order, unique."""
    words = []
    for word in WORD.findall(plain_text(value).lower()):
        if len(word) > 1 and word not in STOP_WORDS and not ACCESSION.match(word) and not NUMBER_LIKE.match(word):
            words.append(word)
    return list(dict.fromkeys(words))


def _fold_plurals(term_lists: list[list[str]], vocabulary: set[str]) -> list[list[str]]:
    singular = {
        t: t[:-1] for t in vocabulary if len(t) > 3 and t.endswith("s") and not t.endswith("ss") and t[:-1] in vocabulary
    }
    return [list(dict.fromkeys(singular.get(t, t) for t in terms)) for terms in term_lists]


def text_fields(node: xr.Dataset) -> list[str]:
    """The tokenised annotation fields present on the node's samples."""
    return [f for f in TEXT_FIELDS if f in node.coords and node[f].dims == ("sample",)]


def _field_terms(node: xr.Dataset) -> dict[str, list[list[str]]]:
    """Per annotation field, the terms of every sample (plurals folded over the node's whole vocabulary)."""
    if "sample" not in node.dims:
        raise InputError("node has no 'sample' dim: sample annotation terms need samples")
    per_field = {}
    for field in text_fields(node):  # annotation values repeat: tokenise each distinct value once
        values, index = np.unique(node[field].values.astype(str), return_inverse=True)
        tokenised = list(map(tokens, values))
        per_field[field] = [tokenised[i] for i in index]
    vocabulary = {t for lists in per_field.values() for terms in lists for t in terms}
    return {field: _fold_plurals(lists, vocabulary) for field, lists in per_field.items()}


def _union(per_field: dict[str, list[list[str]]], n_samples: int) -> list[list[str]]:
    return [list(dict.fromkeys(t for lists in per_field.values() for t in lists[i])) for i in range(n_samples)]


def _by_sample(node: xr.Dataset, lists: list[list[str]]) -> pd.Series:
    return pd.Series(lists, index=pd.Index(node["sample"].values.astype(str), name="sample"), dtype=object)


def sample_terms(node: xr.Dataset) -> pd.Series:
    """The terms of every sample (index: sample ID; values: lists of terms)."""
    return _by_sample(node, _union(_field_terms(node), node.sizes["sample"]))


def contrasted_terms(node: xr.Dataset) -> pd.Series:
    """The terms the rank test counts for every sample (module doc, "Study contrasts").

    A term that varies within a study in some field (some but not all of the
    study's samples carry it there) is counted only for the samples carrying it
    in such a field; a sample's other terms are counted as they are.
    """
    per_field = _field_terms(node)
    kept = _union(per_field, node.sizes["sample"])
    for _, members in pd.Series(np.arange(len(kept)), index=_studies(node)).groupby(level=0, sort=False):
        rows = members.to_numpy()
        varying: dict[str, list[str]] = {}  # term -> the fields where it varies in this study
        for field, lists in per_field.items():
            sets = [set(lists[i]) for i in rows]
            for term in set().union(*sets) - set.intersection(*sets):
                varying.setdefault(term, []).append(field)
        for i in rows if varying else ():
            kept[i] = [t for t in kept[i] if t not in varying or any(t in per_field[f][i] for f in varying[t])]
    return _by_sample(node, kept)


def _studies(node: xr.Dataset) -> np.ndarray:
    if "study" in node.coords and node["study"].dims == ("sample",):
        return node["study"].values.astype(str)
    return node["sample"].values.astype(str)  # without studies every sample is its own study


def study_common_annotation(node: xr.Dataset, terms: pd.Series | None = None) -> pd.DataFrame:
    """Per study: its number of samples and the ``terms`` every one of them carries (in first-seen order)."""
    terms = sample_terms(node) if terms is None else terms
    rows = []
    for study, members in pd.Series(terms.to_numpy(), index=_studies(node)).groupby(level=0, sort=False):
        lists = list(members)
        shared = set(lists[0]).intersection(*map(set, lists[1:]))
        rows.append({"study": study, "n_samples": len(lists), "terms": [t for t in lists[0] if t in shared]})
    return pd.DataFrame(rows, columns=list(INTERPRETATION_TABLES["common"][2]))


def _membership(terms: pd.Series, min_samples: int) -> tuple[list[str], np.ndarray]:
    """Terms carried by at least ``min_samples`` (and not all) samples; a (term, sample) bool matrix."""
    counts = Counter(t for ts in terms for t in ts)
    kept = sorted(t for t, n in counts.items() if min_samples <= n < len(terms))
    index = {t: k for k, t in enumerate(kept)}
    matrix = np.zeros((len(kept), len(terms)), dtype=bool)
    for s, ts in enumerate(terms):
        for t in ts:
            if t in index:
                matrix[index[t], s] = True
    return kept, matrix


def _tie_term(values: np.ndarray) -> float:
    """sum(t^3 - t) over groups of tied values (the Mann–Whitney variance correction)."""
    _, counts = np.unique(values, return_counts=True)
    return float((counts.astype(float) ** 3 - counts).sum())


def _u_pvalue(u: np.ndarray, n1: np.ndarray, n2: np.ndarray, tie_term: float) -> np.ndarray:
    """One-sided P(U >= u) by the normal approximation with tie and continuity corrections (as scipy's)."""
    n = n1 + n2
    mean = n1 * n2 / 2
    sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    return stats.norm.sf((u - mean - 0.5) / sd)


def characteristic_terms(
    node: xr.Dataset,
    pcs=None,
    *,
    terms: pd.Series | None = None,
    min_samples: int = 3,
    extreme_fraction: float = 0.1,
    alpha: float = 0.05,
    min_studies: int = 2,
) -> pd.DataFrame:
    """Annotation terms characteristic of each side of each PC (rank test; see the module docstring).

    Returns one row per (pc, side, term) with columns ``n_samples``, ``n_studies``,
    ``n_extreme_studies``, ``auc``, ``p``, ``fdr``, ``rank`` (1 = most
    characteristic) and ``extreme_studies`` (IDs, comma-separated).
    """
    if not 0 < extreme_fraction < 1:
        raise InputError(f"extreme_fraction={extreme_fraction!r}: expected a fraction between 0 and 1")
    if "sample_score" not in node:
        raise InputError("node has no 'sample_score': run atted_explore.pca(node) first")
    pcs = check_pcs(node, pcs)
    terms = contrasted_terms(node) if terms is None else terms
    vocabulary, member = _membership(terms, min_samples)
    studies = _studies(node)
    n_with = member.sum(axis=1)
    n_without = member.shape[1] - n_with
    study_codes, study_index = np.unique(studies, return_inverse=True)
    studies_with = [len(np.unique(study_index[row])) for row in member]
    n_extreme = max(1, int(round(extreme_fraction * member.shape[1])))
    rows = []
    for pc in pcs:
        scores = node["sample_score"].sel(pc=pc).values.astype(float)
        ranks = stats.rankdata(scores)
        tie_term = _tie_term(scores)
        rank_sum = member.astype(float) @ ranks
        u_high = rank_sum - n_with * (n_with + 1) / 2  # U of "with" scoring above "without"
        order = np.argsort(scores)
        for side, sign, extreme in (("positive", 1, order[-n_extreme:]), ("negative", -1, order[:n_extreme])):
            u = u_high if sign > 0 else n_with * n_without - u_high
            p = _u_pvalue(u, n_with, n_without, tie_term)
            at_end = member[:, extreme]
            for k, term in enumerate(vocabulary):
                hit = extreme[at_end[k]]
                rows.append((pc, side, term, int(n_with[k]), studies_with[k], len(set(study_index[hit])),
                             float(u[k] / (n_with[k] * n_without[k])), float(p[k]),
                             ",".join(study_codes[np.unique(study_index[hit])])))
    table = pd.DataFrame(rows, columns=["pc", "side", "term", "n_samples", "n_studies", "n_extreme_studies", "auc", "p",
                                        "extreme_studies"])
    table["fdr"] = bh_adjust(table["p"].to_numpy())
    table["strong"] = (table["fdr"] < alpha) & (table["n_extreme_studies"] >= min_studies)
    table = table.sort_values(["pc", "side", "strong", "auc", "p"], ascending=[True, False, False, False, True],
                              kind="stable")
    table["rank"] = table.groupby(["pc", "side"]).cumcount() + 1
    return table.drop(columns="strong").reset_index(drop=True)[list(INTERPRETATION_TABLES["terms"][2])]


def representative_samples(
    node: xr.Dataset, pcs=None, *, terms: pd.Series | None = None, n_representatives: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Representative samples of each PC side, one per study, and the terms they all share.

    Returns ``(samples, shared)``: ``samples`` has one row per (pc, side, sample)
    with ``order`` (1 = most extreme), ``study``, ``score`` and ``terms`` (the
    sample's terms minus those all representatives of that side share);
    ``shared`` has one row per (pc, side) with the shared ``terms``.
    """
    if n_representatives < 1:
        raise InputError(f"n_representatives={n_representatives!r}: expected an integer >= 1")
    pcs = check_pcs(node, pcs)
    terms = sample_terms(node) if terms is None else terms
    samples = node["sample"].values.astype(str)
    studies = _studies(node)
    rows, shared_rows = [], []
    for pc in pcs:
        scores = node["sample_score"].sel(pc=pc).values.astype(float)
        order = np.argsort(scores, kind="stable")
        for side, walk in (("positive", order[::-1]), ("negative", order)):
            chosen, seen = [], set()
            for i in walk:
                if studies[i] not in seen:
                    seen.add(studies[i])
                    chosen.append(i)
                    if len(chosen) == n_representatives:
                        break
            lists = [terms.iat[i] for i in chosen]
            shared = set(lists[0]).intersection(*map(set, lists[1:])) if len(lists) > 1 else set()
            shared_rows.append({"pc": pc, "side": side, "terms": [t for t in lists[0] if t in shared]})
            for position, (i, ts) in enumerate(zip(chosen, lists), start=1):
                rows.append({"pc": pc, "side": side, "order": position, "sample": samples[i], "study": studies[i],
                             "score": float(scores[i]), "terms": [t for t in ts if t not in shared]})
    columns = list(INTERPRETATION_TABLES["representatives"][2])
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(shared_rows, columns=["pc", "side", "terms"])
