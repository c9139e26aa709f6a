"""Discovery and bad input: .gitignore, excludes, and files that cannot be linted normally."""

import json
import os
import subprocess
import sys

import pytest

BAD = "import torch\nopt = torch.optim.SGD(p, lr=10)\n"


def paths(project, *args):
    run = project.run("check", "--no-cache", "--output-format", "json", *args)
    assert run.returncode in (0, 1), run.stderr
    return sorted({d["path"] for d in json.loads(run.stdout)})


def test_recursive_discovery_and_default_excludes(project):
    for name in (
        "a.py",
        "pkg/b.py",
        "pkg/sub/c.py",
        ".venv/lib/d.py",
        "build/e.py",
        "node_modules/f.py",
        "pkg/__pycache__/g.py",
        "notes.txt",
        "h.pyi",
    ):
        project.write(name, BAD)
    assert paths(project, ".") == ["a.py", "pkg/b.py", "pkg/sub/c.py"]
    assert paths(project) == ["a.py", "pkg/b.py", "pkg/sub/c.py"], "the default path is ."


def test_gitignore_is_respected(project):
    subprocess.run(["git", "init", "-q", str(project.root)], check=True)
    project.write(".gitignore", "generated/\n*_tmp.py\n!keep_tmp.py\n")
    project.write("pkg/.gitignore", "local.py\n")
    for name in ("train.py", "generated/x.py", "a_tmp.py", "keep_tmp.py", "pkg/local.py", "pkg/model.py"):
        project.write(name, BAD)
    assert paths(project, ".") == ["keep_tmp.py", "pkg/model.py", "train.py"]
    assert paths(project, "--no-respect-gitignore", ".") == [
        "a_tmp.py",
        "generated/x.py",
        "keep_tmp.py",
        "pkg/local.py",
        "pkg/model.py",
        "train.py",
    ]
    # Linting a subdirectory still honours the repository's .gitignore above it.
    project.write("pkg/gen_tmp.py", BAD)
    assert paths(project, "pkg") == ["pkg/model.py"]


def test_exclude_flags(project):
    for name in ("a.py", "tests/test_a.py", "scripts/old/run.py"):
        project.write(name, BAD)
    assert paths(project, "--extend-exclude", "tests", ".") == ["a.py", "scripts/old/run.py"]
    assert paths(project, "--extend-exclude", "scripts/old", ".") == ["a.py", "tests/test_a.py"]
    assert paths(project, "--exclude", "a.py", ".") == ["scripts/old/run.py", "tests/test_a.py"]


def test_explicit_files_are_linted_unless_force_exclude(project):
    project.write("build/gen.py", BAD)
    assert paths(project, "build/gen.py") == ["build/gen.py"]
    assert paths(project, "--force-exclude", "build/gen.py") == []
    project.write("pyproject.toml", "[tool.trainlint]\nextend-exclude = ['legacy']\nforce-exclude = true\n")
    project.write("legacy/old.py", BAD)
    assert paths(project, "legacy/old.py") == []


def test_syntax_error_is_tl001_with_position(project):
    project.write("broken.py", "import torch\n\ndef f(x:\n    return x\n")
    project.write("good.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    data = json.loads(run.stdout)
    broken = [d for d in data if d["path"] == "broken.py"]
    assert [d["code"] for d in broken] == ["TL001"] and broken[0]["line"] == 3
    assert "Syntax error" in broken[0]["message"]
    assert any(d["path"] == "good.py" and d["code"] == "TL101" for d in data), "the run goes on"


def test_syntax_error_in_a_file_without_torch(project):
    project.write("util.py", "def f(:\n    pass\n")
    run = project.run("check", "--no-cache", "--output-format", "json", "util.py")
    assert [d["code"] for d in json.loads(run.stdout)] == ["TL001"]


def test_undecodable_bytes(project):
    (project.root / "latin.py").write_bytes(b"import torch\nname = '\xe9t\xe9'\n")
    project.write("good.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    data = {d["path"]: d for d in json.loads(run.stdout)}
    assert data["latin.py"]["code"] == "TL001" and data["latin.py"]["line"] == 2
    assert "byte 0xe9" in data["latin.py"]["message"] and "UTF-8" in data["latin.py"]["message"]
    assert data["good.py"]["code"] == "TL101"


@pytest.mark.parametrize(
    "where,text,position",
    [
        ("a comment", "import torch\nx = 1  # a \0 in a comment\n", (2, 12)),
        ("a string", "import torch\ns = 'a\0b'\nopt = torch.optim.SGD(p, lr=10)\n", (2, 7)),
        ("the code", "x = 1\n\0\n", (2, 1)),
    ],
)
def test_a_nul_byte_anywhere_is_a_syntax_error(project, where, text, position):
    """CPython refuses a file with a NUL byte wherever it is (libcst would parse it)."""
    (project.root / "nul.py").write_bytes(text.encode())
    refused = subprocess.run([sys.executable, str(project.root / "nul.py")], capture_output=True, text=True)
    assert refused.returncode == 1 and "null bytes" in refused.stderr
    run = project.run("check", "--no-cache", "--output-format", "json", "nul.py")
    (d,) = json.loads(run.stdout)
    assert (
        run.returncode == 1 and d["code"] == "TL001" and (d["line"], d["column"], d["end_column"]) == (*position, position[1] + 1)
    )
    assert "null bytes" in d["message"]


def test_a_binary_file_is_tl001_at_its_first_undecodable_byte(project):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"  # not UTF-8 from its first byte
    (project.root / "image.py").write_bytes(png)
    # Valid UTF-8 up to a bad byte on line 3, after two-byte characters: the column counts characters.
    (project.root / "later.py").write_bytes("x = 1\ny = 2\nname = 'éé' \x00".encode() + b"\xff\xfe rest\n")
    (project.root / "bom.py").write_bytes(b"\xef\xbb\xbfx = '\xc3\xa9'\ny = \xff\n")
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    data = {d["path"]: d for d in json.loads(run.stdout)}
    assert run.returncode == 1 and {d["code"] for d in data.values()} == {"TL001"}
    assert (data["image.py"]["line"], data["image.py"]["column"]) == (1, 1)
    assert "byte 0x89 at line 1, column 1 is invalid" in data["image.py"]["message"]
    assert (data["later.py"]["line"], data["later.py"]["column"]) == (3, 14)
    assert "byte 0xff at line 3, column 14" in data["later.py"]["message"]
    assert (data["bom.py"]["line"], data["bom.py"]["column"]) == (2, 5)  # the byte order mark is no column


def test_empty_file(project):
    project.write("empty.py", "")
    run = project.run("check", "--no-cache", "empty.py")
    assert run.returncode == 0 and "All checks passed!" in run.stdout


def test_50000_line_file(project):
    body = "".join(f"x{i} = {i} * 2\n" for i in range(49_996))
    project.write("huge.py", "import torch\n" + body + "LR = 10\nopt = torch.optim.SGD(p, lr=LR)\n")
    assert (project.root / "huge.py").read_text().count("\n") == 49_999
    run = project.run("check", "--no-cache", "--output-format", "json", "huge.py", timeout=300)
    (d,) = json.loads(run.stdout)
    assert d["code"] == "TL101" and d["line"] == 49_999 and "(LR, line 49998)" in d["message"]


def test_broken_symlink(project):
    (project.root / "dangling.py").symlink_to(project.root / "missing.py")
    project.write("good.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    data = {d["path"]: d for d in json.loads(run.stdout)}
    assert data["dangling.py"]["code"] == "TL004" and "broken symbolic link" in data["dangling.py"]["message"]
    assert data["good.py"]["code"] == "TL101"
    explicit = project.run("check", "--no-cache", "dangling.py")
    assert explicit.returncode == 1 and "TL004" in explicit.stdout


def test_fifo_is_never_opened(project):
    os.mkfifo(project.root / "pipe.py")
    project.write("good.py", BAD)
    for args in ((".",), ("pipe.py",)):
        run = project.run("check", "--no-cache", "--output-format", "json", *args, timeout=60)
        data = {d["path"]: d for d in json.loads(run.stdout)}
        assert data["pipe.py"]["code"] == "TL004" and "not a regular file" in data["pipe.py"]["message"]


def test_directory_named_like_a_python_file(project):
    project.write("models.py/inner.py", BAD)
    assert paths(project, ".") == ["models.py/inner.py"]
    assert paths(project, "models.py") == ["models.py/inner.py"]


def test_missing_path(project):
    run = project.run("check", "--no-cache", "nope.py")
    assert run.returncode == 1 and "TL004" in run.stdout and "no such file or directory" in run.stdout


def test_unreadable_permissions_as_root(project):
    path = project.write("secret.py", BAD)
    os.chmod(path, 0)
    try:
        run = project.run("check", "--no-cache", "secret.py")
    finally:
        os.chmod(path, 0o644)
    # Tests run as root, so a chmod 000 file is still readable: it is linted normally.
    assert run.returncode == 1 and "TL101" in run.stdout


def test_symlinked_directories_are_not_followed(project):
    project.write("real/a.py", BAD)
    (project.root / "loop").symlink_to(project.root)
    assert paths(project, ".") == ["real/a.py"]


def test_deeply_nested_code(project):
    """Valid but deeply nested code is linted (with a deeper stack); code too deep for CPython
    itself is TL001, never a crash, a hang or a TL002."""
    finding = "\nopt = torch.optim.SGD(p, lr=10)\n"
    project.write("sum_500.py", "import torch\nx = " + "+".join(["1"] * 500) + finding)
    project.write("chain_300.py", "import torch\nx = a" + ".m()" * 300 + finding)
    project.write(
        "elif_2000.py",
        "import torch\nif a == 0:\n    pass\n" + "".join(f"elif a == {i}:\n    pass\n" for i in range(1, 2000)) + finding,
    )
    project.write("sum_8000.py", "import torch\nx = " + "+".join(["1"] * 8000) + finding)
    project.write("nested_250.py", "import torch\nx = " + "[" * 250 + "]" * 250 + finding)
    run = project.run("check", "--no-cache", "--output-format", "json", ".", timeout=300)
    found = sorted((d["path"], d["code"]) for d in json.loads(run.stdout))
    assert found == [
        ("chain_300.py", "TL101"),
        ("elif_2000.py", "TL101"),
        ("nested_250.py", "TL001"),
        ("sum_500.py", "TL101"),
        ("sum_8000.py", "TL001"),
    ]
    assert run.returncode == 1
