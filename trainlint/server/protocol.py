"""pygls's LSP protocol, answering every request it would leave unanswered.

pygls (2.1) structures each message in json.loads's object hook (`structure_message`). A request
whose params do not fit the method's schema raises JsonRpcInvalidParams there, before any handler
runs: the read loop logs it and moves on, and the client waits for an answer forever. After
`shutdown` pygls drops every request but `exit` the same way. JSON-RPC wants an error response for
both: -32602 InvalidParams (or -32603 when structuring failed otherwise), and -32600 InvalidRequest
after shutdown (the LSP specification's `shutdown`).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest

log = logging.getLogger("trainlint.server")


class TrainlintProtocol(LanguageServerProtocol):
    @property
    def shut_down(self) -> bool:
        """Whether the client has sent `shutdown`."""
        return self._shutdown

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            msg_id = data.get("id") if "method" in data else None
            # A response or a notification has no one to answer; a request's id must be one.
            if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
                self._send_response(msg_id, None, error.to_response_error())
            raise  # pygls's read loop logs it and reads the next message

    def handle_message(self, message: Any) -> None:
        if self._shutdown and isinstance(message, RPCRequest) and message.method != types.EXIT:
            log.warning("a %s request after shutdown: answered InvalidRequest", message.method)
            error = JsonRpcInvalidRequest(message="the server is shutting down").to_response_error()
            self._send_response(message.id, None, error)
            return
        super().handle_message(message)
