"""Summarizers: turn the statistics of one PC into a label, a one-sentence summary and a description.

The statistics choose the facts; a summarizer only phrases them. Every
summarizer takes the ``facts`` of one PC (a JSON-ready dict built by
:func:`atted_explore.compute.interpretation.pc_facts`: per side, the enriched
gene sets, the characteristic annotation terms, the terms shared by the
representative samples and those samples' annotation) and returns
``{"label": ..., "summary": ..., "description": ...}``.

- :class:`OfflineSummarizer` (default) writes deterministic text from the
  figures alone; it never states anything the statistics do not.
- :class:`ChatSummarizer` asks any OpenAI-compatible chat-completions endpoint
  (llama.cpp server, Ollama, vLLM, a hosted service) over HTTP with the
  standard library, and validates the reply.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .errors import InputError

logger = logging.getLogger(__name__)

KEY_VARIABLE = "ATTED_EXPLORE_LLM_KEY"
#: longest accepted text per field (characters).
MAX_LENGTHS = {"label": 80, "summary": 400, "description": 2500}
FIELDS = tuple(MAX_LENGTHS)
SIDE_SIGNS = {"positive": "+", "negative": "−"}


class SummarizerError(InputError):
    """A summarizer could not write the text of a PC (the message names the PC and the cause)."""


@runtime_checkable
class Summarizer(Protocol):
    """What :func:`atted_explore.interpret_pcs` needs: a name, a model and ``summarize(facts)``."""

    name: str
    model: str

    def summarize(self, facts: dict) -> dict[str, str]:
        """``{"label", "summary", "description"}`` of one PC from its facts."""


# --------------------------------------------------------------------------- offline


def _fdr(value: float) -> str:
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _side_label(side: dict) -> str:
    """The strongest one or two terms of a side, else what its representatives (one per study) all share,
    else its most enriched gene set, else nothing."""
    terms = [t["term"] for t in side["terms"][:2]]
    if terms:
        return ", ".join(terms)
    if side["shared_terms"]:
        return ", ".join(side["shared_terms"][:2])
    return side["gene_sets"][0]["name"] if side["gene_sets"] else ""


def _term_phrase(term: dict) -> str:
    return (
        f"'{term['term']}' (AUC {term['auc']:.2f}, FDR {_fdr(term['fdr'])}, {term['n_samples']} samples in "
        f"{term['n_studies']} studies, {term['n_extreme_studies']} of them at this end)"
    )


def _set_phrase(gene_set: dict) -> str:
    return (
        f"{gene_set['name']} [{gene_set['source']} {gene_set['set']}] ({gene_set['overlap']} of "
        f"{gene_set['set_size']} genes, {gene_set['fold']:.1f}-fold, FDR {_fdr(gene_set['fdr'])})"
    )


def _side_paragraph(name: str, side: dict, sets_available: bool) -> str:
    parts = [f"{name.capitalize()} end ({SIDE_SIGNS[name]}):"]
    if side["terms"]:
        parts.append("samples here are characterised by " + "; ".join(map(_term_phrase, side["terms"])) + ".")
    else:
        parts.append("no annotation term passes the thresholds.")
    if side["gene_sets"]:
        parts.append(
            f"Its {side['n_top_genes']} top genes are enriched in "
            + "; ".join(map(_set_phrase, side["gene_sets"])) + "."
        )
    elif sets_available:
        parts.append(f"Its {side['n_top_genes']} top genes are enriched in no gene set at the FDR threshold.")
    if side["shared_terms"]:
        parts.append(
            f"All {len(side['representatives'])} representative samples (one per study) share: "
            + ", ".join(side["shared_terms"]) + "."
        )
    return " ".join(parts)


class OfflineSummarizer:
    """Deterministic text from the statistics alone: the default summarizer, no network."""

    name = "offline"
    model = ""

    def summarize(self, facts: dict) -> dict[str, str]:
        sides = facts["sides"]
        labels = {name: _side_label(side) for name, side in sides.items()}
        if labels["positive"] and labels["negative"]:
            label = f"{labels['positive']} vs {labels['negative']}"
        elif labels["positive"] or labels["negative"]:
            name = "positive" if labels["positive"] else "negative"
            label = f"{labels[name]} ({SIDE_SIGNS[name]})"
        else:
            label = "no clear condition"
        pc = f"PC{facts['pc']}"
        clauses = []
        for name, side in sides.items():
            strongest = [
                f"'{t['term']}' (AUC {t['auc']:.2f}, {t['n_extreme_studies']} studies)" for t in side["terms"][:2]
            ]
            if side["gene_sets"]:
                strongest.append(f"genes of {side['gene_sets'][0]['name']} (FDR {_fdr(side['gene_sets'][0]['fdr'])})")
            if strongest:
                clauses.append(f"{' and '.join(strongest)} at its {name} end")
        summary = f"{pc} places " + "; ".join(clauses) + "." if clauses else (
            f"{pc}: no annotation term or gene set passes the thresholds at either end."
        )
        variance = facts.get("variance")
        opening = f"{pc} explains {100 * variance:.1f}% of the variance." if variance is not None else f"{pc}."
        available = facts.get("gene_sets_available", 1) > 0
        paragraphs = [_side_paragraph(name, side, available) for name, side in sides.items()]
        if not available:
            paragraphs.append("The node has no gene sets, so no enrichment was tested.")
        description = " ".join([opening, *paragraphs])
        return _checked({"label": label[: MAX_LENGTHS["label"]], "summary": summary[: MAX_LENGTHS["summary"]],
                         "description": description[: MAX_LENGTHS["description"]]}, facts["pc"], self.name)


# --------------------------------------------------------------------------- chat


PROMPT = """You write short, factual captions for principal components (PCs) of a plant gene-expression atlas.
You receive JSON statistics for one PC. For each end ("positive", "negative") it lists: annotation terms whose
samples score at that end (AUC, FDR, how many samples and studies), gene sets enriched among the genes at that end
(overlap, fold, FDR), terms all representative samples share, and those samples' annotations.
Use only these facts. Do not add conditions, genes, pathways or numbers that are not in the input; when nothing
passes the thresholds, say so. Reply with one JSON object and nothing else:
{"label": "<= 60 characters, e.g. 'heat vs root'", "summary": "one sentence",
 "description": "one paragraph with the key figures"}"""


def _chat_url(base_url: str) -> str:
    """The chat-completions URL from a base URL (``http://host:8080``, ``.../v1`` or the full endpoint)."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return f"{url}/chat/completions" if url.endswith("/v1") else f"{url}/v1/chat/completions"


def _public_url(url: str) -> str:
    """``url`` without user:password and query (nothing secret in messages)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))


def _reply_object(content: str) -> dict:
    """The JSON object of a reply; a fenced ```json block is accepted."""
    fenced = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", content, flags=re.DOTALL)
    value = json.loads(fenced.group(1) if fenced else content)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _checked(texts: dict, pc: int, who: str) -> dict[str, str]:
    """The three fields, each a non-empty string within its length limit."""
    out = {}
    for field, limit in MAX_LENGTHS.items():
        value = texts.get(field)
        if not isinstance(value, str) or not value.strip():
            raise SummarizerError(
                f"PC{pc}: {who} reply has no text in field {field!r} (expected label, summary, description)"
            )
        value = " ".join(value.split())
        if len(value) > limit:
            raise SummarizerError(
                f"PC{pc}: {who} reply field {field!r} has {len(value)} characters; at most {limit} allowed"
            )
        out[field] = value
    return out


class ChatSummarizer:
    """A language model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint phrases the facts.

    ``base_url`` is the server (``http://localhost:8080``), its ``/v1`` root or
    the full endpoint. The API key is ``api_key`` or the environment variable
    ``ATTED_EXPLORE_LLM_KEY``; it is sent only as the ``Authorization: Bearer``
    header, and never logged, shown in errors or stored. A timeout, an HTTP
    error or a malformed reply raises :class:`SummarizerError` naming the PC,
    unless ``fallback=True``: then that PC gets the offline text (and a
    warning in the log).
    """

    name = "chat"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60,
                 fallback: bool = False, temperature: float = 0.0):
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"ChatSummarizer: base_url must be an http(s) URL like http://localhost:8080/v1, got {base_url!r}"
            )
        if not model:
            raise InputError("ChatSummarizer: model is required (the name the server knows the model by)")
        if not timeout_s or timeout_s <= 0:
            raise InputError(f"ChatSummarizer: timeout_s must be a positive number of seconds, got {timeout_s!r}")
        self.url = _chat_url(base_url)
        self.model = str(model)
        self.timeout_s = float(timeout_s)
        self.fallback = bool(fallback)
        self.temperature = float(temperature)
        self.__key = api_key if api_key is not None else os.environ.get(KEY_VARIABLE)

    def __repr__(self) -> str:
        return f"ChatSummarizer(url={_public_url(self.url)!r}, model={self.model!r}, timeout_s={self.timeout_s}, " \
               f"fallback={self.fallback}, key={'set' if self.__key else 'none'})"

    def endpoint(self) -> str:
        """The endpoint URL as shown to users (no credentials)."""
        return _public_url(self.url)

    def _post(self, body: bytes, pc: int) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.__key:
            headers["Authorization"] = f"Bearer {self.__key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        where = f"PC{pc}: language model at {self.endpoint()} (model {self.model!r})"
        logger.debug("asking %s for PC%s", self.endpoint(), pc)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise SummarizerError(f"{where} answered HTTP {error.code} {error.reason}") from None
        except (TimeoutError, socket.timeout):
            raise SummarizerError(f"{where} did not answer within {self.timeout_s:g} s (timeout_s)") from None
        except urllib.error.URLError as error:
            reason = "timed out" if isinstance(error.reason, (TimeoutError, socket.timeout)) else str(error.reason)
            raise SummarizerError(f"{where} could not be reached: {reason}") from None
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
            if not isinstance(content, str):
                raise TypeError("message content is not text")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise SummarizerError(f"{where} sent a reply that is not an OpenAI chat completion ({error})") from None
        try:
            return _reply_object(content)
        except ValueError as error:
            raise SummarizerError(f"{where} did not reply with a JSON object ({error})") from None

    def summarize(self, facts: dict) -> dict[str, str]:
        body = json.dumps({
            "model": self.model,
            "temperature": self.temperature,
            "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": json.dumps(facts)}],
        }).encode()
        try:
            return _checked(self._post(body, facts["pc"]), facts["pc"], f"language model {self.model!r}")
        except SummarizerError as error:
            if not self.fallback:
                raise
            logger.warning("%s; using the offline text instead", error)
            return OfflineSummarizer().summarize(facts)
