"""``mlecourse bundle``: one archive an attendee installs from with no network.

The archive holds the course at the committed revision (workbooks, data,
code, the lock file; not the solutions or the instructor notes), a
wheelhouse with every pinned package for each target platform and Python,
the built site (opens from ``site/index.html``, no server needed), an
installer script and a one-page ``START-HERE.txt``. An attendee runs::

    python3 install.py          (Windows: py install.py)

which makes ``.venv`` there, installs from ``wheelhouse/`` only, and ends
with ``mlecourse doctor``. Building the wheelhouse (``pip download``) needs
the network once, on the instructor's machine; ``--wheelhouse DIR`` reuses
one built before. Nothing is written unless the tree is committed and the
wheelhouse holds every pinned package for every target.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from mlecourse.paths import ROOT

UV_VERSION = "0.13.8"  # the Makefile's; the installer uses it for speed
ATTENDEE_EXCLUDES = ("solutions/", "instructors/")


class BundleError(RuntimeError):
    """The bundle cannot be made; the message names the file and the fix."""


# A patch version named by a marker on the full version: python_full_version < '3.11.5'.
FULL_VERSION = re.compile(r"""python_full_version\s*(?:[<>=!~]=?|===?)\s*['"]([\d.]+)['"]""")


@dataclass(frozen=True)
class Resolution:
    """The pins the lock selects for a range of patch versions of one target's Python."""
    first: str  # "3.11.0": the lowest patch version of the range
    environment: dict
    pins: tuple[str, ...]  # "name==version"

    def label(self, python: str) -> str:
        return f"Python {self.first} and newer" if self.first != f"{python}.0" else f"Python {python}"


@dataclass(frozen=True)
class Target:
    """A platform and Python the wheelhouse serves, as pip and markers name them."""
    name: str
    pip_platforms: tuple[str, ...]
    python: str  # "3.11"
    sys_platform: str
    machine: str

    def environment(self, full_version: str | None = None) -> dict[str, str]:
        """The marker environment of this target's Python at ``full_version`` (default X.Y.0)."""
        env = default_environment()
        env.update(python_version=self.python, python_full_version=full_version or f"{self.python}.0",
                   sys_platform=self.sys_platform, platform_machine=self.machine,
                   platform_system={"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[self.sys_platform],
                   os_name="nt" if self.sys_platform == "win32" else "posix",
                   implementation_name="cpython", platform_python_implementation="CPython")
        return env

    def resolutions(self, requirements: list[Requirement]) -> list[Resolution]:
        """One wheel set per distinct resolution of the lock over this target's patch levels.

        A lock may pin a package differently within one Python (soupsieve 2.10 below
        3.11.5, 4.1.3 from 3.11.5): every patch version a marker names, and the one
        after it, starts a range; ranges that select the same pins are merged.
        """
        starts = {Version(f"{self.python}.0")}
        for req in requirements:
            for named in FULL_VERSION.findall(str(req.marker or "")):
                version = Version(named)
                if version.release[:2] == Version(self.python).release[:2]:
                    patch = version.release[2] if len(version.release) > 2 else 0
                    starts |= {Version(f"{self.python}.{patch}"), Version(f"{self.python}.{patch + 1}")}
        out: dict[frozenset[str], Resolution] = {}
        for start in sorted(starts):
            env = self.environment(str(start))
            chosen = frozenset(str(r).split(";")[0] for r in requirements
                               if r.marker is None or r.marker.evaluate(env))
            out.setdefault(chosen, Resolution(str(start), env, tuple(sorted(chosen))))
        return list(out.values())

    def accepts(self, tags: frozenset[Tag]) -> bool:
        py = "cp" + self.python.replace(".", "")
        for tag in tags:
            interpreter_ok = tag.interpreter in (py, "py3", f"py{py[2:]}", "py2.py3") or (
                tag.interpreter.startswith("cp3") and tag.abi == "abi3"
                and int(tag.interpreter[3:] or 0) <= int(py[3:]))
            abi_ok = tag.abi in ("none", "abi3", py)
            platform_ok = tag.platform == "any" or any(_platform_matches(tag.platform, p)
                                                        for p in self.pip_platforms)
            if interpreter_ok and abi_ok and platform_ok:
                return True
        return False


def _platform_matches(tag: str, wanted: str) -> bool:
    """manylinux_2_28_x86_64 serves manylinux_2_17 wheels; macosx_14_0_arm64 serves macosx_11_0."""
    def split(platform: str):
        m = re.match(r"^(manylinux|macosx|musllinux)_(\d+)_(\d+)_(.+)$", platform)
        legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
        head, _, arch = platform.partition("_")
        if head in legacy:
            return ("manylinux", *legacy[head], arch)
        return (m[1], int(m[2]), int(m[3]), m[4]) if m else (platform, 0, 0, "")
    have, want = split(tag), split(wanted)
    if have[0] != want[0] or not have[3]:
        return tag == wanted
    arch_ok = have[3] == want[3] or (have[0] == "macosx" and have[3] == "universal2")
    return arch_ok and (have[1], have[2]) <= (want[1], want[2])


# pip download does not widen a --platform to the older tags it serves: list them.
LINUX = tuple(f"manylinux_2_{v}_x86_64" for v in (34, 31, 28, 27, 24, 17, 12, 5)) + (
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
    "linux_x86_64")  # a wheel built from source on such a machine (llama-cpp-python)
MACOS = tuple(f"macosx_{v}_0_{arch}" for v in (14, 13, 12, 11) for arch in ("arm64", "universal2")) + (
    "macosx_10_9_universal2",)

TARGETS = {
    f"{name}-py{py}": Target(f"{name}-py{py}", platforms, py, sys_platform, machine)
    for name, platforms, sys_platform, machine in (
        # glibc 2.34 or newer (Ubuntu 22.04, Debian 12, Fedora 35): some pinned wheels need it.
        ("linux-x86_64", LINUX, "linux", "x86_64"),
        ("macos-arm64", MACOS, "darwin", "arm64"),
        ("windows-amd64", ("win_amd64",), "win32", "AMD64"),
    )
    for py in ("3.11", "3.12")
}
DEFAULT_TARGETS = ("linux-x86_64-py3.11", "linux-x86_64-py3.12", "macos-arm64-py3.11", "macos-arm64-py3.12")


def pins(lock: Path) -> list[Requirement]:
    """The lock file's requirements (name, exact version, marker)."""
    out = []
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+==[^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match:
            out.append(Requirement(match[1] + (f"; {match[2]}" if match[2] else "")))
    return out


def hashes(lock: Path) -> dict[str, list[str]]:
    """``name==version`` (name canonical) -> the ``--hash`` options the lock file gives it.
    Keyed by version too: a package may be pinned twice, for different Pythons."""
    out: dict[str, list[str]] = {}
    key = None
    for line in lock.read_text().splitlines():
        head = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if head:
            key = f"{canonicalize_name(head[1])}=={head[2]}"
            out.setdefault(key, [])
        if key:
            out[key].extend(re.findall(r"--hash=\S+", line))
    return out


def _with_hashes(requirement: str, known: dict[str, list[str]]) -> str:
    """``name==version --hash=...``: pip then checks every file it downloads against the lock."""
    name, _, version = requirement.partition("==")
    return " ".join([requirement, *known.get(f"{canonicalize_name(name)}=={version}", [])])


def missing_wheels(lock: Path, wheelhouse: Path, targets: list[Target]) -> list[str]:
    """'name==version for target' for every pin with no wheel in ``wheelhouse`` that installs there,
    for every resolution of the lock's markers (as the installer evaluates them, with ``packaging``)."""
    wheels: dict[str, list[tuple[str, frozenset[Tag]]]] = {}
    for path in wheelhouse.glob("*.whl"):
        name, version, _, tags = parse_wheel_filename(path.name)
        wheels.setdefault(canonicalize_name(name), []).append((str(version), tags))
    problems = []
    for target in targets:
        for resolution in target.resolutions(pins(lock)):
            for pin in resolution.pins:
                name, _, version = pin.partition("==")
                if not any(v == version and target.accepts(tags) for v, tags in wheels.get(canonicalize_name(name), [])):
                    where = target.name + ("" if resolution.first.endswith(".0") else f" (Python {resolution.first}+)")
                    problem = f"{name}=={version} for {where}"
                    if problem not in problems:
                        problems.append(problem)
    return problems


def download(lock: Path, wheelhouse: Path, targets: list[Target]) -> None:
    """``pip download`` every pin (and uv) for each target: the step that needs the network.

    A pin published only as source (antlr4-python3-runtime 4.9.3) is built into
    a wheel here; it must be pure Python (``none-any``) to serve another platform.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)
    known = hashes(lock)
    for target in targets:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        *[a for p in target.pip_platforms for a in ("--platform", p)], "--python-version",
                        target.python, "-d", str(wheelhouse), f"uv=={UV_VERSION}"], check=True, capture_output=True)
        done: set[str] = set()
        for resolution in target.resolutions(pins(lock)):
            wanted = [p for p in resolution.pins if p not in done]  # a later range adds only its own
            done |= set(wanted)
            print(f"downloading {len(wanted)} wheels for {target.name}, {resolution.label(target.python)} ...",
                  flush=True)
            for _ in range(20):  # each round builds one source-only pin, then tries again
                failed = _pip_download([_with_hashes(w, known) for w in wanted], wheelhouse, target,
                                       resolution.first)
                if failed is None:
                    break
                wanted = [w for w in wanted if canonicalize_name(w.split("==")[0]) != canonicalize_name(failed.split("==")[0])]
                _build_wheel(_with_hashes(failed, known), wheelhouse, target)
            else:
                raise BundleError("too many source-only packages; build their wheels by hand into the wheelhouse")


def _pip_download(wanted: list[str], wheelhouse: Path, target: Target, python: str) -> str | None:
    """Download ``wanted`` for ``target``; the requirement that has no wheel, if one has none."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as reqs:
        reqs.write("\n".join(wanted) + "\n")
    platforms = [a for p in target.pip_platforms for a in ("--platform", p)]
    run = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                          *platforms, "--python-version", python, "--implementation", "cp",
                          "-d", str(wheelhouse), "-r", reqs.name], capture_output=True, text=True)
    os.unlink(reqs.name)
    if run.returncode == 0:
        return None
    missing = re.search(r"No matching distribution found for ([^\s;]+)", run.stderr)
    if not missing:
        raise BundleError(f"pip download failed for {target.name}: {run.stderr.strip().splitlines()[-1]}")
    return missing[1]


def _build_wheel(requirement: str, wheelhouse: Path, target: Target) -> None:
    """Build a source-only pin into a wheel. A pure-Python one serves every target; one
    with compiled code (llama-cpp-python) only the target this machine is, and is left
    out for the others, which ``missing_wheels`` then names (build it on such a machine)."""
    name = requirement.split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "req.txt").write_text(requirement + "\n")  # the sdist is checked against the lock
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "-w", tmp, "-r", str(Path(tmp) / "req.txt")], check=True, capture_output=True)
        for wheel in Path(tmp).glob("*.whl"):
            if wheel.name.endswith("-none-any.whl") or _serves(wheel.name, target):
                shutil.copy2(wheel, wheelhouse / wheel.name)
                print(f"  built {name} from source for {'every target' if 'none-any' in wheel.name else target.name}",
                      flush=True)
            else:
                print(f"  {name} is published as source only and compiles code: its wheel for {target.name} "
                      "must be built on such a machine (see the instructor guide)", flush=True)


def _serves(wheel_name: str, target: Target) -> bool:
    """Whether a wheel built here installs on ``target`` (same Python and platform as this machine)."""
    tags = parse_wheel_filename(wheel_name)[3]
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    return here == target.python and sys.platform == target.sys_platform \
        and platform.machine() == target.machine and target.accepts(tags)


def dirty(root: Path) -> list[str]:
    """Uncommitted changes to tracked or new files (work/ and _build/ are the learner's)."""
    out = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=normal"],
                         capture_output=True, text=True, check=True).stdout
    return [line[3:] for line in out.splitlines()
            if not line[3:].startswith(("work/", "_build/", ".venv/", "models/"))]


def course_files(root: Path, into: Path, with_solutions: bool) -> int:
    """The committed tree (what `git archive HEAD` holds), minus what attendees must not get."""
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                             text=True, check=True).stdout.split("\0")
    count = 0
    for name in filter(None, listing):
        if not with_solutions and name.startswith(ATTENDEE_EXCLUDES):
            continue
        source = root / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
            count += 1
    return count


def built_slides(root: Path) -> Path | None:
    """The chapters' slide decks (``make slides``) if built, else None."""
    folder = root / "_build" / "slides"
    return folder if (folder / "index.html").is_file() else None


def built_site(root: Path) -> Path | None:
    """The workshop site (no solutions) if built, else None."""
    for candidate in (root / "_build" / "nosolutions" / "_build" / "html",):
        if (candidate / "index.html").is_file():
            return candidate
    return None


START_HERE = """\
START HERE: the course "Becoming a Machine Learning Engineer", offline
=====================================================================

This folder installs and runs the whole course with no network.

1. Install (once, one to two minutes):
       Linux/macOS:  python3 install.py
       Windows:      py install.py
   It makes .venv here, installs every package from wheelhouse/ (nothing is
   downloaded) and ends with `mlecourse doctor`: every line should start with ✓.
   Needs Python {pythons} on {platforms}.
   (Measured with the full Linux bundle, offline, on a 2-core machine busy
   with other work, load 5 to 8: 65 s with Python 3.11.2, 43 s with 3.11.7.)

2. Work:
       Linux/macOS:  .venv/bin/mlecourse start
       Windows:      .venv\\Scripts\\mlecourse start
   copies the workbooks into work/ and opens JupyterLab there. Your copies
   are never overwritten.

3. Along the way:
       mlecourse progress      which exercises are correct (✓), not attempted (○), wrong (✗)
       mlecourse hint 3.2      a hint for exercise 3.2 (`mlecourse hint 3.2 2` for the next)
       mlecourse reset 3       a fresh workbook 3; yours is kept in work/backups/

4. The book: open site/index.html in a browser (no server, no network);
   the slides of each chapter: slides/index.html.

If `mlecourse doctor` shows a ✗, run `mlecourse doctor --fix` (it reinstalls
from wheelhouse/, offline), then `mlecourse doctor` again. If install.py says
your Python is not supported, ask the instructor for a hosted notebook.

Bundle of revision {revision}, made {made}.
"""

INSTALLER = '''\
"""Install the course from this folder's wheelhouse, with no network, then run the doctor."""
import os, subprocess, sys, venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.version_info[:2] not in {pythons}:
    sys.exit(f"install.py: this bundle has wheels for Python {shown}, not "
             f"{{sys.version_info[0]}}.{{sys.version_info[1]}}: run it with one of those.")
env_dir = HERE / ".venv"
python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
if not python.exists():
    venv.create(env_dir, with_pip=True)
offline = ["--no-index", "--find-links", str(HERE / "wheelhouse")]
def run(*args):
    print("+", " ".join(map(str, args)), flush=True)
    subprocess.run([str(python), *map(str, args)], check=True, cwd=HERE)
try:
    run("-m", "pip", "install", "--quiet", "--disable-pip-version-check", *offline, "uv=={uv}")
    # Every file was checked against the lock's hashes when the bundle was made; a wheel
    # built there from a (checked) source archive has no hash in the lock, hence no-verify.
    run("-m", "uv", "pip", "install", "--quiet", "--python", python, "--offline", *offline,
        "--no-verify-hashes", "-r", HERE / "requirements.lock")
    run("-m", "uv", "pip", "install", "--quiet", "--python", python, "--offline", *offline,
        "--no-deps", "--no-build-isolation", "-e", HERE)
except subprocess.CalledProcessError as err:
    sys.exit(f"install.py: the step above failed (exit {{err.returncode}}); nothing outside {{HERE}} "
             "was changed. Show this output to the instructor.")
sys.exit(subprocess.call([str(python), "-m", "mlecourse.course.cli", "doctor"], cwd=HERE))
'''


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one: a 1.4 GB wheelhouse is not copied only to be zipped."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_bundle(out: Path, root: Path, wheelhouse: Path, targets: list[Target], site: Path | None,
                 lock: Path | None = None, with_solutions: bool = False, slides: Path | None = None) -> Path:
    """Assemble the folder and zip it; returns the archive's path."""
    revision = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    name = f"mlecourse-bundle-{revision}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        course_files(root, folder, with_solutions)
        if lock is not None:  # a lock other than the committed one (the test's subset)
            shutil.copyfile(lock, folder / "requirements.lock")
        shutil.copytree(wheelhouse, folder / "wheelhouse", copy_function=_link_or_copy)
        if site is not None:
            shutil.copytree(site, folder / "site")
        if slides is not None:
            shutil.copytree(slides, folder / "slides")
        pythons = sorted({t.python for t in targets})
        (folder / "START-HERE.txt").write_text(START_HERE.format(
            pythons=" or ".join(pythons), platforms=", ".join(sorted({t.name.rsplit("-py", 1)[0] for t in targets})),
            revision=revision, made=time.strftime("%Y-%m-%d")))
        (folder / "install.py").write_text(INSTALLER.format(
            pythons={tuple(int(x) for x in p.split(".")) for p in pythons}, shown=" or ".join(pythons), uv=UV_VERSION))
        archive = out / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    # Wheels are compressed already; deflating them again only costs time.
                    kind = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
                    zf.write(path, path.relative_to(folder.parent), compress_type=kind)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlecourse bundle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bundle")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS),
                        help=f"platform and Python to serve (repeat; default: {', '.join(DEFAULT_TARGETS)})")
    parser.add_argument("--wheelhouse", type=Path, help="use this wheelhouse instead of downloading one")
    parser.add_argument("--lock", type=Path, help=argparse.SUPPRESS)  # tests: a subset lock
    parser.add_argument("--no-site", action="store_true", help="leave the built site out")
    parser.add_argument("--no-slides", action="store_true", help="leave the slides out")
    parser.add_argument("--allow-dirty", action="store_true", help="bundle even with uncommitted changes")
    parser.add_argument("--with-solutions", action="store_true", help="include solutions/ and instructors/")
    args = parser.parse_args(argv)
    targets = [TARGETS[t] for t in (args.target or DEFAULT_TARGETS)]
    lock = args.lock or ROOT / "requirements.lock"
    try:
        changed = dirty(ROOT)
        if changed and not args.allow_dirty:
            raise BundleError(f"the course folder has uncommitted changes ({len(changed)}, e.g. {changed[0]}): "
                              "commit or stash them (the bundle is made from the committed revision), "
                              "or pass --allow-dirty")
        site = None if args.no_site else built_site(ROOT)
        if site is None and not args.no_site:
            raise BundleError(f"no workshop site in {ROOT / '_build' / 'nosolutions' / '_build' / 'html'}: run "
                              "`make book-nosolutions` first, or pass --no-site")
        slides = None if args.no_slides else built_slides(ROOT)
        if slides is None and not args.no_slides:
            raise BundleError(f"no slides in {ROOT / '_build' / 'slides'}: run `make slides` first, "
                              "or pass --no-slides")
        wheelhouse = args.wheelhouse or args.out / "wheelhouse"
        if args.wheelhouse is None:
            download(lock, wheelhouse, targets)
        elif not wheelhouse.is_dir():
            raise BundleError(f"no wheelhouse at {wheelhouse}: give an existing folder of wheels, "
                              "or leave out --wheelhouse to download one")
        missing = missing_wheels(lock, wheelhouse, targets)
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise BundleError(f"{wheelhouse} lacks {', '.join(missing[:3])}{more}: run `mlecourse bundle` "
                              "without --wheelhouse to download them (needs the network), or drop that --target")
        started = time.perf_counter()
        archive = write_bundle(args.out, ROOT, wheelhouse, targets, site, args.lock, args.with_solutions, slides)
    except BundleError as err:
        print(f"mlecourse bundle: {err}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as err:
        print(f"mlecourse bundle: `{' '.join(map(str, err.cmd[:4]))} ...` failed (exit {err.returncode}); "
              "no bundle was written", file=sys.stderr)
        return 2
    size = archive.stat().st_size / 1e6
    print(f"wrote {archive} ({size:.0f} MB, {time.perf_counter() - started:.0f} s) for "
          f"{', '.join(t.name for t in targets)}; the course folder was not changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
