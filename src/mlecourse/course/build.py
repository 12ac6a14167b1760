"""``make book``: build the site with warnings as errors.

A failing cell, a broken cross-reference or an unknown citation is a warning,
and a warning fails the build. ``--no-solutions`` builds a workshop copy of
the site without worked solutions, into ``_build/nosolutions``.

The notebooks are executed first, two at a time, by
:mod:`mlecourse.course.execute` (which prints each as it goes, and names the
notebook and cell of a failure or a timeout); those already executed with
the current code, data and libraries (by ``make test``, say) are reused from
the cache. Jupyter Book then finds every notebook in its cache and only renders.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from mlecourse.paths import ROOT


def command(no_solutions: bool = False, output: Path | None = None, root: Path = ROOT) -> list[str]:
    jb = Path(sys.executable).with_name("jupyter-book")
    # A non-interactive matplotlib backend (MPLBACKEND=Agg, common on CI
    # machines) would make every plot vanish from the pages and the cache.
    cmd = ["env", "-u", "MPLBACKEND", str(jb), "build", str(root), "--warningiserror", "--nitpick", "--keep-going",
           "--builder", "html"]
    if no_solutions:
        config = yaml.safe_load((root / "_config.yml").read_text())
        config["sphinx"]["config"]["mlecourse_hide_solutions"] = True
        variant = root / "_build" / "_config.nosolutions.yml"
        variant.parent.mkdir(exist_ok=True)
        variant.write_text(yaml.safe_dump(config, sort_keys=False))
        cmd += ["--config", str(variant)]
        output = output or root / "_build" / "nosolutions"
    if output:
        cmd += ["--path-output", str(output)]
    return cmd


def execute_notebooks(workers: int = 2) -> list[str]:
    """Execute the book's notebooks the cache lacks; the failures, one paragraph each."""
    from mlecourse.course import execute

    return [run.error for run in execute.execute_missing(execute.book_notebooks(), workers) if run.error]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.build", description=__doc__)
    parser.add_argument("--no-solutions", action="store_true", help="hide worked solutions")
    args = parser.parse_args(argv)
    failures = execute_notebooks()
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if failures:
        print(f"error: {len(failures)} notebook(s) failed; the site was not built. Fix them "
              "(`make bench <notebook>` runs one) and build again.", file=sys.stderr)
        return 1
    code = subprocess.call(command(args.no_solutions), cwd=ROOT)
    if code == 0 and args.no_solutions:
        from . import workshop_build
        return workshop_build.main(ROOT / "_build" / "nosolutions" / "_build" / "html")
    return code


if __name__ == "__main__":
    sys.exit(main())
