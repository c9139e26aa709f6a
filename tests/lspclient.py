"""A raw LSP client over stdio: JSON-RPC frames written by hand, so tests can also send what a
well-behaved client library never would (malformed JSON, unknown methods, cancellations at any
moment) and start the server in any working directory."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO


class ServerDied(Exception):
    pass


class StdioClient:
    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trainlint", "server"],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.next_id = 0
        self.responses: dict[int, dict[str, Any]] = {}
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}  # the last published per uri
        self.versions: dict[str, int | None] = {}  # the document version they were published for
        self.published = threading.Condition()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    # -- writing ---------------------------------------------------------------------------

    def send_raw(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def request_id(self, method: str, params: Any = None) -> int:
        """Send a request without waiting; its response lands in self.responses."""
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait_response(self, id_: int, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.published:
            while id_ not in self.responses:
                if self.proc.poll() is not None:
                    raise ServerDied(self.stderr_text())
                if not self.published.wait(min(0.5, max(0.0, deadline - time.monotonic()))) and time.monotonic() > deadline:
                    raise TimeoutError(f"no response to request {id_}")
            return self.responses.pop(id_)

    def request(self, method: str, params: Any = None, timeout: float = 60) -> Any:
        response = self.wait_response(self.request_id(method, params), timeout)
        if "error" in response:
            raise RuntimeError(response["error"])
        return response.get("result")

    # -- the session -----------------------------------------------------------------------

    def initialize(self, root: Path, pull: bool = False) -> dict[str, Any]:
        text: dict[str, Any] = {"publishDiagnostics": {}, "hover": {"contentFormat": ["markdown"]}}
        if pull:
            text["diagnostic"] = {}
        capabilities = {"textDocument": text, "general": {"positionEncodings": ["utf-16"]}}
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": capabilities})
        self.notify("initialized", {})
        return dict(result)

    def open(self, path: Path, text: str, language: str = "python", version: int = 1) -> str:
        uri = path.as_uri()
        item = {"uri": uri, "languageId": language, "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        return uri

    def wait_diagnostics(self, uri: str, predicate: Any = lambda ds: True, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.published:
            while uri not in self.diagnostics or not predicate(self.diagnostics[uri]):
                if self.proc.poll() is not None:
                    raise ServerDied(self.stderr_text())
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no diagnostics for {uri} matching the condition: {self.diagnostics.get(uri)}")
                self.published.wait(0.5)
            return self.diagnostics[uri]

    def close(self, timeout: float = 30) -> int:
        """shutdown and exit, as an editor ends a session; the server's exit status."""
        if self.proc.poll() is None:
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
            except (OSError, ServerDied):
                pass
        try:
            status = self.proc.wait(timeout=timeout)
            self._stderr_reader.join(timeout)  # all of its stderr, for stderr_text()
            return status
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def stderr_text(self) -> str:
        return b"".join(self.stderr).decode("utf-8", "replace")

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while (message := _read_frame(self.proc.stdout)) is not None:
            if "id" in message and "method" in message:  # a request from the server
                self.send({"id": message["id"], "result": _answer(message)})
                continue
            with self.published:
                if "id" in message:
                    self.responses[message["id"]] = message
                elif message.get("method") == "textDocument/publishDiagnostics":
                    self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
                    self.versions[message["params"]["uri"]] = message["params"].get("version")
                else:
                    self.notifications.put(message)
                self.published.notify_all()
        with self.published:
            self.published.notify_all()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)


def _read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    length = None
    while True:
        try:
            line = stream.readline()
        except (OSError, ValueError):  # the test closed the pipe, as a client that disappears does
            return None
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    assert length is not None, "a frame without Content-Length"
    try:
        body = stream.read(length)
    except (OSError, ValueError):  # closed mid-frame
        return None
    return dict(json.loads(body))


def _answer(request: dict[str, Any]) -> Any:
    """What a minimal editor answers the server's own requests."""
    if request["method"] == "workspace/configuration":
        return [None for _ in request["params"]["items"]]
    if request["method"] == "workspace/applyEdit":
        return {"applied": True}
    return None


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise LookupError("no VmHWM")
