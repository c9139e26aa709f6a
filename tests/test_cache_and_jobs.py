"""The result cache and parallel jobs: same answers, less work."""

import json
import subprocess
import sys

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
        subprocess.run([sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", "--jobs", jobs, "."], cwd=tmp_path, capture_output=True, text=True)
        for jobs in ("1", "2")
    ]
    assert runs[0].returncode == runs[1].returncode == 1
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)
    assert len(json.loads(runs[0].stdout)) == 16 + 1


def test_jobs_2_on_the_examples_matches():
    outs = [
        subprocess.run([sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", "--jobs", jobs, str(ROOT / "examples")], capture_output=True, text=True).stdout
        for jobs in ("1", "2")
    ]
    assert outs[0] == outs[1]
