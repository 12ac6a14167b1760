"""Every number the chapters glue, compared between two builds.

A change to how notebooks are executed or cached must not change one glued
number. The site build leaves, next to each executed notebook in
``_build/jupyter_execute``, a ``<name>.glue.json`` with every glued value;
this compares two such folders (an old build and a new one)::

    python -m mlecourse.course.glue_check /path/to/old/_build/jupyter_execute _build/jupyter_execute

and exits 1 if a value differs or is missing. Values that are measured live
(a latency, a throughput) differ between any two runs of the same code: name
them with ``--measured NAME`` (repeatable), or give a second old build with
``--noise FOLDER``: what differs between the two old builds is measured live.
Those are listed, not failed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def glued_values(folder: Path) -> dict[str, str]:
    """{'chapters/02_meet_the_data.ipynb:n_rows': '61089', ...} from a build's folder."""
    values = {}
    for file in sorted(Path(folder).rglob("*.glue.json")):
        notebook = file.relative_to(folder).as_posix().removesuffix(".glue.json") + ".ipynb"
        for name, output in json.loads(file.read_text()).items():
            data = output.get("data", {})
            values[f"{notebook}:{name}"] = data.get("text/plain", json.dumps(data, sort_keys=True))
    return values


def compare(old: dict[str, str], new: dict[str, str], measured: set[str] = frozenset()):
    """(identical, differing, missing, added) keys; differing excludes measured names."""
    same = sorted(k for k in old if k in new and old[k] == new[k])
    changed = sorted(k for k in old if k in new and old[k] != new[k])
    is_measured = lambda key: key.rsplit(":", 1)[1] in measured
    return (same, [k for k in changed if not is_measured(k)], sorted(set(old) - set(new)),
            sorted(set(new) - set(old)), [k for k in changed if is_measured(k)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.course.glue_check", description=__doc__)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--measured", action="append", default=[], help="a glue name measured live")
    parser.add_argument("--noise", type=Path, help="another old build: what differs from OLD is measured live")
    args = parser.parse_args(argv)
    for folder in (args.old, args.new, *([args.noise] if args.noise else [])):
        if not any(folder.rglob("*.glue.json")):
            print(f"error: no *.glue.json under {folder}: give a build's _build/jupyter_execute folder",
                  file=sys.stderr)
            return 2
    old, new = glued_values(args.old), glued_values(args.new)
    if args.noise:
        _, noisy, _, _, _ = compare(old, glued_values(args.noise))
        args.measured += [key.rsplit(":", 1)[1] for key in noisy]
    same, changed, missing, added, measured = compare(old, new, set(args.measured))
    for key in changed:
        print(f"DIFFERS {key}: {old[key]!s:.60} -> {new[key]!s:.60}")
    for key in measured:
        print(f"measured {key}: {old[key]!s:.60} -> {new[key]!s:.60}")
    for key in missing:
        print(f"MISSING {key} (was {old[key]!s:.60})")
    print(f"{len(same)} of {len(old)} glued values identical; {len(changed)} differ, {len(measured)} "
          f"measured live, {len(missing)} missing, {len(added)} new")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
