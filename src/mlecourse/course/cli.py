"""``mlecourse``: the course's command line.

Each sub-command is a thin front to a module of ``mlecourse.course``; the
``make`` targets call the same modules, so both routes do the same thing.
"""
from __future__ import annotations

import argparse
import sys

COMMANDS = {
    "doctor": ("check this machine is ready for the course", "mlecourse.course.doctor"),
    "exercises": ("regenerate exercises/ from solutions/", "mlecourse.course.workbooks"),
    "bench": ("time every notebook and its slowest cell", "mlecourse.course.bench"),
    "build": ("build the site into _build/html", "mlecourse.course.build"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mlecourse", description="Becoming a Machine Learning Engineer: the course's commands.")
    subs = top.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in COMMANDS.items():
        subs.add_parser(name, help=help_text, add_help=False)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top = parser()
    if not argv or argv[0] not in COMMANDS:
        top.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    import importlib
    module = importlib.import_module(COMMANDS[argv[0]][1])
    rest = (["generate"] if argv[0] == "exercises" else []) + argv[1:]
    sys.argv = [f"mlecourse {argv[0]}", *rest]
    return module.main() or 0


if __name__ == "__main__":
    sys.exit(main())
