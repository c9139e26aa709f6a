"""Text documents whose lines are LSP's lines.

The server syncs incrementally (the client sends ranged changes; VS Code sends notebook cell
edits that way whatever the server asks for). pygls applies a ranged change by splitting the text
with `str.splitlines`, which also ends a line at a form feed, \\v, \\x1c-\\x1e, \\x85, \\u2028 and
\\u2029; LSP (and VS Code) end lines at \\r\\n, \\r and \\n only, so an edit below such a character
would land on the wrong line and corrupt the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pygls.workspace import TextDocument, Workspace

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(_LINE.findall(self.source))


class LspWorkspace(Workspace):
    def _create_text_document(
        self, doc_uri: str, source: str | None = None, version: int | None = None, language_id: str | None = None
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )

    @classmethod
    def like(cls, workspace: Workspace, sync_kind: Any) -> LspWorkspace:
        """A new, empty workspace with the settings of the one pygls made at `initialize`."""
        return cls(workspace.root_uri, sync_kind, list(workspace.folders.values()), workspace.position_encoding)
