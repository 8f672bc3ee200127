"""Summarizers: the offline text and the chat path against a stub OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import pytest
import xarray as xr

import atted_explore as ae
from atted_explore.compute.interpretation import interpretation_tables, pc_facts
from atted_explore.summarizers import ChatSummarizer, OfflineSummarizer, Summarizer, SummarizerError
from tests.chat_stub import GOOD, HTML_LABEL, SECRET, serving_stub


@pytest.fixture(scope="module")
def stub():
    with serving_stub() as served:
        yield served


@pytest.fixture(scope="module")
def node():
    atlas = ae.datasets.demo(preset="small", seed=0, n_samples={"Osa-r": 200})
    return ae.interpret_pcs(ae.pca(atlas["Osa-r"].to_dataset()), progress=False)


@pytest.fixture(scope="module")
def facts(node):
    return pc_facts(node, interpretation_tables(node), 1)


def test_both_summarizers_follow_the_protocol():
    assert isinstance(OfflineSummarizer(), Summarizer)
    assert isinstance(ChatSummarizer("http://127.0.0.1:1", "m", api_key=SECRET), Summarizer)


def test_offline_text_is_deterministic_and_cites_the_figures(facts):
    first, second = OfflineSummarizer().summarize(facts), OfflineSummarizer().summarize(facts)
    assert first == second
    top = facts["sides"]["positive"]["gene_sets"][0]
    assert top["name"] in first["description"] and f"{top['overlap']} of {top['set_size']} genes" in first["description"]
    assert f"{100 * facts['variance']:.1f}%" in first["description"]


def test_a_good_reply_is_used_and_the_key_goes_only_in_the_authorization_header(stub, facts):
    url, requests = stub
    texts = ChatSummarizer(f"{url}/good/v1", "stub-model", api_key=SECRET).summarize(facts)
    assert texts == GOOD
    request = requests[-1]
    assert request["path"] == "/good/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    sent = json.loads(request["body"])
    assert SECRET not in request["body"].decode() and sent["model"] == "stub-model"
    assert json.loads(sent["messages"][1]["content"]) == json.loads(json.dumps(facts))  # only the statistics


def test_a_fenced_json_reply_is_accepted(stub, facts):
    assert ChatSummarizer(f"{stub[0]}/fenced", "m").summarize(facts) == GOOD


def test_the_key_comes_from_the_environment(stub, facts, monkeypatch):
    monkeypatch.setenv("ATTED_EXPLORE_LLM_KEY", SECRET)
    summarizer = ChatSummarizer(f"{stub[0]}/good/v1/chat/completions", "m")
    summarizer.summarize(facts)
    assert stub[1][-1]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(summarizer) and SECRET not in str(summarizer)


@pytest.mark.parametrize(
    ("path", "timeout", "message"),
    [
        ("/slow", 0.5, "did not answer within 0.5 s"),
        ("/error", 10, "HTTP 500"),
        ("/prose", 10, "did not reply with a JSON object"),
        ("/missing", 10, "no text in field 'description'"),
        ("/long", 10, "field 'label' has 500 characters"),
        ("/garbage", 10, "not an OpenAI chat completion"),
    ],
)
def test_failures_name_the_pc_and_the_cause_and_never_the_key(stub, facts, caplog, path, timeout, message):
    caplog.set_level(logging.DEBUG)
    summarizer = ChatSummarizer(f"{stub[0]}{path}", "m", api_key=SECRET, timeout_s=timeout)
    with pytest.raises(SummarizerError) as raised:
        summarizer.summarize(facts)
    text = str(raised.value)
    assert text.startswith("PC1: ") and message in text, text
    assert isinstance(raised.value, ae.InputError)
    assert SECRET not in "".join(traceback.format_exception(raised.value))
    assert SECRET not in text and SECRET not in caplog.text


def test_fallback_gives_the_offline_text_and_a_warning(stub, facts, caplog):
    caplog.set_level(logging.DEBUG)
    texts = ChatSummarizer(f"{stub[0]}/error", "m", api_key=SECRET, fallback=True).summarize(facts)
    assert texts == OfflineSummarizer().summarize(facts)
    assert "HTTP 500" in caplog.text and "offline" in caplog.text and SECRET not in caplog.text


def test_bad_configuration_is_refused_clearly():
    with pytest.raises(ae.InputError, match="base_url"):
        ChatSummarizer("localhost:8080", "m")
    with pytest.raises(ae.InputError, match="model"):
        ChatSummarizer("http://localhost:8080", "")
    with pytest.raises(ae.InputError, match="timeout_s"):
        ChatSummarizer("http://localhost:8080", "m", timeout_s=0)


def test_chat_texts_are_stored_as_text_and_the_key_never_reaches_the_atlas(stub, node, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    summarizer = ChatSummarizer(f"{stub[0]}/html/v1", "stub-model", api_key=SECRET)
    labelled = ae.interpret_pcs(node, summarizer=summarizer, pcs=[1, 2], progress=False)
    assert labelled["label"].values[0] == HTML_LABEL["label"]  # stored as given; views escape it
    assert labelled.attrs["interpretation"]["summarizer"] == "chat"
    assert labelled.attrs["interpretation"]["model"] == "stub-model"
    path = ae.save_atlas(xr.DataTree.from_dict({"/": xr.Dataset(attrs={"name": "t"}), "Osa-r": labelled}),
                         tmp_path / "chat.zarr")
    stored = b"".join(p.read_bytes() for p in Path(path).rglob("*") if p.is_file())
    assert b"stub-model" in stored and SECRET.encode() not in stored
    assert SECRET not in caplog.text


def test_the_pc_summary_view_shows_html_labels_as_text(stub, node):
    from atted_explore.views.pcsummary import PCSummary

    labelled = ae.interpret_pcs(node, summarizer=ChatSummarizer(f"{stub[0]}/html", "m", api_key=SECRET), pcs=[1],
                                progress=False)
    view = PCSummary(labelled)
    html = view._cards[0].header.object + view.card_html(1)
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;light &amp; &lt;b&gt;dark&lt;/b&gt;" in html
    assert "<img" not in html and "<b>dark" not in html and SECRET not in html
