"""The attendee bundle installs with no network, with interpreters of two patch levels,
and the doctor passes there; a package broken afterwards is repaired, offline, by
following the doctor's advice.

CI runs this offline, so the test cannot download its wheelhouse: it rebuilds
wheels from the distributions installed in this environment (their RECORD
lists every file) for the packages `mlecourse doctor` needs and for every
package the lock pins differently for the two interpreters; the pins this
environment does not have (soupsieve 2.10 for Python 3.11.2) were downloaded
before the network went by `make bundle-test-wheels` (tests/bundle_wheels.py).
Its lock is the real lock's entries for those packages, markers included, so
the bundle's completeness check and the installer evaluate the same markers as
with the full lock. The full bundle (every pin, several platforms) is `make
bundle`, which downloads.
"""
import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import bundle_wheels
import packaging.utils
import pytest

from mlecourse.course import bundle
from mlecourse.paths import ROOT


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [arcname, f"sha256={digest}", str(len(data))]


def rebuild_wheel(dist, into: Path) -> Path:
    """A wheel of an installed distribution, from the files its RECORD lists."""
    info = Path(dist._path)  # the .dist-info folder
    site = info.parent
    tags = [line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")]
    name = dist.metadata["Name"].replace("-", "_").replace(".", "_")
    version = dist.version
    wheel = into / f"{name}-{version}-{'.'.join(sorted({t.split('-')[0] for t in tags}))}-" \
                   f"{'.'.join(sorted({t.split('-')[1] for t in tags}))}-" \
                   f"{'.'.join(sorted({t.split('-')[2] for t in tags}))}.whl"
    scripts = {ep.name for ep in dist.entry_points if ep.group in ("console_scripts", "gui_scripts")}
    data_dir = f"{name}-{version}.data"
    records = []
    # Stored, not deflated: compressing 500 MB cost 24 s of CPU, more than writing it saves.
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for row in csv.reader(io.StringIO((info / "RECORD").read_text())):
            relative = row[0]
            path = (site / relative).resolve()
            if not path.is_file() or relative.endswith(".pyc") or path.name in ("RECORD", "INSTALLER",
                                                                                "REQUESTED", "direct_url.json"):
                continue
            if relative.startswith("../"):
                prefix = Path(sys.prefix).resolve()
                inside = path.relative_to(prefix)
                if inside.parts[0] == "bin":
                    if path.name in scripts:
                        continue  # the installer writes entry points itself
                    arcname = f"{data_dir}/scripts/{path.name}"
                else:
                    arcname = f"{data_dir}/data/{inside.as_posix()}"
            else:
                arcname = Path(relative).as_posix()
            data = path.read_bytes()
            entry = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
            entry.external_attr = path.stat().st_mode << 16  # a regular file, executable if it was
            zf.writestr(entry, data)
            records.append(_record_line(arcname, data))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(records + [[f"{info.name}/RECORD", "", ""]])
        zf.writestr(f"{info.name}/RECORD", out.getvalue())
    return wheel


@pytest.fixture(scope="module")
def pythons():
    """Real interpreters of two patch levels at least, each with its marker environment."""
    found = bundle_wheels.interpreters()
    assert len(found) >= 2, (f"the bundle test needs Python 3.11 at two patch levels; found {found}: "
                             "install Debian's python3 (3.11.2) beside the one .venv was made with")
    return {python: bundle_wheels.marker_environment(python) for python in found}


@pytest.fixture(scope="module")
def subset(tmp_path_factory, pythons):
    home = tmp_path_factory.mktemp("bundle")
    wheelhouse = home / "wheelhouse"
    wheelhouse.mkdir()
    envs = list(pythons.values())
    names = bundle_wheels.subset_names(envs)
    dists = bundle_wheels.closure(sorted(names) + ["uv"])
    started = time.perf_counter()
    for dist in dists.values():
        rebuild_wheel(dist, wheelhouse)
    foreign = bundle_wheels.foreign_pins(envs, names)
    assert foreign, "the lock pins nothing differently for these interpreters: the test would prove less"
    for name in foreign:  # downloaded before the network went: the versions this environment lacks
        wheels = [w for w in bundle_wheels.FETCHED.glob("*.whl")
                  if bundle_wheels.canonicalize_name(w.name.split("-")[0]) == name]
        assert wheels, f"no downloaded wheel of {name} in {bundle_wheels.FETCHED}: run `make bundle-test-wheels`"
        for wheel in wheels:
            if not (wheelhouse / wheel.name).exists():
                shutil.copyfile(wheel, wheelhouse / wheel.name)
    size = sum(p.stat().st_size for p in wheelhouse.iterdir()) / 1e6
    print(f"\nwheelhouse of {len(list(wheelhouse.iterdir()))} wheels ({', '.join(sorted(foreign))} downloaded), "
          f"{size:.0f} MB, in {time.perf_counter() - started:.0f} s")
    lock = home / "requirements.lock"
    lock.write_text(bundle_wheels.lock_entries(names))
    yield home, wheelhouse, lock
    shutil.rmtree(home, ignore_errors=True)  # about 2 GB: wheels, archive, unpacked bundle, its venv


def offline(cmd, cwd):
    """Run ``cmd`` in a new network namespace where only loopback is up, with an empty
    uv cache of its own: the bundle must be enough, with no help from this machine."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UV_CACHE_DIR": str(Path(cwd).parent / "uv-cache")}
    env.pop("VIRTUAL_ENV", None)
    # An attendee's laptop writes bytecode as it imports; with PYTHONDONTWRITEBYTECODE
    # (set on some CI images) each doctor run here compiled scikit-learn and pandas again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(["unshare", "--net", "--", "bash", "-c", 'ip link set lo up && exec "$@"', "_", *cmd],
                          cwd=cwd, capture_output=True, text=True, env=env)


def make_bundle(home, wheelhouse, lock, out):
    made = subprocess.run([sys.executable, "-m", "mlecourse.course.cli", "bundle", "--wheelhouse", str(wheelhouse),
                           "--lock", str(lock), "--no-site", "--no-slides", "--allow-dirty", "--target", "linux-x86_64-py3.11",
                           "--out", str(out)], capture_output=True, text=True)
    return made


def installed_version(python, name):
    return subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
                          capture_output=True, text=True).stdout.strip()


def test_bundle_installs_offline_with_two_patch_levels_and_the_doctor_repairs_a_broken_package(subset, pythons):
    home, wheelhouse, lock = subset
    made = make_bundle(home, wheelhouse, lock, home / "out")
    assert made.returncode == 0, made.stderr
    archive = next((home / "out").glob("mlecourse-bundle-*.zip"))
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert {f"{archive.stem}/START-HERE.txt", f"{archive.stem}/install.py",
            f"{archive.stem}/requirements.lock"} <= set(names)
    assert any(n.startswith(f"{archive.stem}/exercises/") for n in names)
    assert any(n.startswith(f"{archive.stem}/data/") for n in names)
    assert not any(n.startswith((f"{archive.stem}/solutions/", f"{archive.stem}/instructors/")) for n in names)

    envs = list(pythons.values())
    foreign = bundle_wheels.foreign_pins(envs, bundle_wheels.subset_names(envs))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(home / "unzipped")
    for python, env in pythons.items():  # each attendee has the unzipped bundle on their own laptop
        folder = home / f"attendee-{env['python_full_version']}" / archive.stem
        shutil.copytree(home / "unzipped" / archive.stem, folder, copy_function=os.link)  # 500 MB: links
        started = time.perf_counter()
        installed = offline([python, "install.py"], folder)
        seconds = time.perf_counter() - started
        assert installed.returncode == 0, (python, installed.stdout[-3000:] + installed.stderr[-3000:])
        assert "All good: you are ready." in installed.stdout and "✗" not in installed.stdout
        venv_python = folder / ".venv" / "bin" / "python"
        for name in foreign:  # the pin the lock chose for this interpreter, not the first one seen
            assert installed_version(venv_python, name) == bundle_wheels.selected(env)[name], (python, name)
        print(f"bundle {archive.stat().st_size / 1e6:.0f} MB; Python {env['python_full_version']}: "
              f"offline install + doctor {seconds:.0f} s")

    # Break two packages: one uninstalled, one with a file deleted (its metadata still says installed).
    python = folder / ".venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "uv", "pip", "uninstall", "--python", str(python), "joblib"],
                   check=True, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "matplotlib" / "pyplot.py").unlink()
    broken = site / "matplotlib" / "__init__.py"
    broken.unlink()  # a new file, not a write through uv's hard link into its cache
    broken.write_text("raise ImportError('broken on purpose')\n")
    doctor = offline([str(python), "-m", "mlecourse.course.cli", "doctor"], folder)
    assert doctor.returncode == 1 and "joblib missing" in doctor.stdout and "matplotlib" in doctor.stdout
    advice = [line for line in doctor.stdout.splitlines() if "fix:" in line]
    assert advice and all("mlecourse doctor --fix" in line for line in advice[:2])

    started = time.perf_counter()
    repaired = offline([str(python), "-m", "mlecourse.course.cli", "doctor", "--fix"], folder)
    print(f"doctor --fix {time.perf_counter() - started:.0f} s")
    assert repaired.returncode == 0, repaired.stdout[-3000:] + repaired.stderr[-2000:]
    again = offline([str(python), "-m", "mlecourse.course.cli", "doctor"], folder)
    assert again.returncode == 0 and "All good" in again.stdout, again.stdout

    # A deleted data file: the bundle is no git clone, so the advice is to regenerate it, and it works.
    (folder / "data" / "loans.csv.gz").unlink()
    doctor = offline([str(python), "-m", "mlecourse.course.cli", "doctor"], folder)
    advice = next(line for line in doctor.stdout.splitlines() if "fix:" in line)
    assert "git" not in advice and "python -m mlecourse.lender.data generate" in advice, doctor.stdout
    regenerated = offline([str(python), "-m", "mlecourse.lender.data", "generate"], folder)
    assert regenerated.returncode == 0, regenerated.stderr
    again = offline([str(python), "-m", "mlecourse.course.cli", "doctor"], folder)
    assert again.returncode == 0 and "All good" in again.stdout, again.stdout


def test_a_wheelhouse_missing_a_package_stops_in_one_line(subset, tmp_path):
    home, wheelhouse, lock = subset
    partial = tmp_path / "wheelhouse"
    shutil.copytree(wheelhouse, partial, copy_function=os.link)  # 500 MB: link, not copy
    next(partial.glob("joblib-*.whl")).unlink()
    result = subprocess.run([sys.executable, "-m", "mlecourse.course.cli", "bundle", "--wheelhouse", str(partial),
                             "--lock", str(lock), "--no-site", "--no-slides", "--allow-dirty", "--target", "linux-x86_64-py3.11",
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "lacks joblib==" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.zip"))


def test_a_wheelhouse_with_one_patch_level_s_pins_only_is_refused(subset, pythons, tmp_path):
    """The wheels for Python 3.11.0-3.11.4 alone used to pass; 3.11.5 and newer then failed to install."""
    home, wheelhouse, lock = subset
    envs = list(pythons.values())
    name = sorted(bundle_wheels.foreign_pins(envs, bundle_wheels.subset_names(envs)))[0]
    newest = max(envs, key=lambda env: bundle.Version(env["python_full_version"]))
    partial = tmp_path / "wheelhouse"
    shutil.copytree(wheelhouse, partial, copy_function=os.link)  # 500 MB: link, not copy
    version = bundle_wheels.selected(newest)[name]
    for wheel in partial.glob("*.whl"):
        if bundle_wheels.canonicalize_name(wheel.name.split("-")[0]) == name and wheel.name.split("-")[1] == version:
            wheel.unlink()
    result = make_bundle(home, partial, lock, tmp_path / "out")
    assert result.returncode == 2 and f"lacks {name}=={version} for linux-x86_64-py3.11 (Python 3.11." in result.stderr


def test_a_dirty_tree_is_refused(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "notes.md").write_text("uncommitted")
    monkeypatch.setattr(bundle, "ROOT", tmp_path)
    assert bundle.dirty(tmp_path) == ["notes.md"]
    assert bundle.main(["--no-site", "--no-slides", "--wheelhouse", str(tmp_path)]) == 2


def test_wheel_tags_serve_the_right_platforms():
    from packaging.tags import parse_tag
    linux, mac = bundle.TARGETS["linux-x86_64-py3.12"], bundle.TARGETS["macos-arm64-py3.11"]
    assert linux.accepts(parse_tag("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"))
    assert linux.accepts(parse_tag("cp39-abi3-manylinux_2_28_x86_64")) and linux.accepts(parse_tag("py3-none-any"))
    assert not linux.accepts(parse_tag("cp311-cp311-manylinux_2_17_x86_64"))
    assert linux.accepts(parse_tag("cp36-abi3-manylinux2010_x86_64"))
    assert not linux.accepts(parse_tag("cp312-cp312-manylinux_2_39_x86_64"))  # needs a newer glibc
    assert mac.accepts(parse_tag("cp311-cp311-macosx_11_0_arm64"))
    assert not mac.accepts(parse_tag("cp311-cp311-macosx_10_9_x86_64"))


def test_hashes_are_read_per_version_from_the_lock(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("contourpy==1.3.3 ; python_full_version < '3.12' \\\n    --hash=sha256:aaa \\\n"
                    "    --hash=sha256:bbb\ncontourpy==1.4.0 ; python_full_version >= '3.12' \\\n"
                    "    --hash=sha256:ccc\n")
    known = bundle.hashes(lock)
    assert bundle._with_hashes("contourpy==1.3.3", known) == "contourpy==1.3.3 --hash=sha256:aaa --hash=sha256:bbb"
    assert bundle._with_hashes("contourpy==1.4.0", known) == "contourpy==1.4.0 --hash=sha256:ccc"
    assert [str(r) for r in bundle.pins(lock)] == ['contourpy==1.3.3; python_full_version < "3.12"',
                                                    'contourpy==1.4.0; python_full_version >= "3.12"']


def test_the_bundle_carries_the_checks_references_and_the_guide_says_so(tmp_path):
    """A deliberate choice: the checks run offline on the attendee's laptop, so their
    reference answers ship with them; the instructor guide tells instructors so."""
    bundle.course_files(ROOT, tmp_path, with_solutions=False)
    checks = sorted((tmp_path / "src" / "mlecourse" / "checks").glob("ch[0-9][0-9]_*.py"))
    # the capstone's check computes the case's truths from its data instead of holding references
    assert checks and all("def ref_" in path.read_text() or "def reference_submission" in path.read_text()
                          for path in checks)
    assert "def reference_submission" in (tmp_path / "src/mlecourse/checks/ch11_capstone.py").read_text()
    assert not (tmp_path / "solutions").exists() and not (tmp_path / "instructors").exists()
    guide = (ROOT / "instructors" / "guide.md").read_text()
    assert "**The bundle holds the checks' reference answers.**" in guide and "`ref_duplicates`" in guide
    assert "`reference_submission`" in guide


def test_each_target_resolves_every_patch_range_its_markers_name(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("soupsieve==2.10 ; python_full_version < '3.11.5'\n"
                    "soupsieve==4.1.3 ; python_full_version >= '3.11.5'\n"
                    "numpy==2.4.6 ; python_full_version < '3.12'\nnumpy==2.5.5 ; python_full_version >= '3.12'\n"
                    "pywin32==312 ; sys_platform == 'win32'\n")
    linux311, linux312 = bundle.TARGETS["linux-x86_64-py3.11"], bundle.TARGETS["linux-x86_64-py3.12"]
    found = {r.first: r.pins for r in linux311.resolutions(bundle.pins(lock))}
    assert found == {"3.11.0": ("numpy==2.4.6", "soupsieve==2.10"), "3.11.5": ("numpy==2.4.6", "soupsieve==4.1.3")}
    assert [r.pins for r in linux312.resolutions(bundle.pins(lock))] == [("numpy==2.5.5", "soupsieve==4.1.3")]
    assert "pywin32==312" in bundle.TARGETS["windows-amd64-py3.11"].resolutions(bundle.pins(lock))[0].pins
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for name in ("soupsieve-2.10-py3-none-any.whl", "numpy-2.4.6-cp311-cp311-manylinux_2_17_x86_64.whl"):
        (wheelhouse / name).write_bytes(b"")
    assert bundle.missing_wheels(lock, wheelhouse, [linux311]) == [
        "soupsieve==4.1.3 for linux-x86_64-py3.11 (Python 3.11.5+)"]


def test_a_compiled_source_only_pin_built_here_serves_this_machine_s_target_alone():
    """llama-cpp-python is published as source only: the wheel built on the instructor's
    machine goes into the wheelhouse for that machine's target, never for another."""
    import platform as host
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheel = f"llama_cpp_python-0.3.36-{here}-{here}-linux_{host.machine()}.whl"
    mine = bundle.TARGETS.get(f"linux-{host.machine()}-py{sys.version_info.major}.{sys.version_info.minor}")
    assert mine is not None and sys.platform == "linux"
    assert bundle._serves(wheel, mine)
    assert not bundle._serves(wheel, bundle.TARGETS["macos-arm64-py3.11"])
    other = "3.12" if mine.python == "3.11" else "3.11"
    assert not bundle._serves(wheel, bundle.TARGETS[f"linux-x86_64-py{other}"])
    assert mine.accepts(packaging.utils.parse_wheel_filename(wheel)[3])  # missing_wheels counts it
