"""`check --watch`: a first report, another after each change (of a file, a new file, the
configuration), and a clean exit on Ctrl-C."""

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time

BAD = "import torch\nopt = torch.optim.SGD(p, lr=10)\n"
CLEAN = "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"


class Watched:
    """`trainlint check --watch` in the background, its output read line by line as it comes."""

    def __init__(self, cwd, *args):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PYTHONSAFEPATH", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trainlint", "check", "--watch", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()

    def _read(self, name, stream):
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))

    def wait_for(self, text, stream="out", timeout=30.0):
        """The lines up to the first one (on `stream`) containing `text`."""
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(item)
            got.append(item[1])
            if item[0] == stream and text in item[1]:
                return got
        raise AssertionError(f"no {text!r} on {stream} within {timeout} s; seen: {self.seen}")

    def count(self, text, stream="err"):
        return sum(1 for s, line in self.seen if s == stream and text in line)

    def wait_more(self, text, stream="err"):
        """Until one more line than seen so far on `stream` contains `text`."""
        self.wait_count(text, self.count(text, stream) + 1, stream)

    def wait_count(self, text, count, stream="err", timeout=30.0):
        """Until `count` lines on `stream` (seen so far, in all) contain `text`. The two streams are read
        by two threads, so a stderr line may be seen before the stdout lines printed before it."""
        deadline = time.monotonic() + timeout
        while sum(1 for s, line in self.seen if s == stream and text in line) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"not {count} x {text!r} on {stream} within {timeout} s; seen: {self.seen}")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_watch_lints_again_on_changes_and_stops_cleanly_on_ctrl_c(project):
    path = project.write("a.py", BAD)
    watched = Watched(project.root, "--output-format", "concise", "--no-cache", ".")
    try:
        first = watched.wait_for("Found 1 finding")
        assert "a.py:2:26: warning: TL101 SGD learning rate 10.0 is at or above 1.0" in " ".join(first)
        watching = "Watching for file changes"
        watched.wait_count(watching, 1)

        path.write_text(CLEAN)  # an edit
        watched.wait_for("All checks passed!")
        watched.wait_count("File change detected", 1)
        watched.wait_count(watching, 2)

        project.write("pkg/b.py", BAD)  # a new file (its folder may be noticed first, then the file)
        watched.wait_count("pkg/b.py:2:26: warning: TL101", 1, stream="out")
        watched.wait_count(watching, 3)  # at least: ready for the next change

        project.write("pyproject.toml", '[tool.trainlint]\nignore = ["TL101"]\n')  # the configuration
        watched.wait_more("All checks passed!", stream="out")
        watched.wait_count(watching, 4)

        project.write("pyproject.toml", "[tool.trainlint]\nselct = []\n")  # broken: reported, still watching
        watched.wait_count("unknown key tool.trainlint.selct (did you mean 'select'?)", 1)
        watched.wait_count(watching, 5)
        assert watched.proc.poll() is None

        watched.proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert watched.proc.wait(timeout=30) == 0
        time.sleep(0.2)
        rest = []
        while not watched.lines.empty():
            rest.append(watched.lines.get()[1])
        assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in rest + [s for _, s in watched.seen])
    finally:
        watched.stop()


def test_watch_refuses_stdin(project):
    run = project.run("check", "--watch", "-", stdin=b"x = 1\n")
    assert run.returncode == 2 and "--watch cannot watch standard input" in run.stderr


def test_check_without_watch_does_not_load_it(project):
    project.write("a.py", BAD)
    code = (
        "import sys; from trainlint.cli import main; main(['check', '--no-cache', '.']); print('trainlint.watch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "False"
