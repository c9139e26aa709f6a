"""The language server. Imported only by `trainlint server`: `check` never loads pygls."""

from __future__ import annotations

import logging
import sys


def serve(log_level: str = "warning") -> int:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, log_level.upper()), format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    import gc

    import trainlint.engine  # noqa: F401  (imported now, not on the first keystroke)
    from trainlint.server.server import server

    gc.freeze()  # what start-up loaded lives as long as the server: keep it out of every collection
    server.start_io()
    return 0
