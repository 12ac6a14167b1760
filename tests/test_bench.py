"""The benchmarks say what machine they ran on, and flag what is over budget."""
import pytest

from mlecourse.course import bench, calibration, execute


def test_the_calibration_work_is_fixed_and_reported_three_ways():
    assert calibration.python_loop() == calibration.python_loop()
    assert calibration.numpy_kernel() == calibration.numpy_kernel()
    cal = calibration.Calibration(python_s=0.3, numpy_s=0.2, load=(1.0, 0.5, 0.25), cpus=2, cpu_model="x")
    assert cal.unit == pytest.approx(0.5) and cal.times(10.0) == pytest.approx(20.0)
    assert cal.figure(10.0, 8.0) == "10.0 s, 8.0 s CPU, 20.0 units"
    assert "load average 1.00 0.50 0.25" in cal.line() and "2 CPUs" in cal.line()


def test_calibrate_measures_this_machine():
    cal = calibration.calibrate()
    assert cal.python_s > 0 and cal.numpy_s > 0 and cal.cpus >= 1


def test_a_notebook_or_cell_over_budget_is_flagged_and_a_failure_named():
    cal = calibration.Calibration(0.05, 0.05, (0, 0, 0), 2, "x")  # a unit of 0.1 s: 270 units are 27 s
    fine = execute.Run("chapters/a.ipynb", wall=20.0, cpu=15.0, cells=[(2, 1.0), (5, 4.4)])
    slow_cell = execute.Run("chapters/b.ipynb", wall=20.0, cpu=15.0, cells=[(3, 4.6)])
    slow = execute.Run("chapters/c.ipynb", wall=27.5, cpu=25.0, cells=[(3, 2.0)])
    failed = execute.Run("chapters/d.ipynb", wall=1.0, error="boom")
    assert bench.row(fine, cal) == (bench.row(fine, cal)[0], False)
    assert "OVER BUDGET" not in bench.row(fine, cal)[0] and " 5 " in bench.row(fine, cal)[0]
    assert bench.row(slow_cell, cal)[1] and "OVER BUDGET" in bench.row(slow_cell, cal)[0]
    assert bench.row(slow, cal)[1]
    assert "FAILED" in bench.row(failed, cal)[0]


def test_only_the_capstone_s_solution_has_a_budget_of_its_own():
    assert bench.NOTEBOOK_UNITS_FOR == {"solutions/11_capstone.ipynb": 2 * bench.NOTEBOOK_UNITS}
    assert bench.notebook_budget("exercises/11_capstone.ipynb") == bench.NOTEBOOK_UNITS
    assert bench.notebook_budget("chapters/11_capstone.ipynb") == bench.NOTEBOOK_UNITS
    cal = calibration.Calibration(0.05, 0.05, (0, 0, 0), 2, "x")
    capstone = execute.Run("solutions/11_capstone.ipynb", wall=50.0, cpu=40.0, cells=[(3, 4.0)])
    assert not bench.row(capstone, cal)[1]  # 500 units: within its 540
    assert bench.row(execute.Run("solutions/04_model_development.ipynb", wall=50.0, cpu=40.0,
                                 cells=[(3, 4.0)]), cal)[1]  # 500 units: over any other's 270
    assert bench.row(execute.Run("solutions/11_capstone.ipynb", wall=55.0, cpu=40.0, cells=[(3, 4.0)]), cal)[1]


def test_an_unknown_notebook_gets_one_line_saying_what_to_give():
    with pytest.raises(SystemExit, match="is not a notebook of the course"):
        bench.main(["chapters/no_such_chapter.ipynb"])


def test_bench_service_hands_its_options_to_the_load_test(monkeypatch, capsys):
    from mlecourse.lender.serving import loadtest

    seen = []
    monkeypatch.setattr(loadtest, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.setattr(calibration, "calibrate", lambda: calibration.Calibration(0.5, 0.5, (0, 0, 0), 2, "x"))
    assert bench.main(["--service", "--single-requests", "40", "--in-process"]) == 0
    assert seen == [["--single-requests", "40", "--in-process"]]
    out = capsys.readouterr().out
    assert out.startswith("calibration: ") and "bench-service: " in out and "units" in out


def test_bench_book_edits_prose_only_so_the_rebuild_executes_nothing(tmp_path):
    import shutil

    import nbformat

    from mlecourse.paths import CHAPTERS_DIR

    (tmp_path / "chapters").mkdir()
    original = sorted(CHAPTERS_DIR.glob("01_*.ipynb"))[0]
    shutil.copy(original, tmp_path / "chapters" / original.name)
    name = bench.edit_one_markdown_cell(tmp_path)
    before = nbformat.read(original, as_version=4)
    after = nbformat.read(tmp_path / name, as_version=4)
    assert [c.source for c in before.cells if c.cell_type == "code"] == \
           [c.source for c in after.cells if c.cell_type == "code"]
    changed = [(a.source, b.source) for a, b in zip(before.cells, after.cells) if a.source != b.source]
    assert len(changed) == 1 and changed[0][1] == changed[0][0] + f"\n\n{bench.EDITED}"
