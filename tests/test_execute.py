"""The executor runs a notebook once and leaves it where the book build finds
it; a failure, a timeout or a stray stderr line names the notebook and cell."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlecourse.course import execute, glue_check


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(execute, "RUNNING_DIR", tmp_path / "running")
    return tmp_path / "cache"


def notebook(folder, name, *sources, markdown="Some prose."):
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=[new_markdown_cell(markdown)] + [new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells[1].metadata["tags"] = ["remove-cell"]
    path = folder / name
    nbformat.write(nb, path)
    return path


GLUE = "from myst_nb import glue\nglue('answer', 6 * 7, display=False)"


def test_a_clean_notebook_is_stored_under_the_key_the_book_build_looks_up(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "ok.ipynb", "x = 2", GLUE, "print(x)")
    run = execute.execute(path)
    assert run.error is None and run.cached
    assert [c for c, _ in run.cells] == [2, 3, 4] and run.wall > 0
    # What myst-nb does in `execute_notebooks: cache` mode, on the committed file:
    from jupyter_cache import get_cache

    committed = nbformat.read(path, as_version=4)
    _, merged = get_cache(str(cache)).merge_match_into_notebook(committed)
    assert merged.cells[3].outputs[0]["text"] == "2\n"
    assert merged.cells[1].metadata == {"tags": ["remove-cell"]}  # no timings: the key matched
    glued = [o for o in merged.cells[2].outputs if "scrapbook" in o.get("metadata", {})]
    assert glued[0]["data"]["application/papermill.record/text/plain"] == "42"
    assert execute.is_cached(path)


def test_a_markdown_edit_keeps_the_cached_run_but_a_code_edit_does_not(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "nb.ipynb", "x = 1")
    execute.execute(path)
    notebook(tmp_path / "chapters", "nb.ipynb", "x = 1", markdown="Other prose.")
    assert execute.is_cached(path)
    notebook(tmp_path / "chapters", "nb.ipynb", "x = 2")
    assert not execute.is_cached(path)


def test_a_change_to_the_course_code_or_data_makes_the_cached_run_stale(tmp_path, cache, monkeypatch):
    path = notebook(tmp_path / "chapters", "nb.ipynb", "x = 1")
    execute.execute(path)
    monkeypatch.setattr(execute, "inputs_fingerprint", lambda: "something else")
    assert not execute.is_cached(path)


def test_a_failing_cell_is_named_and_nothing_is_stored(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "bad.ipynb", "x = 1", "1 / 0  # the culprit")
    run = execute.execute(path)
    assert "bad.ipynb: cell 3 (`1 / 0  # the culprit`) failed" in run.error
    assert "ZeroDivisionError" in run.error
    assert not run.cached and not execute.is_cached(path)


def test_a_cell_that_runs_too_long_is_named_with_what_to_do(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "slow.ipynb", "import time\ntime.sleep(30)")
    run = execute.execute(path, timeout=2)
    assert "slow.ipynb: cell 2 (`import time`) ran longer than 2 s" in run.error
    assert "MLECOURSE_CELL_TIMEOUT=4" in run.error and "make test" in run.error
    assert not execute.is_cached(path)


def test_output_on_stderr_fails_as_it_would_fail_the_book(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "noisy.ipynb", "import sys\nsys.stderr.write('careful\\n')")
    run = execute.execute(path)
    assert "cell(s) [2] wrote to stderr" in run.error and not run.cached


def test_a_workbook_kernel_is_told_what_its_checks_must_say(tmp_path, cache, monkeypatch):
    from jupyter_cache import get_cache

    monkeypatch.setenv("MPLBACKEND", "Agg")  # as on CI machines: the kernel must not inherit it
    code = "import os\nprint(os.environ.get('MLECOURSE_EXPECT'), os.environ.get('MPLBACKEND') == 'Agg')"
    for folder, expected in (("solutions", "correct False"), ("exercises", "not_attempted False"),
                             ("chapters", "None False")):
        path = notebook(tmp_path / folder, "w.ipynb", code)
        assert execute.execute(path).error is None
        committed = nbformat.read(path, as_version=4)
        assert not committed.cells[1].outputs  # the committed file is never written
        _, merged = get_cache(str(cache)).merge_match_into_notebook(committed)
        assert merged.cells[1].outputs[0]["text"] == expected + "\n"


def test_the_cell_timeout_can_be_raised_but_not_garbled(monkeypatch):
    monkeypatch.setenv(execute.TIMEOUT_ENV, "600")
    assert execute.cell_timeout() == 600
    monkeypatch.setenv(execute.TIMEOUT_ENV, "ten minutes")
    with pytest.raises(SystemExit, match="not a number of seconds"):
        execute.cell_timeout()


def test_the_book_notebooks_are_the_tocs_chapters_and_workbooks():
    names = [p.relative_to(execute.ROOT).as_posix() for p in execute.book_notebooks()]
    assert "chapters/02_meet_the_data.ipynb" in names and "solutions/02_meet_the_data.ipynb" in names
    assert not any(n.startswith("exercises/") for n in names)


def test_glue_check_finds_a_changed_value_and_lets_a_measured_one_pass(tmp_path):
    def build(folder, **values):
        (folder / "chapters").mkdir(parents=True)
        glue = {k: {"output_type": "display_data", "data": {"text/plain": v},
                    "metadata": {"scrapbook": {"name": k}}} for k, v in values.items()}
        (folder / "chapters" / "c.glue.json").write_text(json.dumps(glue))
        return folder

    old = build(tmp_path / "old", n_rows="61089", p50_ms="12.1")
    same = build(tmp_path / "same", n_rows="61089", p50_ms="13.4")
    changed = build(tmp_path / "changed", n_rows="61090", p50_ms="12.1")
    assert glue_check.main([str(old), str(same), "--noise", str(same)]) == 0
    assert glue_check.main([str(old), str(same)]) == 1
    assert glue_check.main([str(old), str(changed), "--measured", "p50_ms"]) == 1
    assert glue_check.glued_values(old) == {"chapters/c.ipynb:n_rows": "61089", "chapters/c.ipynb:p50_ms": "12.1"}


def _dies_while_starting(monkeypatch, times):
    """NotebookClient.execute failing as a kernel does that dies before its first reply."""
    real, calls = execute.NotebookClient.execute, []

    def flaky(self, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(self, **kwargs)

    monkeypatch.setattr(execute.NotebookClient, "execute", flaky)
    return calls


def test_a_kernel_that_dies_while_starting_is_started_again(tmp_path, cache, monkeypatch):
    calls = _dies_while_starting(monkeypatch, times=1)
    path = notebook(tmp_path / "chapters", "ok.ipynb", "x = 2", "print(x)")
    run = execute.execute(path)
    assert run.error is None and run.cached and len(calls) == 2


def test_a_kernel_that_never_starts_is_reported_not_retried_forever(tmp_path, cache, monkeypatch):
    calls = _dies_while_starting(monkeypatch, times=99)
    path = notebook(tmp_path / "chapters", "ok.ipynb", "x = 2")
    run = execute.execute(path)
    assert len(calls) == execute.START_RETRIES + 1 and not run.cached
    assert "chapters/ok.ipynb" in run.error or "ok.ipynb" in run.error
    assert "the kernel did not start" in run.error and "make doctor" in run.error


def test_a_kernel_that_dies_in_a_cell_is_the_notebooks_failure(tmp_path, cache):
    path = notebook(tmp_path / "chapters", "dies.ipynb", "import os\nos._exit(1)")
    run = execute.execute(path)
    assert "kernel died during cell 2" in run.error and not run.cached
