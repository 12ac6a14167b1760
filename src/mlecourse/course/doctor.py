"""``make doctor``: is this machine ready for the course?

Prints a table of checks, then a block to paste into a help request, and
exits non-zero if any check failed. Run it before a workshop.
"""
from __future__ import annotations

import importlib.metadata as md
import platform
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from mlecourse.paths import ROOT

MIN_PYTHON = (3, 11)


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_python(version: tuple[int, int, int] = sys.version_info[:3]) -> Finding:
    shown = ".".join(map(str, version))
    ok = tuple(version[:2]) >= MIN_PYTHON
    return Finding("Python", ok, shown, "" if ok else "install Python 3.11 or newer, then "
                   "`rm -rf .venv && make setup`")


def pinned(lock: Path) -> dict[str, str]:
    """Package name -> pinned version, for the lines of the lock file that apply here."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if not match:
            continue
        name, version, marker = match.groups()
        requirement = Requirement(f"{name}=={version}" + (f"; {marker}" if marker else ""))
        if requirement.marker is None or requirement.marker.evaluate():
            pins[requirement.name.lower()] = version
    return pins


def check_packages(pins: dict[str, str], installed=md.version) -> Finding:
    """Every pinned package installed at a version compatible with its pin."""
    problems = []
    for name, want in sorted(pins.items()):
        try:
            have = installed(name)
        except md.PackageNotFoundError:
            problems.append(f"{name} missing")
            continue
        try:
            # Compatible: same release, ignoring local/post tags (e.g. 1.0.4.post1).
            if Version(have).release != Version(want).release:
                problems.append(f"{name} {have} (pinned {want})")
        except InvalidVersion:
            problems.append(f"{name} has an unreadable version {have!r}")
    ok = not problems
    detail = f"{len(pins)} pinned packages match" if ok else "; ".join(problems[:5]) + (
        f" and {len(problems) - 5} more" if len(problems) > 5 else "")
    return Finding("Packages", ok, detail, "" if ok else "run `make setup` (or `rm -rf .venv && make setup`)")


def check_imports(modules=("mlecourse", "sklearn", "pandas", "matplotlib", "myst_nb")) -> Finding:
    failed = []
    for module in modules:
        try:
            __import__(module)
        except Exception as err:  # any import failure is what we report
            failed.append(f"{module}: {type(err).__name__}: {err}")
    return Finding("Imports", not failed, "core modules import" if not failed else "; ".join(failed),
                   "" if not failed else "run `make setup`")


def kernel_command() -> tuple[str, str]:
    """The program the ``python3`` Jupyter kernel runs, and where its spec lives."""
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec("python3")
    return spec.argv[0], spec.resource_dir


def check_kernel(executable: str = sys.executable, lookup=kernel_command) -> Finding:
    """The ``python3`` Jupyter kernel must run this environment's Python."""
    try:
        command, where = lookup()
    except Exception as err:
        return Finding("Jupyter kernel", False, f"no python3 kernel: {err}", "run `make setup`")
    # Jupyter replaces a bare "python" with the Python it runs under itself.
    ok = command in {"python", "python3"} or Path(command).resolve() == Path(executable).resolve()
    detail = f"python3 kernel runs {command}" + ("" if ok else f", not {executable}")
    fix = "" if ok else (f"remove the kernel spec in {where} (it points to another Python), "
                         "or start Jupyter with `make lab`")
    return Finding("Jupyter kernel", ok, detail, fix)


def check_data() -> Finding:
    from mlecourse.lender.data import verify_checksums
    problems = verify_checksums()
    return Finding("Data files", not problems, "all checksums match" if not problems else
                   "; ".join(problems), "" if not problems else "`git checkout -- data/` restores them")


def check_port() -> Finding:
    """The model service chapter needs a free port on the loopback interface."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    except OSError as err:
        return Finding("Loopback port", False, f"cannot bind 127.0.0.1: {err}",
                       "check that no firewall or policy blocks local servers")
    return Finding("Loopback port", True, f"127.0.0.1:{port} is free")


def run_all() -> list[Finding]:
    lock = ROOT / "requirements.lock"
    return [check_python(), check_packages(pinned(lock)), check_imports(), check_kernel(),
            check_data(), check_port()]


def report(findings: list[Finding]) -> str:
    width = max(len(f.name) for f in findings)
    lines = ["Course environment check", ""]
    for f in findings:
        lines.append(f"{'✓' if f.ok else '✗'}  {f.name:<{width}}  {f.detail}")
        if f.fix:
            lines.append(f"   {'':<{width}}  fix: {f.fix}")
    failed = [f.name for f in findings if not f.ok]
    lines += ["", "All good: you are ready." if not failed else
              f"{len(failed)} check(s) failed: {', '.join(failed)}.", "",
              "To ask for help, paste this block:", "```",
              f"python {platform.python_version()} on {platform.platform()}",
              f"executable {sys.executable}", f"course at {ROOT}",
              *[f"{'ok ' if f.ok else 'FAIL'} {f.name}: {f.detail}" for f in findings], "```"]
    return "\n".join(lines)


def main() -> int:
    findings = run_all()
    print(report(findings))
    return 0 if all(f.ok for f in findings) else 1


if __name__ == "__main__":
    sys.exit(main())
