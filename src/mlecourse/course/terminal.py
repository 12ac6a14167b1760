"""Running a long command (JupyterLab) from a terminal, as a shell runs a job.

A terminal sends Ctrl-C to its whole foreground process group: ``make``, the
``mlecourse`` command and JupyterLab alike. JupyterLab stops cleanly (it asks
first), but ``make`` and ``mlecourse`` are interrupted at once, and ``make``
reports an error for a command that was stopped on purpose. So the command
runs in a process group of its own, given the terminal for as long as it runs.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def run_in_foreground(command: list[str], cwd: Path) -> int:
    """Run ``command`` as the terminal's foreground job, as a shell runs a job.

    Ctrl-C then reaches it alone: JupyterLab asks whether to stop, and stops,
    while this process and a ``make`` above it wait for it to end and exit
    cleanly (without the hand-over, make is interrupted too and reports an
    error). Without a terminal we own (Windows, a pipe, a job in the
    background), it runs as a plain child."""
    tty = sys.stdin.fileno() if sys.stdin and sys.stdin.isatty() else None
    if os.name != "posix" or tty is None or os.tcgetpgrp(tty) != os.getpgrp():
        try:
            return subprocess.call(command, cwd=cwd)
        except KeyboardInterrupt:   # Ctrl-C reached both: Lab is stopping too
            return -signal.SIGINT
    child = subprocess.Popen(command, cwd=cwd, process_group=0)
    ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)   # taking the terminal back is allowed
    try:
        os.tcsetpgrp(tty, child.pid)
        return child.wait()
    finally:
        os.tcsetpgrp(tty, os.getpgrp())
        signal.signal(signal.SIGTTOU, ignored)
