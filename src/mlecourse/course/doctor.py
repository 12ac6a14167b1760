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
# The fix for any broken package: it reinstalls what the lock file pins, from
# uv's cache or the bundle's wheelhouse, so it works without network.
FIX = "run `mlecourse doctor --fix` (or `make setup`), then `mlecourse doctor` again"
FIX_IN_BUNDLE = "run `mlecourse doctor --fix` (it reinstalls from wheelhouse/, offline), then `mlecourse doctor` again"
REGENERATE = "`python -m mlecourse.lender.data generate` rebuilds data/loans.csv.gz, byte for byte"


def place(root: Path = ROOT) -> str:
    """Where the course runs from: "bundle" (unzipped, with its wheelhouse), "clone" (git), or
    "folder" (a copy with neither). The advice differs: a bundle has no git and no `make setup`."""
    if (root / "wheelhouse").is_dir() and (root / "install.py").is_file():
        return "bundle"
    return "clone" if (root / ".git").exists() else "folder"


def package_fix(where: str | None = None) -> str:
    return FIX_IN_BUNDLE if (where or place()) == "bundle" else FIX


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_python(version: tuple[int, int, int] = sys.version_info[:3]) -> Finding:
    shown = ".".join(map(str, version))
    ok = tuple(version[:2]) >= MIN_PYTHON
    again = "`python3.11 install.py`" if place() == "bundle" else "`rm -rf .venv && make setup PYTHON=python3.11`"
    return Finding("Python", ok, shown, "" if ok else f"install Python 3.11 or newer, then {again}")


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
    return Finding("Packages", ok, detail, "" if ok else package_fix())


def check_imports(modules=("mlecourse", "sklearn", "pandas", "matplotlib", "myst_nb")) -> Finding:
    failed = []
    for module in modules:
        try:
            __import__(module)
        except Exception as err:  # any import failure is what we report
            failed.append(f"{module}: {type(err).__name__}: {err}")
    return Finding("Imports", not failed, "core modules import" if not failed else "; ".join(failed),
                   "" if not failed else package_fix())


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
        return Finding("Jupyter kernel", False, f"no python3 kernel: {err}", package_fix())
    # Jupyter replaces a bare "python" with the Python it runs under itself.
    ok = command in {"python", "python3"} or Path(command).resolve() == Path(executable).resolve()
    detail = f"python3 kernel runs {command}" + ("" if ok else f", not {executable}")
    fix = "" if ok else (f"remove the kernel spec in {where} (it points to another Python), "
                         "or start Jupyter with `mlecourse start`")
    return Finding("Jupyter kernel", ok, detail, fix)


def data_fix(problems: list[str], where: str | None = None) -> str:
    """The advice that works where the course is: git restores a clone's files; a bundle or a
    copy regenerates the loans file (the only one the generator writes), or unzips data/ again."""
    if (where or place()) == "clone":
        return "`git checkout -- data/` restores them"
    if all(problem.startswith("data/loans.csv.gz ") for problem in problems):
        return REGENERATE
    return "extract data/ again from the bundle's zip (or the course's download), over this folder's"


def check_data(where: str | None = None) -> Finding:
    from mlecourse.lender.data.loading import verify_checksums
    problems = verify_checksums()
    shown = [p.split(";")[0] for p in problems]  # the data module's own advice assumes a git clone
    return Finding("Data files", not problems, "all checksums match" if not problems else
                   "; ".join(shown), "" if not problems else data_fix(problems, where))


LLAMA_BUILD = ("`make setup` compiles llama-cpp-python from source (it is published as source only): "
               "with the Makefile's options, about 470 CPU-seconds (4 minutes on two idle cores), once; "
               "it needs gcc, g++ and cmake (Debian: `apt-get install build-essential cmake`)")


def check_language_model(pins: dict[str, str] | None = None) -> Finding:
    """Chapter 9's model: llama.cpp's bindings import, and the GGUF file is the one measured.

    Only where the lock pins them (a lock without them, as in a partial bundle, has nothing to check).
    """
    if pins is not None and "llama-cpp-python" not in pins:
        return Finding("Language model", True, "not in this lock file")
    try:
        import llama_cpp  # noqa: F401
        from mlecourse.lender.llm import runtime
        path = runtime.model_path()
    except Exception as err:  # a failed build, a missing package: the fix is the same
        return Finding("Language model", False, f"{type(err).__name__}: {err}", LLAMA_BUILD)
    digest = runtime.file_sha256(path)
    if digest != runtime.MODEL_SHA256:
        return Finding("Language model", False, f"{path.name} is not the file the course was measured with",
                       "`make setup` reinstalls it")
    return Finding("Language model", True, f"llama.cpp {llama_cpp.__version__}, {path.name} "
                   f"({path.stat().st_size / 1e6:.0f} MB, checksum ok)")


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


def run_all(lock: Path | None = None) -> list[Finding]:
    lock = lock or ROOT / "requirements.lock"
    pins = pinned(lock)
    return [check_python(), check_packages(pins), check_imports(), check_kernel(),
            check_data(), check_language_model(pins), check_port()]


def broken_distributions(findings: list[Finding]) -> list[str]:
    """Distributions to reinstall: those the checks named missing, mismatched or failing to import."""
    names = set()
    for f in findings:
        if f.name == "Packages" and not f.ok:
            names |= {part.split()[0] for part in f.detail.split("; ") if part and " and " not in part[:4]}
        if f.name == "Imports" and not f.ok:
            owners = md.packages_distributions()
            for part in f.detail.split("; "):
                module = part.split(":")[0].split(".")[0]
                names |= set(owners.get(module, [module]))
    return sorted(n for n in names if n and n != "mlecourse")


def fix_command(lock: Path, reinstall: list[str]) -> list[str]:
    """The install that repairs this environment: from the bundle's wheelhouse if there is
    one next to the lock file, else from uv's cache (offline first, so no Wi-Fi is needed)."""
    cmd = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable,
           "-r", str(lock), "--require-hashes"]
    wheelhouse = lock.parent / "wheelhouse"
    if wheelhouse.is_dir():
        cmd = [c for c in cmd if c != "--require-hashes"] + ["--no-index", "--find-links", str(wheelhouse),
                                                              "--no-verify-hashes"]  # checked when bundled
    for name in reinstall:
        cmd += ["--reinstall-package", name]
        if wheelhouse.is_dir():  # unpack it again: a file edited through uv's hard link spoils its cache
            cmd += ["--refresh-package", name]
    return cmd


def fix(lock: Path, findings: list[Finding]) -> int:
    """Reinstall what is broken; print what was run and what it did."""
    import subprocess
    names = broken_distributions(findings)
    cmd = fix_command(lock, names)
    offline = "--no-index" in cmd
    print(f"Reinstalling {', '.join(names) if names else 'the pinned packages'} "
          f"({'from the bundle' if offline else 'from the local cache'}):\n  {' '.join(cmd)}")
    code = subprocess.call(cmd if offline else cmd + ["--offline"])
    if code and not offline:
        print("Not everything was in the local cache; trying again with the network ...")
        code = subprocess.call(cmd)
    if code:
        print("The reinstall failed (see above). Without network, install from the attendee bundle: "
              "see START-HERE.txt in it.")
    return code


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


ENVIRONMENT = ("Python", "Packages", "Imports", "Jupyter kernel")  # what --fix can repair


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="mlecourse doctor", description=__doc__)
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock",
                        help="the lock file to check against (default: the course's)")
    parser.add_argument("--fix", action="store_true",
                        help="reinstall the packages that are broken; exit 0 once the environment is sound")
    parser.add_argument("--quiet", action="store_true", help="with --fix: one line when all is well")
    args = parser.parse_args([] if argv is None else argv)
    if not args.lock.is_file():
        print(f"doctor: no lock file at {args.lock}: run it from the course folder, or pass --lock")
        return 2
    default = args.lock == ROOT / "requirements.lock"
    findings = run_all() if default else run_all(args.lock)
    if not args.fix:
        print(report(findings))
        return 0 if all(f.ok for f in findings) else 1
    sound = lambda found: all(f.ok for f in found if f.name in ENVIRONMENT)  # noqa: E731
    if sound(findings):
        print("doctor: the environment is sound, nothing reinstalled." if args.quiet else report(findings))
        return 0
    if fix(args.lock, findings):
        print(report(findings))
        return 1
    # Check again in a fresh process: this one has the broken modules half-imported.
    import subprocess
    print("Checking again:")
    again = subprocess.run([sys.executable, "-m", "mlecourse.course.doctor", "--lock", str(args.lock)],
                           capture_output=True, text=True)
    print(again.stdout, end="")
    return 0 if all(f"✓  {name}" in again.stdout for name in ENVIRONMENT) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
