"""Language-server latency: how long after the debounce a 1,000-line script's diagnostics arrive.

Starts `trainlint server` over stdio, opens a generated 1,000-line training
script, then edits it repeatedly (each edit changes a learning rate, so every
new version has a different finding) and measures, per edit:

- push: from sending `textDocument/didChange` to receiving the
  `textDocument/publishDiagnostics` of that version, minus the server's debounce;
- pull: the round trip of a `textDocument/diagnostic` request for the new text.

Reports p50 / p95 / max in milliseconds. The goal (p95 of push <= 150 ms after
the debounce) is printed as met or missed; the exit status is 0 unless
something failed to run. Usage:

    python benchmarks/lsp_latency.py [--edits 60] [--lines 1000] [--python .venv/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 150.0

# Proportions of real training code (pytorch/examples: 18% blank lines, 8% comments, docstrings).
BLOCK = '''
class Block{i}(nn.Module):
    """A pre-norm MLP block with a residual connection."""

    def __init__(self, width={width}, dropout=0.1):
        super().__init__()
        # Expand, then project back to the residual width.
        self.fc1 = nn.Linear(width, width * 4)
        self.fc2 = nn.Linear(width * 4, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        y = self.fc2(F.gelu(self.fc1(self.norm(x))))
        return x + self.drop(y)


def train_epoch_{i}(model, loader, optimizer, scheduler, device="cpu"):
    """One pass over the training data; returns the mean loss."""
    model.train()
    total = 0.0

    for step, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()

        # Forward, backward, clip, step.
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.item()

    scheduler.step()
    return total / max(1, len(loader))

'''

HEADER = '''"""A generated training script for the latency benchmark."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default={lr})
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()
'''

FOOTER = """
model = nn.Sequential(Block0(), Block1())
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
"""


def script(lines: int, lr: float) -> str:
    text = HEADER.format(lr=lr)
    i = 0
    while text.count("\n") + FOOTER.count("\n") < lines:
        text += BLOCK.format(i=i, width=64 + i)
        i += 1
    return text + FOOTER


class Client:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.published: dict[int, float] = {}  # version -> arrival time
        self.waiters: dict[int, asyncio.Future] = {}

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send({"id": self.next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    async def read_forever(self) -> None:
        reader = self.process.stdout
        while True:
            length = 0
            while True:
                line = await reader.readline()
                if not line:
                    return
                if not line.strip():
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await reader.readexactly(length))
            now = time.perf_counter()
            if "id" in message and message["id"] in self.pending and "method" not in message:
                self.pending.pop(message["id"]).set_result(message.get("result"))
            elif message.get("method") == "textDocument/publishDiagnostics":
                version = message["params"].get("version")
                self.published[version] = now
                waiter = self.waiters.pop(version, None)
                if waiter is not None:
                    waiter.set_result(now)
            elif "id" in message and "method" in message:  # a request from the server
                self.send({"id": message["id"], "result": None})

    def arrival(self, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if version in self.published:
            future.set_result(self.published[version])
        else:
            self.waiters[version] = future
        return future


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(python: str, edits: int, lines: int, pull: bool) -> list[float]:
    process = await asyncio.create_subprocess_exec(
        python, "-m", "trainlint", "server", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    client = Client(process)
    reader = asyncio.ensure_future(client.read_forever())
    workdir = Path(tempfile.mkdtemp(prefix="trainlint-lsp-bench-"))
    capabilities = {"textDocument": {"diagnostic": {}}} if pull else {}
    await client.request("initialize", {"processId": None, "rootUri": workdir.as_uri(), "capabilities": capabilities})
    client.notify("initialized", {})
    uri = (workdir / "train.py").as_uri()
    text = script(lines, 10.0)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    if pull:
        await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    else:
        await client.arrival(1)
    from trainlint.server.server import DEBOUNCE_SECONDS

    samples = []
    for version in range(2, edits + 2):
        text = script(lines, 10.0 + version)  # a new value, a new finding: nothing is cached
        sent = time.perf_counter()
        client.notify(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}
        )
        if pull:
            await client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
            samples.append((time.perf_counter() - sent) * 1000)
        else:
            arrived = await asyncio.wait_for(client.arrival(version), 30)
            samples.append((arrived - sent - DEBOUNCE_SECONDS) * 1000)
    await client.request("shutdown", {})
    client.notify("exit", {})
    await process.wait()
    reader.cancel()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    args = parser.parse_args()
    print(f"trainlint server, a {args.lines}-line script, {args.edits} edits each")
    for mode in ("push", "pull"):
        samples = asyncio.run(run(args.python, args.edits, args.lines, pull=mode == "pull"))
        p50, p95, worst = statistics.median(samples), percentile(samples, 0.95), max(samples)
        what = "after the debounce" if mode == "push" else "request round trip"
        line = f"{mode}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms ({what})"
        if mode == "push":
            line += f"; goal p95 <= {GOAL_MS:.0f} ms: {'met' if p95 <= GOAL_MS else 'MISSED'}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
