"""``mlecourse``: the course's one command, for learners and instructors.

Everything a learner does works without ``make`` (Windows has none)::

    mlecourse start            copy the workbooks into work/ and open JupyterLab there
    mlecourse progress [NN]    ✓ correct, ○ not attempted, ✗ incorrect, per exercise
    mlecourse reset NN         restore workbook NN, saving your copy in work/backups/
    mlecourse hint 3.2 [N]     the Nth hint of exercise 3.2
    mlecourse doctor           is this machine ready for the course?
    mlecourse capstone check   grade the capstone's folder (work/capstone/), without changing it
    mlecourse collect          (instructors) a live table of the room's `progress --send`

The ``make`` targets call these same functions. Every command says what it
did and what it left alone; a mistake in what you typed gets one line.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from mlecourse.paths import WORK_DIR

from . import terminal, workbooks
from .workbooks import LearnerFileError, WorkbookError

LAB_FLAGS = ["--LabApp.extension_manager=readonly"]  # no extension manager: it would query PyPI


def _work(args) -> Path:
    return Path(args.work).resolve() if args.work else WORK_DIR


def cmd_start(args) -> int:
    work = _work(args)
    for line in workbooks.copy_to_work(work):
        print(line)
    print(f"Your copies are in {work}; nothing in exercises/ or solutions/ was changed.")
    if args.no_lab:
        print("JupyterLab not started (--no-lab).")
        return 0
    flags = LAB_FLAGS + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    print("Starting JupyterLab in work/ (Ctrl-C stops it) ...", flush=True)
    code = terminal.run_in_foreground([sys.executable, "-m", "jupyterlab", *flags], cwd=work)
    if code in (0, -signal.SIGINT, -signal.SIGTERM):   # stopped by you: a normal end
        print(f"JupyterLab stopped; your work is in {work}.")
        return 0
    return code


def cmd_progress(args) -> int:
    import time

    began = time.perf_counter()
    from . import progress
    work = _work(args)
    if args.chapter:
        workbooks.find_workbook(args.chapter)  # an unknown chapter stops here, in one line
    said = progress.Reporter() if not args.quiet else None
    rows = progress.collect(work, args.chapter, said)
    print(progress.as_json(rows, work) if args.json else progress.table(rows))
    if not args.json:
        took = progress.duration(time.perf_counter() - began)
        print(f"Ran temporary copies of your workbooks in {took}; nothing in {work} was changed.")
    return 0


def cmd_progress_or_send(args) -> int:
    """``progress --send URL --name NAME``: the same rows, sent to the instructor's ``collect``."""
    if not args.send:
        return cmd_progress(args)
    from dataclasses import asdict

    from . import collect, progress
    if not args.name:
        raise LearnerFileError("say the name the instructor's table shows for you: --name \"Ada\"")
    if not collect.NAME.match(args.name):
        raise LearnerFileError("a name is 1 to 40 letters, digits, spaces or .-_'")
    work = _work(args)
    if args.chapter:
        workbooks.find_workbook(args.chapter)
    rows = progress.collect(work, args.chapter, None if args.quiet else progress.Reporter())
    try:
        print(collect.send(args.send, args.name, [asdict(r) for r in rows]))
    except ValueError as err:
        raise LearnerFileError(str(err)) from None
    print(f"Sent {len(rows)} results; nothing in {work} was changed.")
    return 0


def cmd_reset(args) -> int:
    for line in workbooks.reset(args.chapter, _work(args)):
        print(line)
    print("Other workbooks were left as they were.")
    return 0


def cmd_hint(args) -> int:
    # The hints as plain data (written by `make exercises`): importing a chapter's
    # checks would load pandas and scikit-learn, seconds on a busy laptop.
    from mlecourse.checks.hint_index import HINTS
    key = str(args.exercise).strip()
    ex = HINTS.get(key)
    if ex is None:
        raise LearnerFileError(f"there is no exercise {args.exercise!r}; the exercises are "
                               f"{', '.join(HINTS)}")
    hints = ex["hints"]
    if not 1 <= args.number <= len(hints):
        raise LearnerFileError(f"exercise {key} has hints 1 to {len(hints)}, not {args.number}")
    print(f"💡 Hint {args.number} of {len(hints)} for {key} ({ex['title']}): {hints[args.number - 1]}")
    if args.number < len(hints):
        print(f"   Next: `mlecourse hint {key} {args.number + 1}`.")
    else:
        print(f"   That was the last hint; the worked solution is in solutions/{ex['workbook']}.")
    return 0


def cmd_doctor(args) -> int:
    from . import doctor
    return doctor.main((["--lock", args.lock] if args.lock else []) + (["--fix"] if args.fix else [])
                       + (["--quiet"] if args.quiet else []))


def cmd_capstone(args) -> int:
    from . import capstone
    folder = Path(args.folder).resolve() if args.folder else _work(args) / "capstone"
    return capstone.main(folder, as_json_output=args.json)


# Commands that pass their arguments on to a module's own parser (its --help is theirs).
PASS_THROUGH = {
    "bundle": ("write the offline attendee bundle (instructors)", "mlecourse.course.bundle", []),
    "collect": ("show the room's progress, sent by `progress --send` (instructors)", "mlecourse.course.collect", []),
    "exercises": ("regenerate exercises/ from solutions/ (authors)", "mlecourse.course.workbooks", ["generate"]),
    "bench": ("time every notebook and its slowest cell", "mlecourse.course.bench", []),
    "build": ("build the site into _build/html", "mlecourse.course.build", []),
}


def _pass_through(command: str, rest: list[str]) -> int:
    import importlib
    _, name, default = PASS_THROUGH[command]
    return importlib.import_module(name).main(default + rest) or 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mlecourse", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--work", help=argparse.SUPPRESS)  # another work/ folder (tests, instructors)
    subs = top.add_subparsers(dest="command", metavar="COMMAND")

    p = subs.add_parser("start", help="copy the workbooks into work/ (never over yours) and open JupyterLab")
    p.add_argument("--no-lab", action="store_true", help="only make the copies")
    p.set_defaults(run=cmd_start)

    p = subs.add_parser("progress", help="which exercises are correct, not attempted, incorrect")
    p.add_argument("chapter", nargs="?", help="only this chapter's workbook, e.g. 3")
    p.add_argument("--json", action="store_true", help="machine-readable, for an instructor's script")
    p.add_argument("--quiet", action="store_true", help="no line per exercise while it runs")
    p.add_argument("--send", metavar="URL", help="send the result to the instructor's `mlecourse collect`")
    p.add_argument("--name", help="with --send: the name the instructor's table shows (your choice)")
    p.set_defaults(run=cmd_progress_or_send)

    p = subs.add_parser("reset", help="restore workbook NN from exercises/, saving yours in work/backups/")
    p.add_argument("chapter", help="the chapter number, e.g. 3")
    p.set_defaults(run=cmd_reset)

    p = subs.add_parser("hint", help="a hint for an exercise, e.g. `mlecourse hint 3.2`")
    p.add_argument("exercise", help="the exercise id, e.g. 3.2")
    p.add_argument("number", nargs="?", type=int, default=1, help="which hint (1, 2, ...)")
    p.set_defaults(run=cmd_hint)

    p = subs.add_parser("doctor", help="check this machine is ready for the course")
    p.add_argument("--lock", help=argparse.SUPPRESS)
    p.add_argument("--fix", action="store_true", help="reinstall the packages that are broken (offline)")
    p.add_argument("--quiet", action="store_true", help="with --fix: one line when all is well")
    p.set_defaults(run=cmd_doctor)

    p = subs.add_parser("capstone", help="grade the capstone: `mlecourse capstone check [FOLDER]`")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="every check of the capstone on a folder (default work/capstone)")
    check.add_argument("folder", nargs="?", help="the capstone folder to grade (default: work/capstone)")
    check.add_argument("--json", action="store_true", help="machine-readable, for an instructor's script")
    check.set_defaults(run=cmd_capstone)

    for name, (help_text, _, _) in PASS_THROUGH.items():
        subs.add_parser(name, help=help_text, add_help=False)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top = parser()
    if not argv:
        top.print_help()
        return 0
    if argv[0] in PASS_THROUGH:
        return _pass_through(argv[0], argv[1:])
    try:
        args = top.parse_args(argv)
    except SystemExit as stop:  # argparse already printed its one line (or the help)
        return int(stop.code or 0)
    if not getattr(args, "run", None):
        top.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (LearnerFileError, WorkbookError) as err:
        print(f"mlecourse {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mlecourse {args.command}: stopped (Ctrl-C); your files are as they were.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
