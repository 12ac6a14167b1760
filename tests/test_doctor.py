"""`make doctor` passes on this environment and fails, with a fix, on a broken one."""
import importlib.metadata as md
import subprocess
import sys

from mlecourse.course import doctor
from mlecourse.paths import ROOT


def test_doctor_passes_here():
    run = subprocess.run([sys.executable, "-m", "mlecourse.course.doctor"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    assert "✓  Packages" in run.stdout and "paste this block" in run.stdout


def test_old_python_fails_with_a_fix():
    finding = doctor.check_python((3, 10, 12))
    assert not finding.ok and "3.11" in finding.fix


def test_pins_apply_markers_for_this_python():
    pins = doctor.pinned(ROOT / "requirements.lock")
    assert pins["jupyter-book"].startswith("1.") and "numpy" in pins


def fake_installed(versions):
    def installed(name):
        if name not in versions:
            raise md.PackageNotFoundError(name)
        return versions[name]
    return installed


def test_missing_and_mismatched_packages_are_named():
    pins = {"alpha": "1.2.0", "beta": "2.0", "gamma": "1.0.4"}
    finding = doctor.check_packages(pins, fake_installed({"alpha": "1.10.0", "gamma": "1.0.4.post1"}))
    assert not finding.ok
    assert "beta missing" in finding.detail and "alpha 1.10.0 (pinned 1.2.0)" in finding.detail
    assert "gamma" not in finding.detail  # a post-release of the pin is compatible


def test_version_comparison_is_numeric_not_textual():
    finding = doctor.check_packages({"alpha": "1.10.0"}, fake_installed({"alpha": "1.9.0"}))
    assert not finding.ok


def test_kernel_of_this_environment_passes():
    finding = doctor.check_kernel()
    assert finding.ok, finding.detail


def test_kernel_pointing_to_another_python_fails_with_a_fix():
    finding = doctor.check_kernel("/venv/bin/python", lookup=lambda: ("/usr/bin/python3.9", "/k"))
    assert not finding.ok and "/k" in finding.fix


def test_a_failure_makes_the_report_say_so_and_exit_nonzero(monkeypatch, capsys):
    bad = doctor.Finding("Data files", False, "data/loans.csv.gz is missing", "git checkout -- data/")
    monkeypatch.setattr(doctor, "run_all", lambda: [doctor.check_python(), bad])
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "✗  Data files" in out and "1 check(s) failed" in out and "FAIL Data files" in out


def test_the_advice_fits_where_the_course_is(tmp_path):
    """A bundle is no git clone and has no `make setup`: its advice must work there."""
    bundle_folder, clone = tmp_path / "bundle", tmp_path / "clone"
    (bundle_folder / "wheelhouse").mkdir(parents=True)
    (bundle_folder / "install.py").write_text("")
    (clone / ".git").mkdir(parents=True)
    assert doctor.place(bundle_folder) == "bundle" and doctor.place(clone) == "clone"
    assert doctor.place(tmp_path) == "folder"
    loans_gone = ["data/loans.csv.gz is missing; restore it with `git checkout -- data/loans.csv.gz` ..."]
    assert "git checkout -- data/" in doctor.data_fix(loans_gone, "clone")
    for where in ("bundle", "folder"):
        assert doctor.data_fix(loans_gone, where) == doctor.REGENERATE
        # The generator writes the loans only: a report file comes back from the zip.
        assert "extract data/ again" in doctor.data_fix(["data/report/market.csv is missing; ..."], where)
    assert "make setup" in doctor.package_fix("clone") and "make setup" not in doctor.package_fix("bundle")
    assert "wheelhouse" in doctor.package_fix("bundle")


def test_a_deleted_data_file_is_reported_without_the_clone_only_advice(monkeypatch, tmp_path):
    from mlecourse.lender.data import loading
    monkeypatch.setattr(loading, "verify_checksums", lambda: ["data/loans.csv.gz is missing; restore it with "
                                                               "`git checkout -- data/loans.csv.gz` or ..."])
    finding = doctor.check_data("bundle")
    assert not finding.ok and finding.detail == "data/loans.csv.gz is missing" and "git" not in finding.fix


def test_the_troubleshooting_page_gives_the_doctor_s_own_advice():
    page = (ROOT / "appendices" / "troubleshooting.md").read_text()
    assert "`git checkout -- data/`" in page  # what data_fix says in a clone
    assert doctor.REGENERATE.split("`")[1] in page  # and in a bundle
    assert "extract `data/` from the bundle's zip again" in page
    for case in ("soupsieve", "Python 3.11 or newer", "No space left on device", "doctor --fix"):
        assert case in page, case
    setup = (ROOT / "appendices" / "setup.md").read_text()
    assert "{doc}`troubleshooting`" in setup
