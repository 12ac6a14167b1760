"""``make bench``: how long every notebook and its slowest cell take.

Runs each notebook of chapters/, solutions/ and exercises/ in a fresh kernel
(as a learner's "Restart and run all" would) and prints a table. Exits 1 if a
notebook takes longer than 60 s or a cell longer than 10 s: the course's
budgets for a 2-core laptop.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import datetime

import nbformat
from nbclient import NotebookClient

from mlecourse.paths import CHAPTERS_DIR, EXERCISES_DIR, ROOT, SOLUTIONS_DIR

NOTEBOOK_BUDGET, CELL_BUDGET = 60.0, 10.0


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


@contextlib.contextmanager
def quiet_stderr():
    """Silence what kernels print to stderr (start-up notices): a cell's own
    error still fails the run, through nbclient."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def time_notebook(path) -> tuple[float, float, int]:
    """Wall time of a fresh run, the slowest cell's time, and its index."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    began = time.perf_counter()
    with quiet_stderr():
        client.execute()
    total = time.perf_counter() - began
    cells = [(_seconds(c), i) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    slowest, index = max(cells, default=(0.0, -1))
    return total, slowest, index + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.bench", description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebooks to time (default: all)")
    args = parser.parse_args(argv)
    paths = [ROOT / p for p in args.notebooks] or [
        p for d in (CHAPTERS_DIR, SOLUTIONS_DIR, EXERCISES_DIR) for p in sorted(d.glob("*.ipynb"))]
    print(f"{'notebook':<42} {'total s':>8} {'slowest cell s':>15} {'cell':>5}")
    over = 0
    for path in paths:
        total, slowest, index = time_notebook(path)
        flag = total > NOTEBOOK_BUDGET or slowest > CELL_BUDGET
        over += flag
        name = str(path.relative_to(ROOT))
        print(f"{name:<42} {total:>8.1f} {slowest:>15.2f} {index:>5}{'  OVER BUDGET' if flag else ''}")
    print(f"budgets: {NOTEBOOK_BUDGET:.0f} s a notebook, {CELL_BUDGET:.0f} s a cell; "
          f"{over} over budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
