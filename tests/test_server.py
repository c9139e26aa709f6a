"""The language server end to end over stdio, driven by pytest-lsp's real LSP client."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from conftest import run_cli
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from trainlint.pages import get_page

BAD = textwrap.dedent("""\
    import argparse

    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=10)
    args = parser.parse_args()
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
""")
CLEAN = BAD.replace("default=10", "default=0.1")
STALE_NOQA = "import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "trainlint", "server"]))
async def lsp(lsp_client: LanguageClient):
    lsp_client.applied_edits = []

    lsp_client.registrations = []

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        lsp_client.applied_edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)

    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, root: Path, *, pull=False, encodings=None, options=None, watch=True):
    capabilities = client_capabilities("visual-studio-code")
    if pull:
        capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities(dynamic_registration=False)
        capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    else:
        capabilities.text_document.diagnostic = None
    if encodings:
        capabilities.general = types.GeneralClientCapabilities(position_encodings=encodings)
    if not watch:
        capabilities.workspace.did_change_watched_files = None
    result = await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, root_uri=root.as_uri(), initialization_options=options)
    )
    return result


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text))
    )
    return uri


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics_until(client: LanguageClient, uri: str, predicate, timeout: float = 30.0, fresh: bool = False):
    """Wait for published diagnostics of `uri` that satisfy `predicate` (a condition, not a sleep).

    `fresh`: only a notification published from now on counts.
    """

    async def wait():
        seen = client.diagnostics.get(uri)
        current = None if fresh else seen
        while current is None or not predicate(current):
            # The notification's own params: client.diagnostics may be updated after this wakes.
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri:
                current = list(params.diagnostics)
            elif client.diagnostics.get(uri) is not seen:
                # pytest-lsp keeps one waiter per method: a notification for `uri` that came just
                # before this one (another file's) woke nobody, but its handler stored it.
                current = list(client.diagnostics[uri])
            seen = client.diagnostics.get(uri)
        return list(current)

    return await asyncio.wait_for(wait(), timeout)


async def until(condition, timeout: float = 30.0) -> None:
    """Poll a condition on client state until it holds."""

    async def wait():
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions), as an editor does."""
    lines = text.splitlines(keepends=True) + [""]

    def offset(position: types.Position) -> int:
        before = sum(len(line) for line in lines[: position.line])
        line = lines[position.line]
        units = chars = 0
        while units < position.character and chars < len(line):
            units += 2 if ord(line[chars]) > 0xFFFF else 1
            chars += 1
        return before + chars

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def edits_of(action: types.CodeAction) -> list[types.TextEdit]:
    (change,) = action.edit.document_changes
    return list(change.edits)


# -- diagnostics ---------------------------------------------------------------------------------------


async def test_push_diagnostics_on_open_change_save_close(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: len(ds) == 1)
    assert d.code == "TL101" and d.source == "trainlint"
    assert d.severity == types.DiagnosticSeverity.Warning
    assert d.message.startswith("SGD learning rate 10.0 (default of --lr, line 6)")
    assert d.code_description.href == get_page("TL101").url
    assert d.range == types.Range(types.Position(8, 48), types.Position(8, 58))
    assert d.data["fix"] is None or d.data.get("fix")["safe"] is False

    change(lsp, uri, CLEAN, 2)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])

    change(lsp, uri, BAD, 3)
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])

    lsp.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_pull_diagnostics(lsp: LanguageClient, tmp_path):
    result = await start(lsp, tmp_path, pull=True)
    assert result.capabilities.diagnostic_provider is not None
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri)))
    assert codes(report.items) == ["TL101"] and report.result_id
    again = await lsp.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=report.result_id)
    )
    assert again.kind == "unchanged"
    change(lsp, uri, CLEAN, 2)
    fresh = await lsp.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=report.result_id)
    )
    assert fresh.kind == "full" and list(fresh.items) == []
    assert uri not in lsp.diagnostics, "a pulling client gets no pushed diagnostics"


async def test_half_typed_code_is_one_syntax_error(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    half = BAD.replace(
        "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)", "optimizer = torch.optim.SGD(model.parameters(), lr="
    )
    change(lsp, uri, half, 2)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL001"])
    assert d.range.start.line == 8 and d.severity == types.DiagnosticSeverity.Error
    change(lsp, uri, BAD, 3)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])


async def test_burst_of_50_edits_including_broken_code(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    lines = BAD.splitlines(keepends=True)
    version = 1
    for i in range(50):
        version += 1
        if i % 7 == 3:
            text = BAD[: len(BAD) * (i % 5 + 1) // 6]  # cut mid-statement: broken code
        elif i % 2:
            text = "".join(lines[: 1 + i % len(lines)])
        else:
            text = BAD.replace("default=10", f"default={i % 3}.5")
        change(lsp, uri, text, version)
    final = BAD.replace("default=10", "default=0.01") + "opt2 = torch.optim.SGD(model.parameters(), lr=0.1, momentum=1.5)\n"
    change(lsp, uri, final, version + 1)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL102"])
    hover = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(9, 20)))
    assert hover is not None, "the server is still up and answering"


async def test_non_ascii_ranges_utf16_and_utf8(lsp: LanguageClient, tmp_path):
    text = "import torch\nnote = '😀é'; opt = torch.optim.SGD(p, lr=10)\n"
    start_chars = text.splitlines()[1].index("lr=10")  # code points
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "u.py", text)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: len(ds) == 1)
    assert d.range.start == types.Position(1, start_chars + 1)  # the emoji is two UTF-16 units
    assert d.range.end.character - d.range.start.character == 5
    assert apply(text, [types.TextEdit(d.range, "lr=X")]) == text.replace("lr=10", "lr=X")


async def test_utf8_negotiated(lsp: LanguageClient, tmp_path):
    text = "import torch\nnote = '😀é'; opt = torch.optim.SGD(p, lr=10)\n"
    start_chars = text.splitlines()[1].index("lr=10")
    result = await start(lsp, tmp_path, encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16])
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    uri = open_doc(lsp, tmp_path / "u.py", text)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: len(ds) == 1)
    assert d.range.start == types.Position(1, start_chars + 3 + 1)  # 4 bytes for 😀, 2 for é


# -- code actions ------------------------------------------------------------------------------------


async def actions_for(lsp, uri, diagnostics, only=None):
    return await lsp.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )


async def test_quick_fixes_applied(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD + "x = 1  # noqa: TL102\n")
    diagnostics = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101", "TL003"])
    tl101, tl003 = diagnostics

    actions = await actions_for(lsp, uri, [tl101])
    fix = next(a for a in actions if a.title.startswith("Set the learning rate"))
    assert fix.kind == types.CodeActionKind.QuickFix and not fix.is_preferred
    # The squiggle is on `lr=args.lr` (line 9); the edit lands on the default of --lr (line 6).
    assert fix.title == "Set the learning rate to 0.1 (line 6) (unsafe: changes behaviour) (TL101)"
    assert apply(BAD, edits_of(fix)) == BAD.replace("default=10", "default=0.1")

    actions = await actions_for(lsp, uri, [tl003])
    fix = next(a for a in actions if a.title.startswith("Remove unused suppression"))
    assert fix.is_preferred
    text = BAD + "x = 1  # noqa: TL102\n"
    assert apply(text, edits_of(fix)) == BAD + "x = 1\n"
    assert all(len(edits_of(a)) <= 2 for a in actions)


async def test_quick_fix_title_names_no_line_for_an_edit_under_the_squiggle(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    source = "import torch\nopt = torch.optim.SGD(p, lr=10.0)\n"
    uri = open_doc(lsp, tmp_path / "train.py", source)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    titles = [a.title for a in await actions_for(lsp, uri, [d])]
    assert "Set the learning rate to 0.1 (unsafe: changes behaviour) (TL101)" in titles
    assert "Disable TL101 for this line" in titles


async def test_disable_for_this_line(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    multiline = BAD.replace(
        "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)",
        "optimizer = torch.optim.SGD(\n    model.parameters(),\n    lr=args.lr,  # tuned later\n)",
    )
    titles = {multiline: "Disable TL101 for this statement (line 12)"}  # the squiggle is on line 11
    cases = {
        BAD: BAD.replace("lr=args.lr)\n", "lr=args.lr)  # noqa: TL101\n"),
        BAD.replace("lr=args.lr)\n", "lr=args.lr)  # noqa: E501\n"): BAD.replace(
            "lr=args.lr)\n", "lr=args.lr)  # noqa: E501, TL101\n"
        ),
        BAD.replace("lr=args.lr)\n", "lr=args.lr)  # why\n"): BAD.replace("lr=args.lr)\n", "lr=args.lr)  # noqa: TL101  # why\n"),
        multiline: multiline.replace("\n)\n", "\n)  # noqa: TL101\n"),
    }
    for i, (source, expected) in enumerate(cases.items()):
        uri = open_doc(lsp, tmp_path / f"case{i}.py", source)
        (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
        actions = await actions_for(lsp, uri, [d])
        disable = next(a for a in actions if a.title == titles.get(source, "Disable TL101 for this line"))
        result = apply(source, edits_of(disable))
        assert result == expected
        change(lsp, uri, result, 2)
        await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_fix_all_source_action_and_command(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    source = STALE_NOQA + "y = 2  # noqa: TL102, TL101\n" + "z = 3\n" * 20 + "w = 4  # noqa: TL101\n"
    uri = open_doc(lsp, tmp_path / "train.py", source)
    diagnostics = await diagnostics_until(lsp, uri, lambda ds: len(ds) == 3)
    actions = await actions_for(lsp, uri, diagnostics, only=["source.fixAll.trainlint"])
    (fix_all,) = actions
    assert fix_all.kind == "source.fixAll.trainlint"
    edits = edits_of(fix_all)
    expected = "import torch\nopt = torch.optim.SGD(p, lr=0.1)\ny = 2\n" + "z = 3\n" * 20 + "w = 4\n"
    assert apply(source, edits) == expected
    # Minimal edits, not a whole-document replace: only the changed stretches.
    assert sum(len(e.new_text) + e.range.end.line - e.range.start.line for e in edits) <= 12

    await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="trainlint.server.fixAll", arguments=[{"uri": uri}])
    )
    (edit,) = lsp.applied_edits
    (document_change,) = edit.document_changes
    assert apply(source, list(document_change.edits)) == expected


# -- explain --------------------------------------------------------------------------------------

TRAINING = textwrap.dedent("""\
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(30):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        scheduler.step()
""")


async def explain(client: LanguageClient, uri: str) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="trainlint.explain", arguments=[{"uri": uri}])
    )


def cli_json(root: Path, name: str, text: str) -> dict:
    """What `trainlint explain --output-format json` prints for `text` saved as `name` in `root`."""
    (root / name).write_text(text, encoding="utf-8")
    run = run_cli("explain", name, "--output-format", "json", cwd=root)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


async def test_explain_command_reports_the_unsaved_buffer_as_the_cli_does(lsp: LanguageClient, tmp_path):
    result = await start(lsp, tmp_path)
    assert "trainlint.explain" in result.capabilities.execute_command_provider.commands
    uri = open_doc(lsp, tmp_path / "train.py", TRAINING)
    (tmp_path / "train.py").write_text("print('not what the editor holds')\n")  # the buffer is explained, not the disk
    answer = await explain(lsp, uri)
    assert (answer["uri"], answer["version"]) == (uri, 1)
    assert answer["report"] == cli_json(tmp_path, "train.py", TRAINING)  # the same keys and values
    verdicts = {s["key"]: s["verdict"] for s in answer["report"]["stages"]}
    assert verdicts["learning-rate"] == "ok"
    (curve,) = answer["report"]["stages"][0]["curves"]
    assert (curve["scheduler"], curve["cell"], curve["line"], curve["per"]) == ("StepLR", None, 6, "epoch")
    assert curve["learning_rates"][:11] == [0.1] * 10 + [0.05]
    assert answer["markdown"].startswith("# trainlint explain `train.py`")
    assert "## 1. Learning rate and optimizer steps: **ok**" in answer["markdown"]
    page = answer["html"]
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert len(re.findall("<polyline ", page)) == 1  # the StepLR curve, as SVG in the page

    # An edit, not saved: the next answer is about the new text, with its finding in its stage.
    edited = TRAINING.replace("lr=0.1", "lr=10.0")
    change(lsp, uri, edited, 2)
    answer = await explain(lsp, uri)
    assert answer["version"] == 2
    lr = answer["report"]["stages"][0]
    assert lr["verdict"] == "problem" and [(f["code"], f["line"]) for f in lr["findings"]] == [("TL101", 5)]
    assert "**TL101** (warning, line 5)" in answer["markdown"]
    assert answer["report"] == cli_json(tmp_path, "train.py", edited)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def train(:\n    pass\n", "Syntax error"),
        ("import os\nprint(os.getcwd())\n", "no torch optimizer is built in this file"),
        ("", "no torch optimizer is built in this file"),
    ],
)
async def test_explain_command_on_what_is_not_a_training_script(lsp: LanguageClient, tmp_path, source, expected):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "script.py", source)
    answer = await explain(lsp, uri)
    assert answer["report"] == cli_json(tmp_path, "script.py", source)
    learning_rate = answer["report"]["stages"][0]
    assert learning_rate["verdict"] == "unknown" and expected in (learning_rate["unknown"] or "")
    assert expected in answer["markdown"] and expected in answer["html"]


async def test_explain_command_arguments(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    (tmp_path / "closed.py").write_text(TRAINING)
    # A file that is not open: the one on disk, as the CLI reads it; a plain uri string works too.
    answer = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="trainlint.explain", arguments=[(tmp_path / "closed.py").as_uri()])
    )
    assert answer["version"] is None and answer["report"] == cli_json(tmp_path, "closed.py", TRAINING)
    missing = await explain(lsp, (tmp_path / "missing.py").as_uri())
    assert missing["report"]["error"].endswith("is neither an open document nor a file")
    # No document at all: an error response, and the server goes on.
    with pytest.raises(Exception, match="takes the document"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="trainlint.explain", arguments=[]))
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])


# -- hover and inlay hints -------------------------------------------------------------------------------


async def test_hover(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    source = BAD + "x = 1  # noqa: TL102\n"
    uri = open_doc(lsp, tmp_path / "train.py", source)
    await diagnostics_until(lsp, uri, lambda ds: len(ds) == 2)

    on_call = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(8, 25)))
    text = on_call.contents.value
    assert text.startswith("**SGD (torch.optim.SGD)**")
    assert "trains the parameters of `Linear`" in text
    assert "| `lr` | `10.0` | default of --lr, line 6 |" in text
    assert "TL101" not in text, "off the squiggle: the call's values only"

    on_lr = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(8, 52)))
    text = on_lr.contents.value
    # The diagnostic's rule: a short card, not the page (which would push "Quick Fix..." out of reach).
    page = get_page("TL101")
    assert text.startswith(f"**TL101 learning-rate-too-high**: {page.summary}\n\n")
    assert "The learning rate scales every update." in text, "the start of 'Why it hurts training'"
    assert text.endswith(f"[Full rule page]({page.url}) · `trainlint rule TL101`")
    assert "## Bad" not in text and "Default limits" not in text and "| `lr` |" not in text
    assert len(text) < 1200, len(text)

    on_code = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(9, 17)))
    text = on_code.contents.value
    assert text.startswith(get_page("TL102").text), "a code in a noqa comment: the whole page"
    assert "**TL003 unused-suppression**" in text, "and the card of the diagnostic there (the unused noqa)"

    nothing = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 2)))
    assert nothing is None


async def test_diagnostic_hover_stays_short(lsp: LanguageClient, tmp_path):
    """Hovers at the squiggles of a call with many arguments and three findings."""
    await start(lsp, tmp_path, options={"settings": {"select": ["ALL"]}})  # TL103 is off by default
    source = textwrap.dedent("""\
        import torch

        model = torch.nn.Linear(4, 2)
        opt = torch.optim.Adam(model.parameters(), lr=0.5, betas=(0.9, 1.5), eps=1e-8, weight_decay=1e-4, amsgrad=False)
    """)
    uri = open_doc(lsp, tmp_path / "train.py", source)
    diagnostics = await diagnostics_until(lsp, uri, lambda ds: sorted(codes(ds)) == ["TL101", "TL102", "TL103"])
    for d in diagnostics:
        hover = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), d.range.start))
        text = hover.contents.value
        assert text.startswith(f"**{d.code} ")
        assert len(text) < 1200, (d.code, len(text), text)


def test_every_rule_card_is_short():
    from trainlint.pages import load_pages
    from trainlint.server.server import rule_card

    for code, page in load_pages().items():
        card = rule_card(page)
        assert card.startswith(f"**{code} {page.name}**: {page.summary}") and page.url in card
        assert len(card) <= 800, (code, len(card))


async def test_inlay_hints_are_a_setting(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path, options={"settings": {"inlayHints": True}})
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: len(ds) == 1)
    hints = await lsp.text_document_inlay_hint_async(
        types.InlayHintParams(types.TextDocumentIdentifier(uri), types.Range(types.Position(0, 0), types.Position(20, 0)))
    )
    (hint,) = hints
    assert hint.label == "10.0" and hint.position == types.Position(8, 58)
    assert hint.tooltip == "default of --lr, line 6"
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": {"inlayHints": False}}))
    off = await lsp.text_document_inlay_hint_async(
        types.InlayHintParams(types.TextDocumentIdentifier(uri), types.Range(types.Position(0, 0), types.Position(20, 0)))
    )
    assert list(off) == []


# -- configuration ---------------------------------------------------------------------------------------


def watched(lsp: LanguageClient, path: Path) -> None:
    lsp.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)])
    )


async def test_config_reload_and_broken_config(lsp: LanguageClient, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.trainlint]\nextend-select = ['TL103']\nignore = []\n")
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD + "opt2 = torch.optim.Adam(model.parameters(), weight_decay=1e-4)\n")
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101", "TL103"])

    pyproject.write_text("[tool.trainlint]\nextend-select = ['TL103']\nignore = ['TL101']\n")
    watched(lsp, pyproject)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL103"])

    pyproject.write_text("[tool.trainlint]\nextend-select = ['TL103']\nignore = ['TL101']\nselct = ['TL1']\n")
    watched(lsp, pyproject)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL103"], fresh=True)  # the last good configuration
    await until(lambda: any("selct" in m.message for m in lsp.messages))
    (message,) = [m for m in lsp.messages if "selct" in m.message]
    assert (
        message.type == types.MessageType.Error
        and "pyproject.toml" in message.message
        and "did you mean 'select'" in message.message
    )

    pyproject.write_text("[tool.trainlint]\nignore = ['TL103']\n")
    watched(lsp, pyproject)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])


IMPORTS_LR = (
    "import torch\nfrom config import LR\nmodel = torch.nn.Linear(2, 2)\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n"
)


async def test_a_value_imported_from_another_file_follows_that_file(lsp: LanguageClient, tmp_path):
    """train.py imports its lr from config.py: saving config.py in the editor, or changing it on disk,
    re-lints train.py (its text did not change)."""
    config = tmp_path / "config.py"
    config.write_text("LR = 0.01\n")
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", IMPORTS_LR)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])

    config.write_text("LR = 5.0\n")  # an edit saved in the editor
    config_uri = open_doc(lsp, config, "LR = 5.0\n")
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(config_uri)))
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    assert d.message.startswith("SGD learning rate 5.0 (LR in config.py, line 1)")

    config.write_text("LR = 0.01\n")  # changed on disk: a file watcher's event
    watched(lsp, config)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_a_loop_helper_of_another_file_follows_that_file(lsp: LanguageClient, tmp_path):
    """train.py runs engine.py's train_one_epoch with its StepLR: moving the step into the batch loop
    of engine.py, on disk, brings TL203 to train.py (at its call); moving it back clears it."""
    per_epoch = (
        "def train_one_epoch(model, loader, optimizer, scheduler):\n"
        "    for x, y in loader:\n"
        "        optimizer.zero_grad()\n"
        "        torch.nn.functional.cross_entropy(model(x), y).backward()\n"
        "        optimizer.step()\n"
        "    scheduler.step()\n"
    )
    per_batch = per_epoch.replace("    scheduler.step()\n", "        scheduler.step()\n")
    engine = tmp_path / "engine.py"
    engine.write_text("import torch\n\n\n" + per_epoch)
    await start(lsp, tmp_path)
    source = (
        "import torch\nfrom engine import train_one_epoch\n\nmodel = torch.nn.Linear(2, 2)\n"
        "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 2), torch.zeros(8).long()), shuffle=True)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.01)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30)\n"
        "for epoch in range(90):\n    train_one_epoch(model, loader, opt, sched)\n"
    )
    uri = open_doc(lsp, tmp_path / "train.py", source)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
    engine.write_text("import torch\n\n\n" + per_batch)
    watched(lsp, engine)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL203"])
    assert d.range.start.line == 8 and d.message.endswith("(in train_one_epoch, line 9 of engine.py)"), d
    engine.write_text("import torch\n\n\n" + per_epoch)
    watched(lsp, engine)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_a_value_of_a_yaml_config_follows_that_file(lsp: LanguageClient, tmp_path):
    """train.py reads its lr from configs/train.yaml: a change on disk re-lints it."""
    config = tmp_path / "configs" / "train.yaml"
    config.parent.mkdir()
    config.write_text("optim:\n  lr: 0.01\n")
    await start(lsp, tmp_path)
    source = (
        "import torch, yaml\nmodel = torch.nn.Linear(2, 2)\ncfg = yaml.safe_load(open('configs/train.yaml'))\n"
        "opt = torch.optim.SGD(model.parameters(), lr=cfg['optim']['lr'])\n"
    )
    uri = open_doc(lsp, tmp_path / "train.py", source)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
    config.write_text("optim:\n  lr: 5.0\n")
    watched(lsp, config)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    assert d.message.startswith("SGD learning rate 5.0 (optim.lr in configs/train.yaml, line 2)")


async def test_config_edit_noticed_without_a_file_watcher(lsp: LanguageClient, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.trainlint]\nignore = []\n")
    await start(lsp, tmp_path, watch=False)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    pyproject.write_text("[tool.trainlint]\nignore = ['TL1']\n")
    change(lsp, uri, BAD + "\n", 2)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_editor_settings_and_preference(lsp: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.trainlint]\nselect = ['TL101']\n")
    await start(lsp, tmp_path, options={"settings": {"select": ["TL103"], "configurationPreference": "editorFirst"}})
    source = BAD + "opt2 = torch.optim.Adam(model.parameters(), weight_decay=1e-4)\n"
    uri = open_doc(lsp, tmp_path / "train.py", source)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL103"])
    settings = {"trainlint": {"select": ["TL103"], "configurationPreference": "filesystemFirst"}}
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    settings = {
        "trainlint": {
            "select": ["TL1"],
            "ignore": ["TL101"],
            "severity": {"TL103": "error"},
            "configurationPreference": "editorOnly",
        }
    }
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL103"])
    assert d.severity == types.DiagnosticSeverity.Error


async def test_bad_editor_setting_is_reported_not_fatal(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path, options={"settings": {"select": ["TL999"], "run": "sometimes"}})
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    await until(lambda: any("trainlint.select" in m.message for m in lsp.messages))
    await until(lambda: any("trainlint.run" in m.message for m in lsp.messages))


async def test_run_on_save(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path, options={"settings": {"run": "onSave"}})
    uri = open_doc(lsp, tmp_path / "train.py", CLEAN)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
    change(lsp, uri, BAD, 2)
    hover = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0)))
    assert hover is None and list(lsp.diagnostics[uri]) == [], "no lint while typing"
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])


SCHEDULED = """\
import torch
from torch import nn, optim

model = nn.Linear(10, 2)
optimizer = optim.SGD(model.parameters(), lr=0.1)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)

for epoch in range(90):
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()
"""


async def test_scheduler_rule_quick_fix_and_step_hover(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", SCHEDULED)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL203"])
    assert d.range.start == types.Position(12, 8)
    (fix, _disable) = await actions_for(lsp, uri, [d])
    assert fix.title.startswith("Step the scheduler once per epoch, after the batch loop") and not fix.is_preferred
    fixed = apply(SCHEDULED, edits_of(fix))
    assert fixed.endswith("        optimizer.step()\n    scheduler.step()\n")
    change(lsp, uri, fixed, 2)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])

    on_step = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(12, 8)))
    text = on_step.contents.value
    assert text.startswith("**StepLR.step() (scheduler)**")
    assert "steps `StepLR` (line 6), per epoch (the epoch loop on line 8)" in text
    assert "runs after `optimizer.step()` (line 12)" in text
    on_optimizer_step = await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(11, 12))
    )
    assert (
        "steps `SGD` (line 5), per batch (the batch loop on line 9, in the epoch loop on line 8)"
        in on_optimizer_step.contents.value
    )


UNCLEARED = """\
import torch
from torch import nn

model = nn.Linear(10, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in train_loader:
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
"""


async def test_loop_rule_quick_fix(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", UNCLEARED)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL601"])
    assert d.message.startswith("Gradients are never cleared") and d.range.start == types.Position(8, 4)
    (fix, _disable) = await actions_for(lsp, uri, [d])
    assert fix.title.startswith("Call optimizer.zero_grad() before the backward pass")
    fixed = apply(UNCLEARED, edits_of(fix))
    assert "    optimizer.zero_grad()\n    loss.backward()\n" in fixed
    change(lsp, uri, fixed, 2)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])


async def test_rule_settings_set_aside_by_a_configuration_file_are_named_once(lsp: LanguageClient, tmp_path):
    """filesystemFirst (the default, as in ruff): a configuration file replaces the editor's rule settings; say so."""
    project = tmp_path / "project"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text("[tool.trainlint]\nselect = ['TL1']\n")
    await start(lsp, tmp_path, options={"settings": {"ignore": ["TL103"], "severity": {"TL101": "error"}}})
    adam = "opt2 = torch.optim.Adam(model.parameters(), weight_decay=1e-4)\n"
    uri = open_doc(lsp, project / "train.py", BAD + adam)
    (tl101, _) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101", "TL103"])
    assert tl101.severity == types.DiagnosticSeverity.Warning, "the file's settings, not the editor's"
    await until(lambda: any("not used" in m.message for m in lsp.messages))
    (shown,) = [m for m in lsp.messages if "not used" in m.message]
    assert shown.type == types.MessageType.Warning
    assert shown.message.startswith(
        "trainlint: the editor settings trainlint.ignore and trainlint.severity are not used for the files "
        "project/pyproject.toml covers"
    )
    assert 'trainlint.configurationPreference is "filesystemFirst"' in shown.message and '"editorFirst"' in shown.message
    assert any(m.message == shown.message for m in lsp.log_messages), "and in the log"

    # Another file under the same configuration: nothing new. Files without one use the editor's settings.
    other = open_doc(lsp, project / "other.py", BAD)
    await diagnostics_until(lsp, other, lambda ds: codes(ds) == ["TL101"])
    loose = open_doc(lsp, tmp_path / "loose.py", BAD + adam)
    (d,) = await diagnostics_until(lsp, loose, lambda ds: codes(ds) == ["TL101"])
    assert d.severity == types.DiagnosticSeverity.Error

    # A second configuration file: named in the log, but the notification came once for the workspace.
    second = tmp_path / "second"
    second.mkdir()
    (second / "trainlint.toml").write_text("ignore = []\n")
    open_doc(lsp, second / "train.py", BAD)
    await until(lambda: any("files second/trainlint.toml covers" in m.message for m in lsp.log_messages))
    assert len([m for m in lsp.messages if "not used" in m.message]) == 1

    settings = {"trainlint": {"ignore": ["TL103"], "severity": {"TL101": "error"}, "configurationPreference": "editorFirst"}}
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"], fresh=True)
    assert d.severity == types.DiagnosticSeverity.Error, "editorFirst: the editor's settings on top of the file"


async def test_no_notice_without_editor_rule_settings(lsp: LanguageClient, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.trainlint]\nignore = ['TL103']\n")
    await start(lsp, tmp_path, options={"settings": {"run": "onType", "inlayHints": True}})
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0)))
    assert not [m for m in [*lsp.messages, *lsp.log_messages] if "not used" in m.message]


async def test_root_comes_from_initialize_not_the_working_directory(lsp: LanguageClient, tmp_path):
    """The VS Code extension runs the server in a neutral folder: the workspace is what `initialize` names."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text("[tool.trainlint]\nignore = ['TL101']\n")
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.diagnostic = None
    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=(tmp_path / "elsewhere").as_uri(),  # deprecated in favour of workspaceFolders
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
        )
    )
    # An untitled document has no folder of its own: it is linted as if in the root.
    uri = "untitled:Untitled-1"
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=BAD + "x = 1\n"))
    )
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
    change(lsp, uri, BAD.replace("default=10", "default=-1"), 2)  # TL102 is not ignored: the lint did run
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL102"])


# -- the log -------------------------------------------------------------------------------------------------


async def test_unchanged_settings_after_start_do_not_relint(lsp: LanguageClient, tmp_path):
    """VS Code repeats initializationOptions in a didChangeConfiguration right after start. Relinting
    then made the server ask for a diagnostic refresh, and VS Code cancelled its answered pulls."""
    options = {"settings": {"ignore": ["TL103"]}}
    await start(lsp, tmp_path, pull=True, options=options)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": options["settings"]}))
    report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri)))
    assert codes(report.items) == ["TL101"]
    assert lsp.diagnostic_refresh_count == 0
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": {"ignore": ["TL101"]}}))
    await until(lambda: lsp.diagnostic_refresh_count == 1)


async def test_cancel_of_an_answered_request_is_not_a_warning(lsp: LanguageClient, tmp_path, capfd):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", BAD)
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])
    params = types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(8, 52))
    await lsp.protocol.send_request_async(types.TEXT_DOCUMENT_HOVER, params, msg_id="hover-1")
    lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="hover-1"))  # as VS Code does, after the answer
    # A bad setting makes the server log a warning of its own: once it is on stderr, the cancel was handled.
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": {"run": "sometimes"}}))
    stderr = ""

    def logged() -> bool:
        nonlocal stderr
        stderr += capfd.readouterr().err
        return "trainlint.run" in stderr

    await until(logged)
    assert "WARNING" in stderr and "Cancel notification" not in stderr


def test_answered_cancel_filter_on_pygls_own_code(caplog):
    """pygls's own cancel handling, in process: a cancel for a request it does not track is a debug record."""
    import logging

    from pygls.lsp.server import LanguageServer

    from trainlint.server import AnsweredCancelFilter

    pygls_log = logging.getLogger("pygls.protocol.json_rpc")
    pygls_log.addFilter(filter_ := AnsweredCancelFilter())
    try:
        protocol = LanguageServer("probe", "0").protocol
        with caplog.at_level(logging.WARNING):
            protocol._handle_cancel_notification("42")
        assert caplog.records == []
        with caplog.at_level(logging.DEBUG):
            protocol._handle_cancel_notification("43")
        (record,) = [r for r in caplog.records if "Cancel notification" in r.getMessage()]
        assert record.levelno == logging.DEBUG and '"43"' in record.getMessage()
    finally:
        pygls_log.removeFilter(filter_)


UNNORMALIZED = """\
import torch
from torchvision import datasets, transforms

transform = transforms.Compose([transforms.ToTensor()])
train_set = datasets.MNIST("data", train=True, transform=transform)
"""


async def test_data_rule_quick_fix(lsp: LanguageClient, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", UNNORMALIZED)
    (d,) = await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL401"])
    assert d.message.startswith("The pipeline on line 4 feeds MNIST images (line 5) as tensors in [0, 1]")
    assert d.range.start == types.Position(3, 32)
    fix = next(a for a in await actions_for(lsp, uri, [d]) if a.title.startswith("Add transforms.Normalize"))
    assert "unsafe" in fix.title and not fix.is_preferred
    fixed = apply(UNNORMALIZED, edits_of(fix))
    assert "transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])" in fixed
    change(lsp, uri, fixed, 2)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
