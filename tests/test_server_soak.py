"""Small runs of benchmarks/server_soak.py's scenarios (the full-size figures are in RELIABILITY.md):
a real `trainlint server` over stdio, driven by tests/lspclient.py."""

from __future__ import annotations

import os
import subprocess
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
    """The two requests among them whose params do not fit the method's schema get InvalidParams:
    pygls (2.1) logged them and answered nothing, and a client waits for an answer forever."""
    report = server_soak.malformed(tmp_path)
    assert report["problems"] == [] and report["frames"] == 7
    assert report["invalid_params_answered"] == 2


def test_the_end_of_a_session(tmp_path):
    """A request after shutdown was dropped unanswered; exit without shutdown ended with status 0."""
    report = server_soak.lifecycle(tmp_path)
    assert report["problems"] == [] and report["exit_status"] == [0, 1]


TEARDOWN_MARK = "trainlint-test: the interpreter's teardown ran"


def test_exit_with_hundreds_of_open_documents_skips_the_teardown(tmp_path):
    """With 2,000 documents open the server took over 30 s to exit after shutdown and exit (400:
    11.7 s): the interpreter tore down every open document's lint and model. Now the process ends
    once its answers are written. An atexit hook shows whether that teardown ran: it runs in it."""
    from lspclient import StdioClient
    from make_corpus import DEFAULT_BUGGY, generate

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        f"import atexit, sys\natexit.register(lambda: print({TEARDOWN_MARK!r}, file=sys.stderr, flush=True))\n"
    )
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)}
    control = subprocess.run([sys.executable, "-c", "pass"], env={**os.environ, **env}, capture_output=True, text=True)
    assert TEARDOWN_MARK in control.stderr  # the hook runs in an interpreter that exits normally

    project = tmp_path / "project"
    paths = sorted(generate(project, 300, 0, DEFAULT_BUGGY))[:300]
    client = StdioClient(cwd=project, env=env)
    client.initialize(project)
    uris = [client.open(path, path.read_text(encoding="utf-8")) for path in paths]
    for uri in uris:
        client.wait_diagnostics(uri, timeout=300)
    assert len(client.diagnostics) == 300 and any(client.diagnostics.values())
    assert client.close() == 0
    assert TEARDOWN_MARK not in client.stderr_text()


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
