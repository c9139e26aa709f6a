#!/usr/bin/env python3
"""Turn a directory of Python files into Jupyter notebooks holding the same code, for the
notebook-against-.py benchmark.

    python benchmarks/make_notebooks.py SRC_DIR OUT_DIR [--seed 0]

Each file becomes a notebook at the same relative path (`.ipynb` for `.py`), as a course or
research notebook is laid out: a cell per top-level statement (imports, and runs of simple
statements, stay together; the comments and blank lines above a statement go with it; a cell has
no final line break, as Jupyter saves it), a markdown cell before some of them, and outputs: a
few lines of text after one code cell in three, and a plotted figure (a PNG of about 16 kB,
base64-encoded) after one in ten. Written as Jupyter writes (nbformat 4.5, indent 1, sorted
keys). Deterministic for a seed; standard library only.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import random
import sys
import zlib
from pathlib import Path


def _png(rng: random.Random, size: int = 96) -> str:
    """A noisy greyscale PNG (noise does not compress: about 16 kB of base64, like a small plot)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = size.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(size)) for _ in range(size))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def split_cells(source: str) -> list[str]:
    """The code of a file cut into cells at top-level statements."""
    lines = source.splitlines(keepends=True)
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return [source]
    starts: list[int] = []
    previous: ast.stmt | None = None
    for node in body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        together = previous is not None and (
            (isinstance(node, (ast.Import, ast.ImportFrom)) and isinstance(previous, (ast.Import, ast.ImportFrom)))
            or (isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) and isinstance(previous, (ast.Assign, ast.AnnAssign)))
        )
        if not together:
            while first > 0 and (lines[first - 1].strip() == "" or lines[first - 1].lstrip().startswith("#")):
                first -= 1  # the comments and blank lines above it go with it
            starts.append(first)
        previous = node
    if not starts:
        return [source]
    starts[0] = 0
    cells = ["".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]
    return [cell.strip("\n") for cell in cells if cell.strip()]


def notebook(source: str, rng: random.Random) -> str:
    cells = []
    for i, code in enumerate(split_cells(source)):
        if rng.random() < 0.3:
            cells.append(
                {"cell_type": "markdown", "metadata": {}, "source": [f"## Step {i + 1}\n", "\n", "What this cell does, and why."]}
            )
        outputs: list[dict] = []
        if rng.random() < 1 / 3:
            outputs.append(
                {"name": "stdout", "output_type": "stream", "text": [f"epoch {e}: loss {2.3 - e * 0.21:.3f}\n" for e in range(5)]}
            )
        if rng.random() < 0.1:
            outputs.append(
                {
                    "data": {"image/png": _png(rng), "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                    "metadata": {},
                    "output_type": "display_data",
                }
            )
        cells.append(
            {
                "cell_type": "code",
                "execution_count": i + 1,
                "metadata": {},
                "outputs": outputs,
                "source": code.splitlines(keepends=True),
            }
        )
    for n, cell in enumerate(cells):
        cell["id"] = f"{n:08x}"
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def convert(src: Path, out: Path, seed: int = 0) -> list[Path]:
    written = []
    for path in sorted(src.rglob("*.py")):
        relative = path.relative_to(src).with_suffix(".ipynb")
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notebook(path.read_text(encoding="utf-8"), random.Random(f"{seed}:{relative}")), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    written = convert(args.src, args.out, args.seed)
    print(f"wrote {len(written)} notebooks to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
