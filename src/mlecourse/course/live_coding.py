"""Live-coding scripts: one per chapter, in ``instructors/live/NN_slug.yml``.

Each step says what to say or ask first, what to type, what the room should
see, where it goes wrong, and how many minutes it takes. The instructor notes
render them (``{live-coding}`` directive) and the tests run every step's code
in order, in a fresh Python, offline, so what an instructor types on the day
runs as written::

    python -m mlecourse.course.live_coding 05_deployment   # run one script, step by step
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import yaml

from mlecourse.paths import ROOT

LIVE_DIR = ROOT / "instructors" / "live"
FIELDS = ("title", "minutes", "say", "type", "see", "wrong")
MARK = "=== live-coding step "


@dataclass(frozen=True)
class Step:
    title: str
    minutes: int
    say: str
    type: str
    see: str
    wrong: str


def load(stem: str) -> list[Step]:
    """The steps of one chapter's script, checked for every field."""
    path = LIVE_DIR / f"{stem}.yml"
    data = yaml.safe_load(path.read_text())
    if data.get("chapter") != stem:
        raise ValueError(f"{path.name}: 'chapter' must be {stem!r}")
    steps = []
    for number, raw in enumerate(data.get("steps") or [], 1):
        missing = [f for f in FIELDS if not raw.get(f)]
        if missing or set(raw) - set(FIELDS):
            raise ValueError(f"{path.name}, step {number}: needs exactly {', '.join(FIELDS)}"
                             + (f" (missing {', '.join(missing)})" if missing else ""))
        if not isinstance(raw["minutes"], int) or raw["minutes"] <= 0:
            raise ValueError(f"{path.name}, step {number}: minutes is a whole number above 0")
        steps.append(Step(**{f: raw[f] for f in FIELDS}))
    if not steps:
        raise ValueError(f"{path.name} has no steps")
    return steps


def scripts() -> list[str]:
    return sorted(p.stem for p in LIVE_DIR.glob("[0-9][0-9]_*.yml"))


RUNNER = """
import ast
namespace = {'__name__': '__main__'}
def cell(source, name):
    # Run a step as a notebook cell runs: its last expression, if any, is shown.
    tree = ast.parse(source, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, 'exec'), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, 'eval'), namespace)
        if value is not None:
            print(value)
"""


def program(steps: list[Step]) -> str:
    """One Python program running the steps in order, in one namespace, as a notebook would."""
    lines = [RUNNER]
    for number, step in enumerate(steps, 1):
        lines += [f"print({MARK + str(number)!r}, flush=True)", f"cell({step.type!r}, 'step {number}')"]
    return "\n".join(lines) + "\n"


def run(stem: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a chapter's script in a fresh Python, in an empty folder, plots drawn off screen."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory(prefix=f"live-{stem}-") as folder:
        return subprocess.run([sys.executable, "-c", program(load(stem))], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=timeout)


def failed_step(result: subprocess.CompletedProcess) -> int | None:
    """The step that was running when the program failed (None if it did not)."""
    if result.returncode == 0:
        return None
    started = [line for line in result.stdout.splitlines() if line.startswith(MARK)]
    return int(started[-1].removeprefix(MARK)) if started else 0


def main(argv: list[str] | None = None) -> int:
    stems = (argv if argv is not None else sys.argv[1:]) or scripts()
    for stem in stems:
        result = run(stem)
        step = failed_step(result)
        print(f"{stem}: {'ok' if step is None else f'step {step} failed'}")
        if step is not None:
            print(result.stderr[-2000:], file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
