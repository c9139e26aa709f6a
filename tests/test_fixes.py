"""Fixes: applied through the real CLI on real files."""

import json
import os

from trainlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from trainlint.fixes import apply_edits, fix_text
from trainlint.settings import default_settings

BUGGY = """\
import torch
from torch.optim import Adam

LR = 10.0
model = torch.nn.Linear(4, 2)
sgd = torch.optim.SGD(model.parameters(), lr=LR)  # noqa: TL102
adam = Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
"""
FIXED_SAFE = BUGGY.replace("  # noqa: TL102", "")
FIXED_UNSAFE = """\
import torch
from torch.optim import AdamW

LR = 0.1
model = torch.nn.Linear(4, 2)
sgd = torch.optim.SGD(model.parameters(), lr=LR)
adam = AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
"""


def test_safe_fix_only_by_default(project):
    path = project.write("train.py", BUGGY)
    run = project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "train.py")
    assert path.read_text() == FIXED_SAFE
    assert run.returncode == 1  # TL101 and TL103 remain
    assert "1 fixed" in run.stdout


def test_unsafe_fixes_and_idempotence(project):
    path = project.write("train.py", BUGGY)
    first = project.run("check", "--extend-select", "TL103", "--fix", "--unsafe-fixes", "--no-cache", "train.py")
    assert path.read_text() == FIXED_UNSAFE, first.stdout + first.stderr
    assert first.returncode == 0 and "All checks passed" not in first.stdout and "3 fixed" in first.stdout
    before = os.stat(path).st_mtime_ns
    second = project.run("check", "--extend-select", "TL103", "--fix", "--unsafe-fixes", "--no-cache", "train.py")
    assert second.returncode == 0 and path.read_text() == FIXED_UNSAFE
    assert os.stat(path).st_mtime_ns == before, "a second --fix must not rewrite the file"


def test_fixed_code_reparses():
    import libcst

    outcome = fix_text(BUGGY, "x.py", default_settings(["ALL"]), unsafe=True)
    libcst.parse_module(outcome.text)
    assert outcome.error is None and len(outcome.applied) == 3


def test_diff_writes_nothing_and_exits_1(project):
    path = project.write("train.py", BUGGY)
    run = project.run("check", "--extend-select", "TL103", "--diff", "--no-cache", "train.py")
    assert run.returncode == 1
    assert "-sgd = torch.optim.SGD(model.parameters(), lr=LR)  # noqa: TL102" in run.stdout
    assert "+sgd = torch.optim.SGD(model.parameters(), lr=LR)" in run.stdout
    assert path.read_text() == BUGGY
    clean = project.write("clean.py", FIXED_SAFE)
    assert project.run("check", "--extend-select", "TL103", "--diff", "--no-cache", str(clean)).returncode == 0


def test_no_write_on_syntax_error(project):
    source = "import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\ndef broken(:\n"
    path = project.write("broken.py", source)
    before = os.stat(path).st_mtime_ns
    run = project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "broken.py")
    assert run.returncode == 1 and "TL001" in run.stdout
    assert path.read_bytes() == source.encode() and os.stat(path).st_mtime_ns == before


def test_crlf_and_bom_are_kept(project):
    source = BUGGY.replace("\n", "\r\n")
    path = project.root / "win.py"
    path.write_bytes(b"\xef\xbb\xbf" + source.encode())
    project.run("check", "--extend-select", "TL103", "--fix", "--unsafe-fixes", "--no-cache", "win.py")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode() == FIXED_UNSAFE.replace("\n", "\r\n")


def test_declared_encoding_is_kept(project):
    source = "# -*- coding: latin-1 -*-\nimport torch\n# café\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n"
    path = project.root / "latin.py"
    path.write_bytes(source.encode("latin-1"))
    project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "latin.py")
    assert path.read_bytes() == source.replace("  # noqa: TL101", "").encode("latin-1")


def test_write_is_atomic_and_keeps_permissions(project, monkeypatch):
    path = project.write("train.py", BUGGY)
    os.chmod(path, 0o640)
    inode = os.stat(path).st_ino
    project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "train.py")
    assert path.read_text() == FIXED_SAFE
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(path).st_ino != inode, "written through a temporary file and renamed"
    assert [p.name for p in project.root.iterdir() if p.name.endswith(".tmp")] == []


def test_fix_through_a_symlink_updates_the_target(project):
    target = project.write("real.py", BUGGY)
    link = project.root / "link.py"
    link.symlink_to(target)
    project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "link.py")
    assert link.is_symlink() and target.read_text() == FIXED_SAFE


def test_failed_write_leaves_the_file_and_exits_2(project):
    import subprocess

    path = project.write("sub/train.py", BUGGY)
    # Tests run as root, so permissions cannot stop a write: an immutable directory can.
    subprocess.run(["chattr", "+i", str(path.parent)], check=True)
    try:
        run = project.run("check", "--extend-select", "TL103", "--fix", "--no-cache", "sub/train.py")
    finally:
        subprocess.run(["chattr", "-i", str(path.parent)], check=True)
    assert run.returncode == 2 and path.read_text() == BUGGY
    assert "cannot write sub/train.py" in run.stderr
    assert [p.name for p in path.parent.iterdir()] == ["train.py"]


def _diagnostic(edits, applicability=Applicability.SAFE):
    return Diagnostic(
        "TL003", "unused-suppression", "m", Severity.WARNING, Span(1, 0, 1, 1), Fix(applicability, "f", tuple(edits))
    )


def test_overlapping_fixes_are_applied_one_per_round():
    text = "abcdef\n"
    first = _diagnostic([Edit(Span(1, 0, 1, 3), "X")])
    overlapping = _diagnostic([Edit(Span(1, 2, 1, 4), "Y")])
    disjoint = _diagnostic([Edit(Span(1, 5, 1, 6), "Z")])
    new, applied = apply_edits(text, [first, overlapping, disjoint], unsafe=False)
    assert new == "XdeZ\n" and applied == [first, disjoint]


def test_unsafe_fix_needs_the_flag():
    unsafe = _diagnostic([Edit(Span(1, 0, 1, 1), "X")], Applicability.UNSAFE)
    assert apply_edits("ab\n", [unsafe], unsafe=False) == ("ab\n", [])
    assert apply_edits("ab\n", [unsafe], unsafe=True)[0] == "Xb\n"


def test_adamw_fix_keeps_an_import_still_in_use():
    source = "from torch.optim import Adam\na = Adam(p, weight_decay=1e-4)\nb = Adam(q)\n"
    outcome = fix_text(source, "x.py", default_settings(["ALL"]), unsafe=True)
    assert outcome.text == "from torch.optim import Adam, AdamW\na = AdamW(p, weight_decay=1e-4)\nb = Adam(q)\n"
    attribute = fix_text(
        "import torch.optim as optim\na = optim.Adam(p, weight_decay=1e-4)\n", "x.py", default_settings(["ALL"]), unsafe=True
    )
    assert attribute.text == "import torch.optim as optim\na = optim.AdamW(p, weight_decay=1e-4)\n"


def test_no_fix_where_libcst_drops_a_form_feed(project):
    """libcst drops a form feed that starts a line, so positions after it are one column off: the fix
    `\\fLR = 10` -> `\\fLR =0.10` parsed and was written. No fix is offered in such a file."""
    source = "import torch\n\x0cLR = 10\nopt = torch.optim.SGD(p, lr=LR)\n"
    path = project.root / "ff.py"
    path.write_bytes(source.encode())
    run = project.run("check", "--no-cache", "--fix", "--unsafe-fixes", "--output-format", "json", "ff.py")
    (d,) = json.loads(run.stdout)
    assert d["code"] == "TL101" and d["fix"] is None
    assert path.read_bytes() == source.encode()
    clean = "import torch\nLR = 10\nopt = torch.optim.SGD(p, lr=LR)\n"
    outcome = fix_text(clean, "x.py", default_settings(["ALL"]), unsafe=True)
    assert outcome.text == clean.replace("10", "0.1"), "without a form feed the fix applies"
