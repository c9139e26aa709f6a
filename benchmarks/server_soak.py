#!/usr/bin/env python3
"""Soak the language server through a real LSP client over stdio (tests/lspclient.py).

    .venv/bin/python benchmarks/server_soak.py [--edits 1000] [--seed 0] [--mode pull|push]
        [--files 2000] [--lines 20000] [--only NAME ...] [--json FILE]

Scenarios, each on a fresh `trainlint server` in a temporary workspace:

- soak: --edits random edits of one document (insertions, deletions, line replacements, pastes of
  whole files, undo bursts, characters typed mid-word that break the syntax, several changes in one
  notification), sent as ranged UTF-16 changes as an editor sends them, with hover, code action and
  pull-diagnostic requests interleaved and about a third of them cancelled at once. Every request
  must be answered (a result, or the error a cancelled request gets); at the end the server's
  diagnostics must equal a fresh `trainlint check` of the final text.
- malformed: frames that are not JSON, JSON that is not a message, requests with invalid params (must
  get InvalidParams).
- unknown_method: an unknown request (must get "method not found") and unknown notifications.
- lifecycle: a request after shutdown (must get InvalidRequest); exit after shutdown (status 0) and
  without it (status 1).
- out_of_range: didChange ranges past the end of the document and backwards; then a full text.
- closed_document: hover, code actions, pull diagnostics and inlay hints about a closed document.
- vanishing_client: the client closes its pipes with requests in flight: the server must exit.
- big_document: a document of --lines lines: opened, hovered, edited at both ends.
- workspace: --files files of a generated corpus opened at once: each file's diagnostics must equal
  `trainlint check` of the workspace.

Every scenario reports its time and the server's peak resident memory (VmHWM). The exit status is
1 if any scenario failed. Run it with the interpreter trainlint is installed in (the server is
started as `sys.executable -m trainlint server`).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lspclient import ServerDied, StdioClient, peak_rss_kib  # noqa: E402 - beside the tests, not a package

CANCELLED = (-32800, -32801)  # RequestCancelled, ContentModified: what a cancelled or outdated request may get


# -- text and positions ---------------------------------------------------------------------------


def seeds() -> list[str]:
    """The examples and every rule page's bad examples: training code with findings to edit."""
    from trainlint.pages import load_pages

    out = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").rglob("*.py"))]
    out += [block for page in load_pages().values() for block in page.examples.get("bad", [])]
    return [text.replace("\r\n", "\n").replace("\r", "\n") for text in out]


def position(text: str, offset: int) -> dict[str, int]:
    """The LSP position (UTF-16 columns) of a code-point offset; the texts end lines with \\n only."""
    start = text.rfind("\n", 0, offset) + 1
    return {"line": text.count("\n", 0, offset), "character": len(text[start:offset].encode("utf-16-le")) // 2}


def change(text: str, start: int, end: int, new: str) -> tuple[str, dict[str, Any]]:
    """The text after replacing [start, end) with `new`, and the ranged change event saying so."""
    event = {"range": {"start": position(text, start), "end": position(text, end)}, "text": new}
    return text[:start] + new + text[end:], event


def minimal_change(old: str, new: str) -> dict[str, Any]:
    """One ranged change turning `old` into `new` (an editor's undo of an edit)."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    return change(old, prefix, len(old) - suffix, new[prefix : len(new) - suffix])[1]


class Editor:
    """One open document, edited at random as a person types, pastes and undoes."""

    def __init__(self, client: StdioClient, uri: str, text: str, rng: random.Random, pool: list[str]) -> None:
        self.client, self.uri, self.text, self.rng, self.pool = client, uri, text, rng, pool
        self.version = 1
        self.history: list[str] = []
        self.kinds: dict[str, int] = {}

    def send(self, events: list[dict[str, Any]]) -> None:
        self.version += 1
        document = {"uri": self.uri, "version": self.version}
        self.client.notify("textDocument/didChange", {"textDocument": document, "contentChanges": events})

    def offset(self) -> int:
        return self.rng.randint(0, len(self.text))

    def one(self) -> tuple[str, list[dict[str, Any]]]:
        """A random edit applied to self.text: its kind and its change events."""
        rng, text = self.rng, self.text
        kind = rng.choices(
            ["insert", "delete", "replace_line", "mid_word", "paste_file", "multi", "full_text"], [25, 20, 15, 15, 5, 15, 5]
        )[0]
        events = []
        if kind == "insert":
            donor = rng.choice(self.pool).splitlines(keepends=True) or ["\n"]
            i = rng.randrange(len(donor))
            self.text, event = change(text, *[self.offset()] * 2, "".join(donor[i : i + rng.randint(1, 6)]))
            events.append(event)
        elif kind == "delete":
            start = self.offset()
            self.text, event = change(text, start, min(len(text), start + rng.randint(1, 200)), "")
            events.append(event)
        elif kind == "replace_line":
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            start = sum(len(line) + 1 for line in lines[:i])
            new = rng.choice(rng.choice(self.pool).split("\n"))
            self.text, event = change(text, start, start + len(lines[i]), new)
            events.append(event)
        elif kind == "mid_word":
            words = [i for i in range(1, len(text)) if text[i - 1].isalnum() and text[i].isalnum()]
            at = rng.choice(words) if words else self.offset()
            self.text, event = change(text, at, at, rng.choice(["(", "'", ":", "[", '"', "=", " ", "é", "\U0001f600"]))
            events.append(event)
        elif kind == "paste_file":
            self.text, event = change(text, 0, len(text), rng.choice(self.pool))
            events.append(event)
        elif kind == "multi":  # applied one after another, each against the text the one before left
            for _ in range(rng.randint(2, 4)):
                start = self.offset()
                self.text, event = change(
                    self.text, start, min(len(self.text), start + rng.randint(0, 30)), rng.choice(["x", "", "\n", "lr=1"])
                )
                events.append(event)
        else:  # a change without a range: the whole text
            self.text = rng.choice(self.pool)
            events.append({"text": self.text})
        return kind, events

    def edit(self) -> int:
        """One edit, or a burst of undos; how many didChange notifications were sent."""
        if self.history and self.rng.random() < 0.08:
            burst = min(len(self.history), self.rng.randint(2, 8))
            for _ in range(burst):
                previous = self.history.pop()
                self.send([minimal_change(self.text, previous)])
                self.text = previous
            self.kinds["undo"] = self.kinds.get("undo", 0) + burst
            return burst
        before = self.text
        kind, events = self.one()
        self.history = [*self.history[-50:], before]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.send(events)
        return 1


# -- requests -------------------------------------------------------------------------------------


class Requests:
    """Requests in flight; each must be answered with a result or, if cancelled, a cancellation."""

    def __init__(self, client: StdioClient) -> None:
        self.client = client
        self.waiting: dict[int, str] = {}
        self.sent: dict[str, int] = {}
        self.cancelled = 0
        self.problems: list[str] = []

    def send(self, method: str, params: Any, cancel: bool = False) -> int:
        id_ = self.client.request_id(method, params)
        self.waiting[id_] = method
        self.sent[method] = self.sent.get(method, 0) + 1
        if cancel:
            self.client.notify("$/cancelRequest", {"id": id_})
            self.cancelled += 1
        return id_

    def drain(self, timeout: float = 120) -> dict[int, dict[str, Any]]:
        answers = {}
        for id_, method in list(self.waiting.items()):
            response = self.client.wait_response(id_, timeout)
            del self.waiting[id_]
            answers[id_] = response
            error = response.get("error")
            if error is not None and error.get("code") not in CANCELLED:
                self.problems.append(f"{method} {id_}: {error}")
        return answers


def lsp_codes(diagnostics: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(code, trainlint span, message) of the server's diagnostics, in order."""
    return sorted((d["code"], *d["data"]["span"], d["message"]) for d in diagnostics)


def check_codes(text: str, name: str, cwd: Path) -> list[tuple[Any, ...]]:
    """The same for `trainlint check` of a text (JSON columns are 1-based; trainlint's spans 0-based)."""
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", "--stdin-filename", name, "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=cwd,
        encoding="utf-8",
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    return sorted(
        (d["code"], d["line"], d["column"] - 1, d["end_line"], d["end_column"] - 1, d["message"]) for d in json.loads(proc.stdout)
    )


def final_diagnostics(client: StdioClient, uri: str, version: int, pull: bool) -> list[dict[str, Any]]:
    if pull:
        return list(client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})["items"])
    # Pushed: wait until the last version's arrive (the server debounces typing).
    deadline = time.monotonic() + 120
    while True:
        with client.published:
            client.published.wait(0.2)
        if time.monotonic() > deadline:
            raise TimeoutError("no diagnostics for the final version")
        if client.proc.poll() is not None:
            raise ServerDied(client.stderr_text())
        if client.versions.get(uri) == version:
            return client.diagnostics[uri]


def started(workspace: Path, pull: bool = True) -> StdioClient:
    client = StdioClient(cwd=workspace)
    client.initialize(workspace, pull=pull)
    return client


def finished(client: StdioClient, report: dict[str, Any]) -> dict[str, Any]:
    """Peak memory, then a clean shutdown (its exit status must be 0) and how long it took."""
    report["peak_rss_mib"] = round(peak_rss_kib(client.proc.pid) / 1024, 1)
    begun = time.perf_counter()
    status = client.close()
    report["exit_seconds"] = round(time.perf_counter() - begun, 2)  # shutdown, exit, the process gone
    if status != 0:
        report.setdefault("problems", []).append(f"the server exited with status {status}: {client.stderr_text()[-2000:]}")
    report.setdefault("problems", [])
    return report


# -- the scenarios --------------------------------------------------------------------------------


def soak(workspace: Path, edits: int, seed: int, pull: bool) -> dict[str, Any]:
    rng = random.Random(seed)
    pool = seeds()
    client = started(workspace, pull)
    path = workspace / "train.py"
    text = rng.choice(pool)
    uri = client.open(path, text)
    editor = Editor(client, uri, text, rng, pool)
    requests = Requests(client)
    last: list[dict[str, Any]] = []  # the diagnostics last pulled: stale ones are sent with code actions, as editors do
    notifications = 0
    started_at = time.perf_counter()
    while notifications < edits:
        notifications += editor.edit()
        document = {"uri": uri}
        roll = rng.random()
        if roll < 0.3:
            at = position(editor.text, editor.offset())
            requests.send("textDocument/hover", {"textDocument": document, "position": at}, cancel=rng.random() < 0.3)
        elif roll < 0.5:
            a, b = sorted((editor.offset(), editor.offset()))
            context = {"diagnostics": last[:5]}
            params = {
                "textDocument": document,
                "range": {"start": position(editor.text, a), "end": position(editor.text, b)},
                "context": context,
            }
            requests.send("textDocument/codeAction", params, cancel=rng.random() < 0.3)
        elif roll < 0.8 and pull:
            id_ = requests.send("textDocument/diagnostic", {"textDocument": document}, cancel=rng.random() < 0.3)
            if rng.random() < 0.2:
                result = requests.drain().get(id_, {}).get("result")
                if result and result.get("kind") == "full":
                    last = result["items"]
        if len(requests.waiting) > 20:
            requests.drain()
        if not pull and rng.random() < 0.1:
            time.sleep(0.3)  # a pause longer than the server's debounce: it lints, and pushes, mid-soak
    requests.drain()
    final = final_diagnostics(client, uri, editor.version, pull)
    seconds = time.perf_counter() - started_at
    expected = check_codes(editor.text, str(path), workspace)
    report = {
        "scenario": "soak",
        "mode": "pull" if pull else "push",
        "edits": notifications,
        "edit_kinds": dict(sorted(editor.kinds.items())),
        "requests": dict(sorted(requests.sent.items())),
        "cancelled": requests.cancelled,
        "seconds": round(seconds, 1),
        "final_lines": editor.text.count("\n") + 1,
        "final_findings": len(expected),
        "final_diagnostics_match_check": lsp_codes(final) == expected,
        "problems": list(requests.problems),
    }
    if lsp_codes(final) != expected:
        report["problems"].append(f"final diagnostics {lsp_codes(final)} != check {expected}")
        (workspace / "final.py").write_text(editor.text, encoding="utf-8")
    return finished(client, report)


BAD = "import torch\nmodel = torch.nn.Linear(2, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=10.0)\n"


def _still_answers(client: StdioClient, uri: str, problems: list[str]) -> None:
    """The server still lints and answers: the one finding of BAD, pulled."""
    found = client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})["items"]
    if [d["code"] for d in found] != ["TL101"]:
        problems.append(f"diagnostics afterwards: {found}")


def malformed(workspace: Path) -> dict[str, Any]:
    client = started(workspace)
    uri = client.open(workspace / "train.py", BAD)
    problems: list[str] = []
    frames = [
        b"{not json",
        b"[1, 2",
        b'"a string"',
        b"\xff\xfe\x00 not utf-8",
        b'{"jsonrpc": "2.0", "id": 9001, "method": "textDocument/hover", "params": {"textDocument": {}}}',
        b'{"jsonrpc": "2.0", "id": 9002, "method": "textDocument/hover"}',
        b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": 5}}',
    ]
    for frame in frames:
        client.send_raw(frame)
    # Each request gets an answer, InvalidParams, though pygls (2.1) would drop it unanswered: the
    # server's protocol answers it (trainlint/server/protocol.py). A client would wait for it forever.
    answered = 0
    for id_ in (9001, 9002):
        try:
            error = client.wait_response(id_, 60).get("error", {})
        except TimeoutError:
            problems.append(f"request {id_} with invalid params was not answered")
            continue
        if error.get("code") != -32602:
            problems.append(f"request {id_} with invalid params got {error}, not InvalidParams (-32602)")
        answered += 1
    _still_answers(client, uri, problems)
    report = {
        "scenario": "malformed",
        "frames": len(frames),
        "invalid_params_answered": answered,
        "problems": problems,
    }
    return finished(client, report)


def unknown_method(workspace: Path) -> dict[str, Any]:
    client = started(workspace)
    uri = client.open(workspace / "train.py", BAD)
    problems: list[str] = []
    client.notify("trainlint/noSuchNotification", {"x": 1})
    client.notify("$/noSuchNotification", None)
    response = client.wait_response(client.request_id("trainlint/noSuchMethod", {"x": 1}), 60)
    if response.get("error", {}).get("code") != -32601:
        problems.append(f"an unknown request got {response}, not 'method not found' (-32601)")
    _still_answers(client, uri, problems)
    return finished(client, {"scenario": "unknown_method", "problems": problems})


def lifecycle(workspace: Path) -> dict[str, Any]:
    """LSP's end of a session: a request after `shutdown` gets InvalidRequest (pygls 2.1 dropped it
    unanswered), `exit` after `shutdown` ends the process with 0, `exit` without it with 1."""
    problems: list[str] = []
    client = started(workspace)
    uri = client.open(workspace / "train.py", BAD)
    client.request("shutdown")
    hover = {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 50}}
    try:
        error = client.wait_response(client.request_id("textDocument/hover", hover), 60).get("error", {})
        if error.get("code") != -32600:
            problems.append(f"a request after shutdown got {error}, not InvalidRequest (-32600)")
    except TimeoutError:
        problems.append("a request after shutdown was not answered")
    client.notify("exit")
    after_shutdown = client.proc.wait(timeout=60)
    client = started(workspace)
    client.open(workspace / "train.py", BAD)
    client.notify("exit")
    without_shutdown = client.proc.wait(timeout=60)
    if (after_shutdown, without_shutdown) != (0, 1):
        problems.append(f"exit status {after_shutdown} after shutdown (LSP: 0), {without_shutdown} without (LSP: 1)")
    return {"scenario": "lifecycle", "exit_status": [after_shutdown, without_shutdown], "problems": problems}


def out_of_range(workspace: Path) -> dict[str, Any]:
    client = started(workspace)
    uri = client.open(workspace / "train.py", BAD)
    problems: list[str] = []
    ranges = [
        ((10_000, 0), (10_000, 5)),  # past the last line
        ((1, 500), (1, 900)),  # past the end of a line
        ((2, 10), (0, 3)),  # backwards
        ((0, 0), (99_999, 99_999)),
    ]
    version = 1
    for (a, b), (c, d) in ranges:
        version += 1
        event = {"range": {"start": {"line": a, "character": b}, "end": {"line": c, "character": d}}, "text": "x = 1\n"}
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [event]})
        id_ = client.request_id("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": a, "character": b}})
        response = client.wait_response(id_, 60)
        if "error" in response:
            problems.append(f"hover after an out-of-range change: {response['error']}")
    client.notify(
        "textDocument/didChange", {"textDocument": {"uri": uri, "version": version + 1}, "contentChanges": [{"text": BAD}]}
    )
    _still_answers(client, uri, problems)
    return finished(client, {"scenario": "out_of_range", "changes": len(ranges), "problems": problems})


def closed_document(workspace: Path) -> dict[str, Any]:
    """Requests about a document just closed (an editor's are often on their way), or never opened."""
    client = started(workspace)
    problems: list[str] = []
    closed = client.open(workspace / "train.py", BAD)
    client.notify("textDocument/didClose", {"textDocument": {"uri": closed}})
    for uri in (closed, (workspace / "never_opened.py").as_uri()):
        document = {"uri": uri}
        for method, params in (
            ("textDocument/hover", {"textDocument": document, "position": {"line": 2, "character": 50}}),
            (
                "textDocument/codeAction",
                {
                    "textDocument": document,
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
                    "context": {"diagnostics": []},
                },
            ),
            ("textDocument/diagnostic", {"textDocument": document}),
            (
                "textDocument/inlayHint",
                {"textDocument": document, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}},
            ),
        ):
            response = client.wait_response(client.request_id(method, params), 60)
            if "error" in response:
                problems.append(f"{method} about {uri.rsplit('/', 1)[-1]}: {response['error']['message']}")
    return finished(client, {"scenario": "closed_document", "problems": problems})


def vanishing_client(workspace: Path) -> dict[str, Any]:
    client = started(workspace)
    uri = client.open(workspace / "train.py", BAD * 200)
    for _ in range(5):
        client.request_id(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 600, "character": 0}},
                "context": {"diagnostics": []},
            },
        )
        client.request_id("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    assert client.proc.stdin is not None and client.proc.stdout is not None
    gone = time.perf_counter()
    client.proc.stdin.close()  # the editor is gone: no shutdown, no exit
    client.proc.stdout.close()
    problems = []
    try:
        status = client.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        client.proc.kill()
        status = None
        problems.append("the server was still running 60 s after its client disappeared")
    return {
        "scenario": "vanishing_client",
        "exit_status": status,
        "exit_seconds": round(time.perf_counter() - gone, 2),
        "problems": problems,
    }


def big_text(lines: int) -> str:
    from make_corpus import generate

    with tempfile.TemporaryDirectory() as directory:
        generate(Path(directory), max(10, lines // 150), 0, 1.0)
        parts = []
        total = 0
        for path in sorted(Path(directory).rglob("*.py")):
            parts.append(path.read_text(encoding="utf-8"))
            total += parts[-1].count("\n")
            if total >= lines:
                break
    return "\n".join("".join(parts).split("\n")[:lines]) + "\n"


def big_document(workspace: Path, lines: int) -> dict[str, Any]:
    client = started(workspace)
    path = workspace / "big.py"
    text = big_text(lines)
    begun = time.perf_counter()
    uri = client.open(path, text)
    found = client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})["items"]
    opened = time.perf_counter() - begun
    problems: list[str] = []
    hover = client.wait_response(
        client.request_id("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(text, len(text) - 10)})
    )
    if "error" in hover:
        problems.append(f"hover: {hover['error']}")
    text, first = change(text, 0, 0, BAD)
    text, last = change(text, len(text), len(text), BAD)
    begun = time.perf_counter()
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [first, last]})
    found = client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})["items"]
    edited = time.perf_counter() - begun
    expected = check_codes(text, str(path), workspace)
    if lsp_codes(found) != expected:
        problems.append("diagnostics after the edits differ from check's")
    report = {
        "scenario": "big_document",
        "lines": text.count("\n"),
        "findings": len(expected),
        "open_to_diagnostics_seconds": round(opened, 2),
        "edit_to_diagnostics_seconds": round(edited, 2),
        "problems": problems,
    }
    return finished(client, report)


def workspace_files(workspace: Path, files: int) -> dict[str, Any]:
    from make_corpus import DEFAULT_BUGGY, generate

    project = workspace / "project"
    paths = sorted(generate(project, files, 0, DEFAULT_BUGGY))[:files]  # the modules and package markers: `files` in all
    for extra in sorted(project.rglob("*.py")):
        if extra not in paths:
            extra.unlink()
    client = started(project, pull=False)
    begun = time.perf_counter()
    uris = {client.open(path, path.read_text(encoding="utf-8")): path for path in paths}
    problems: list[str] = []
    deadline = time.monotonic() + 60 + files
    with client.published:
        while len(uris.keys() & client.diagnostics.keys()) < len(uris):
            if client.proc.poll() is not None:
                raise ServerDied(client.stderr_text())
            if time.monotonic() > deadline:
                problems.append(f"diagnostics for {len(uris.keys() & client.diagnostics.keys())} of {len(uris)} files")
                break
            client.published.wait(0.5)
    seconds = time.perf_counter() - begun
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", "."],
        capture_output=True,
        text=True,
        cwd=project,
    )
    expected: dict[str, list[tuple[Any, ...]]] = {}
    for d in json.loads(proc.stdout):
        key = str((project / d["path"]).resolve())
        expected.setdefault(key, []).append(
            (d["code"], d["line"], d["column"] - 1, d["end_line"], d["end_column"] - 1, d["message"])
        )
    differ = [
        str(path)
        for uri, path in uris.items()
        if lsp_codes(client.diagnostics.get(uri, [])) != sorted(expected.get(str(path.resolve()), []))
    ]
    if differ:
        problems.append(f"{len(differ)} files' diagnostics differ from check's, e.g. {differ[:3]}")
    report = {
        "scenario": "workspace",
        "files": len(paths),
        "lines": sum(path.read_text(encoding="utf-8").count("\n") for path in paths),
        "findings": sum(len(v) for v in expected.values()),
        "open_to_all_diagnostics_seconds": round(seconds, 1),
        "files_matching_check": len(paths) - len(differ),
        "problems": problems,
    }
    return finished(client, report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=1000, help="didChange notifications in the soak (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=["pull", "push"], default="pull", help="how the soak's client gets diagnostics")
    parser.add_argument("--files", type=int, default=2000, help="files in the workspace scenario (default 2000)")
    parser.add_argument("--lines", type=int, default=20000, help="lines of the big document (default 20000)")
    names = [
        "soak",
        "malformed",
        "unknown_method",
        "lifecycle",
        "out_of_range",
        "closed_document",
        "vanishing_client",
        "big_document",
        "workspace",
    ]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"run only these: {', '.join(names)}")
    parser.add_argument("--json", metavar="FILE", help="write the reports as JSON (- for standard output)")
    args = parser.parse_args(argv)
    scenarios: dict[str, Callable[[Path], dict[str, Any]]] = {
        "soak": lambda w: soak(w, args.edits, args.seed, args.mode == "pull"),
        "malformed": malformed,
        "unknown_method": unknown_method,
        "lifecycle": lifecycle,
        "out_of_range": out_of_range,
        "closed_document": closed_document,
        "vanishing_client": vanishing_client,
        "big_document": lambda w: big_document(w, args.lines),
        "workspace": lambda w: workspace_files(w, args.files),
    }
    reports = []
    for name, scenario in scenarios.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"trainlint-soak-{name}-") as directory:
            try:
                report = scenario(Path(directory).resolve())
            except (ServerDied, TimeoutError, RuntimeError) as exc:
                report = {"scenario": name, "problems": [f"{type(exc).__name__}: {str(exc)[-3000:]}"]}
        reports.append(report)
        if args.json != "-":
            print(json.dumps(report), flush=True)
    if args.json == "-":
        print(json.dumps(reports, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["problems"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
