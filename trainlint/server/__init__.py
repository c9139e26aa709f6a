"""The language server. Imported only by `trainlint server`: `check` never loads pygls."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import NoReturn

# pygls 2 (protocol/json_rpc.py, _handle_cancel_notification) warns about a `$/cancelRequest` whose
# request it does not track. It tracks only requests still running, and trainlint's handlers answer
# synchronously, so a cancel can only name a request already answered: VS Code sends one for every
# pull-diagnostic request in flight when it refreshes diagnostics or the document changes, and our
# answer crossed it on the wire. Nothing is left to cancel, so the warning says nothing useful.
_UNKNOWN_CANCEL = 'Cancel notification for unknown message id "%s"'


class AnsweredCancelFilter(logging.Filter):
    """Demotes pygls's warning about a cancel for an answered request to a debug record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != _UNKNOWN_CANCEL:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def serve(log_level: str = "warning") -> NoReturn:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper()), format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    logging.getLogger("pygls.protocol.json_rpc").addFilter(AnsweredCancelFilter())
    import gc

    import trainlint.engine  # noqa: F401  (imported now, not on the first keystroke)
    from trainlint.server.server import server

    gc.freeze()  # what start-up loaded lives as long as the server: keep it out of every collection
    server.start_io()
    # The input ended (`exit`, or the client went away), and every answer is written: pygls flushes
    # each frame. Ending the process here skips the interpreter's teardown of every open document's
    # lint and model, work for nothing that took 11.7 s with 400 documents open and over 30 s with
    # 2,000. (pygls swallows the SystemExit of its `exit` handler, so the status is decided here.)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed by pygls at `exit`, or by a client that went away
            stream.flush()
    logging.shutdown()
    # LSP: 0 after `shutdown`, 1 when the client exits (or disappears) without one.
    os._exit(0 if server.protocol.shut_down else 1)
