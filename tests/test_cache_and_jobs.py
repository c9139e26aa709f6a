"""The result cache and parallel jobs: same answers, less work."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

BAD = "import torch\nopt = torch.optim.SGD(p, lr=10)\n"


def report(run):
    return sorted((d["path"], d["line"], d["code"], d["message"]) for d in json.loads(run.stdout))


def test_cache_directory_layout(project):
    project.write("a.py", BAD)
    run = project.run("check", "a.py")
    assert run.returncode == 1
    cache = project.root / ".trainlint_cache"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(list(cache.glob("*/*.json"))) == 1


def test_warm_run_gives_the_same_answer_without_importing_libcst(project):
    project.write("a.py", BAD)
    project.write("b.py", "import torch\nx = 1  # noqa: TL101\n")
    cold = project.run("check", "--output-format", "json", ".")
    code = (
        "import sys; from trainlint.cli import main; rc = main(['check', '--output-format', 'json', '.']);"
        "sys.stderr.write('LIBCST=%s PYGLS=%s' % ('libcst' in sys.modules, 'pygls' in sys.modules)); sys.exit(rc)"
    )
    warm = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True)
    assert warm.returncode == 1
    assert report(cold) == report(type(cold)(warm.returncode, warm.stdout, warm.stderr))
    assert "LIBCST=False PYGLS=False" in warm.stderr


def test_check_never_imports_the_server_stack(project):
    project.write("a.py", BAD)
    code = "import sys; from trainlint.cli import main; main(['check', '--no-cache', '.']); print('pygls' in sys.modules, 'lsprotocol' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "False False"


def test_check_skips_the_costly_imports_it_can(project):
    """A .gitignore to match and a pyproject.toml of another tool: the files are matched (the ignored
    one is not linted) and the project's table is not trainlint's, without typing_extensions (which
    pathspec can do without) or the TOML parser ever loaded."""
    project.write("a.py", BAD)
    project.write("ignored.py", BAD)
    project.write(".gitignore", "ignored.py\n")
    (project.root / ".git").mkdir()
    project.write("pyproject.toml", "[tool.black]\nline-length = 100\n")
    code = (
        "import sys; from trainlint.cli import main\n"
        "try:\n    main(['check', '--no-cache', '--output-format', 'concise', '.'])\n"
        "except SystemExit: pass\n"
        "print('typing_extensions' in sys.modules, 'tomllib' in sys.modules, 'pathspec' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "False False True", out.stdout
    assert "a.py" in out.stdout and "ignored.py" not in out.stdout


def test_cache_invalidated_by_content_and_settings(project):
    path = project.write("a.py", BAD)
    assert project.run("check", "a.py").returncode == 1
    path.write_text(BAD.replace("lr=10", "lr=0.1"))
    assert project.run("check", "a.py").returncode == 0
    path.write_text(BAD)
    assert project.run("check", "a.py").returncode == 1
    assert project.run("check", "--ignore", "TL101", "a.py").returncode == 0
    project.write("pyproject.toml", "[tool.trainlint.rules.TL101]\nlimits = { SGD = 20.0 }\n")
    assert project.run("check", "a.py").returncode == 0


@pytest.mark.parametrize(
    "entry",
    ["[1, 2]", '{"diagnostics": 3}', '{"diagnostics": [{"code": "TL101"}]}', '{"other": []}', "not json", ""],
)
def test_cache_entry_of_another_shape_is_a_miss_and_is_rewritten(project, entry):
    """A valid JSON entry of the wrong shape ended every run with an internal error (found by mypy)."""
    project.write("a.py", BAD)
    cold = project.run("check", "--output-format", "json", "a.py")
    (path,) = (project.root / ".trainlint_cache").glob("*/*.json")
    path.write_text(entry)
    again = project.run("check", "--output-format", "json", "a.py")
    assert again.returncode == 1 and again.stderr == ""
    assert report(again) == report(cold)
    assert json.loads(path.read_text())["diagnostics"][0]["code"] == "TL101"  # healed


def test_no_cache_writes_nothing(project):
    project.write("a.py", BAD)
    project.run("check", "--no-cache", "a.py")
    assert not (project.root / ".trainlint_cache").exists()


def test_fix_with_a_warm_cache(project):
    path = project.write("a.py", "import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n")
    assert project.run("check", "a.py").returncode == 1
    assert project.run("check", "--fix", "a.py").returncode == 0
    assert path.read_text() == "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"
    assert project.run("check", "a.py").returncode == 0


def test_jobs_2_matches_jobs_1(tmp_path):
    # Enough files to take the parallel path.
    for i in range(24):
        (tmp_path / f"m{i}.py").write_text(BAD.replace("10", str(i + 1)) if i % 3 else "import torch\nx = 1\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    runs = [
        subprocess.run(
            [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", "--jobs", jobs, "."],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        for jobs in ("1", "2")
    ]
    assert runs[0].returncode == runs[1].returncode == 1
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)
    assert len(json.loads(runs[0].stdout)) == 16 + 1


def test_jobs_2_on_the_examples_matches():
    outs = [
        subprocess.run(
            [
                sys.executable,
                "-m",
                "trainlint",
                "check",
                "--no-cache",
                "--output-format",
                "json",
                "--jobs",
                jobs,
                str(ROOT / "examples"),
            ],
            capture_output=True,
            text=True,
        ).stdout
        for jobs in ("1", "2")
    ]
    assert outs[0] == outs[1]


# Lints a folder with --jobs 2 while a worker aborts on killer.py; prints each file's codes and internal errors.
KILLER = """
import json, os, sys
from pathlib import Path
from trainlint import runner
from trainlint.config import Resolver
from trainlint.files import discover

real = runner.run_job

def run_job(job, options):
    if job.display.endswith("killer.py"):
        os.abort()  # what a segfault in libcst's native parser does to the process
    return real(job, options)

runner.run_job = run_job  # inherited by the forked workers
resolver = Resolver(cwd=Path(sys.argv[1]))
results = runner.run(list(discover([sys.argv[1]], resolver)), resolver, runner.Options(jobs=2))
print(json.dumps({r.display.rsplit("/", 1)[-1]: ([d.code for d in r.diagnostics], r.internal_errors) for r in results}))
"""


def test_a_worker_that_dies_does_not_hang_the_run(tmp_path):
    """A crash in native code (say, a parser segfault) kills a worker: the run still ends, the
    other files keep their results and the culprit is reported as TL002 (exit code 2). It runs in a
    child process, so the dying worker's "Fatal Python error" report is captured, not printed."""
    for i in range(20):
        (tmp_path / f"m{i:02}.py").write_text(BAD)
    (tmp_path / "killer.py").write_text(BAD)
    # -X faulthandler: the worker reports its death, as under pytest or PYTHONFAULTHANDLER.
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", KILLER, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    by_name = json.loads(proc.stdout)
    assert len(by_name) == 21
    assert by_name["killer.py"] == [["TL002"], 1]
    assert all(result == [["TL101"], 0] for name, result in by_name.items() if name != "killer.py")
    assert "Fatal Python error: Aborted" in proc.stderr


def test_cached_diagnostics_keep_their_related_places(project):
    """The cache keeps what the `full` format and SARIF cite; the JSON output's keys stay as documented."""
    from trainlint.diagnostics import Diagnostic

    project.write("a.py", "import torch\nLR = 10.0\nopt = torch.optim.SGD(p, lr=LR)\n")
    cold = project.run("check", "--output-format", "sarif", "a.py")
    warm = project.run("check", "--output-format", "sarif", "a.py")
    assert json.loads(cold.stdout)["runs"][0]["results"] == json.loads(warm.stdout)["runs"][0]["results"]
    assert json.loads(warm.stdout)["runs"][0]["results"][0]["relatedLocations"][0]["message"]["text"] == "LR"
    (entry,) = (project.root / ".trainlint_cache").glob("*/*.json")
    (cached,) = json.loads(entry.read_text())["diagnostics"]
    assert cached["related"] == [{"line": 2, "column": 1, "end_line": 2, "end_column": 3, "label": "LR"}]
    diagnostic = Diagnostic.from_json(cached)
    assert diagnostic.related[0][1] == "LR" and "related" not in diagnostic.to_json()
    assert Diagnostic.from_json(diagnostic.to_json(related=True)).related == diagnostic.related
