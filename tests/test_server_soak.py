"""Small runs of benchmarks/server_soak.py's scenarios (the full-size figures are in RELIABILITY.md):
a real `trainlint server` over stdio, driven by tests/lspclient.py."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import server_soak  # a script, not a package


@pytest.mark.parametrize("pull", [True, False], ids=["pull", "push"])
def test_a_small_soak(tmp_path, pull):
    report = server_soak.soak(tmp_path, 150, 3, pull)
    assert report["problems"] == []
    assert report["edits"] >= 150 and report["final_diagnostics_match_check"]
    assert {"undo", "mid_word", "paste_file", "multi"} <= report["edit_kinds"].keys()
    assert {"textDocument/hover", "textDocument/codeAction"} <= report["requests"].keys()
    assert report["cancelled"] > 0 and report["peak_rss_mib"] > 0


def test_malformed_messages(tmp_path):
    report = server_soak.malformed(tmp_path)
    assert report["problems"] == [] and report["frames"] == 7


def test_unknown_method(tmp_path):
    assert server_soak.unknown_method(tmp_path)["problems"] == []


def test_out_of_range_changes(tmp_path):
    assert server_soak.out_of_range(tmp_path)["problems"] == []


def test_requests_about_a_closed_document(tmp_path):
    """They were answered with an internal error (FileNotFoundError): pygls reads a document that is
    not open from disk. Now: no hover, no actions, no diagnostics."""
    assert server_soak.closed_document(tmp_path)["problems"] == []


def test_a_client_that_disappears_mid_request(tmp_path):
    report = server_soak.vanishing_client(tmp_path)
    assert report["problems"] == [] and report["exit_status"] is not None


def test_a_big_document(tmp_path):
    report = server_soak.big_document(tmp_path, 5000)
    assert report["problems"] == [] and report["lines"] >= 5000 and report["findings"] > 0


def test_a_workspace_opened_at_once(tmp_path):
    report = server_soak.workspace_files(tmp_path, 100)
    assert report["problems"] == []
    assert report["files"] == report["files_matching_check"] == 100 and report["findings"] > 0


def test_collecting_after_an_answer_leaves_the_open_documents_alone():
    """After each lint the server collected all generations, walking every open document's model:
    opening a workspace was quadratic (150 files 83 s, 300 files 325 s; 80 files 4.7 s now). The
    collection after an answer is of the young generations only."""
    import gc

    from trainlint.server.server import server

    generations = []

    def seen(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        server._collect()
    finally:
        gc.callbacks.remove(seen)
    assert generations and max(generations) < 2, generations
