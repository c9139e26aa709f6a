"""The language server. Imported only by `trainlint server`: `check` never loads pygls."""

from __future__ import annotations

import logging
import sys

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


def serve(log_level: str = "warning") -> int:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper()), format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    logging.getLogger("pygls.protocol.json_rpc").addFilter(AnsweredCancelFilter())
    import gc

    import trainlint.engine  # noqa: F401  (imported now, not on the first keystroke)
    from trainlint.server.server import server

    gc.freeze()  # what start-up loaded lives as long as the server: keep it out of every collection
    server.start_io()
    return 0
