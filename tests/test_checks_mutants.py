"""The hidden cases of every check reach the edges of each rule: each exercise
that declares ``mutate=`` (or hand-made ``mutants=``) has its reference mutated
one change at a time (a `<` made `<=`, a bound of `between` left out, a
pydantic `ge=` made `gt=`, a `float` field narrowed to `int`, a lower-casing
added), and its check must reject every mutant that behaves differently on valid
input. A mutant the exercise declares equivalent must really be accepted.

Also here: answers rounded as a person would round them are accepted, and no
workbook exercise rebinds a name its setup defines."""
import ast
import json

import pytest

from mlecourse import paths
from mlecourse.checks import grade, registry
from mlecourse.checks.mutants import mutants_of

EXERCISES = registry()


def _all_mutants(ex):
    made = mutants_of(ex.mutate) if ex.mutate is not None else []
    return made, ex.mutants


def _answer(ex, mutant):
    built = mutant.make()
    return built() if ex.mutate_call else built


SURVIVORS_TO_KILL = [(ex_id, m.name) for ex_id, ex in EXERCISES.items()
                     for m in _all_mutants(ex)[0] if m.name not in ex.equivalent]
EQUIVALENTS = [(ex_id, name) for ex_id, ex in EXERCISES.items() for name in ex.equivalent]
HAND_MADE = [(ex_id, i) for ex_id, ex in EXERCISES.items() for i in range(len(ex.mutants))]
ROUNDED = [(ex_id, i) for ex_id, ex in EXERCISES.items() for i in range(len(ex.rounded))]


def _mutant(ex_id, name):
    return next(m for m in _all_mutants(EXERCISES[ex_id])[0] if m.name == name)


@pytest.mark.parametrize("ex_id,name", SURVIVORS_TO_KILL)
def test_check_rejects_the_mutant(ex_id, name):
    ex = EXERCISES[ex_id]
    result = grade(ex_id, _answer(ex, _mutant(ex_id, name)))
    assert result.outcome == "incorrect", (
        f"{ex_id}: the mutant {name} passes the check. Add a hidden case on that edge, or, if it "
        f"behaves as the reference on every valid input, declare it in `equivalent=` with why.")


@pytest.mark.parametrize("ex_id,name", EQUIVALENTS)
def test_a_declared_equivalent_mutant_exists_and_is_accepted(ex_id, name):
    ex = EXERCISES[ex_id]
    names = [m.name for m in _all_mutants(ex)[0]]
    assert name in names, f"{ex_id} declares {name!r} equivalent, but its mutants are {names}"
    assert ex.equivalent[name].strip(), "say why the mutant behaves as the reference"
    assert grade(ex_id, _answer(ex, _mutant(ex_id, name))).outcome == "correct"


@pytest.mark.parametrize("ex_id,index", HAND_MADE)
def test_check_rejects_the_hand_made_mutant(ex_id, index):
    make, what = EXERCISES[ex_id].mutants[index]
    result = grade(ex_id, make())
    assert result.outcome == "incorrect", f"{ex_id}: a mutant that {what} passes the check"


def test_mutation_reaches_the_function_exercises():
    declared = [ex_id for ex_id, ex in EXERCISES.items() if ex.mutate is not None or ex.mutants]
    assert {"1.4", "1.5", "1.7", "2.4", "2.6", "3.2", "3.5", "4.3", "5.2", "5.5", "8.2", "8.3", "8.5", "8.7",
            "10.3", "10.6"} <= set(declared)
    for ex_id in declared:
        made, hand = _all_mutants(EXERCISES[ex_id])
        assert made or hand, f"{ex_id} declares mutation but no mutant can be made"


@pytest.mark.parametrize("ex_id,index", ROUNDED)
def test_an_answer_rounded_as_a_person_would_is_accepted(ex_id, index):
    result = grade(ex_id, EXERCISES[ex_id].rounded[index]())
    assert result.outcome == "correct", result.line()


# --- workbooks: an exercise never rebinds a name the setup defines ---------

def _code_cells(path):
    notebook = json.loads(path.read_text())
    return [("".join(c["source"]), c.get("metadata", {}).get("tags", []))
            for c in notebook["cells"] if c["cell_type"] == "code"]


def _bound(source):
    """Names a cell binds at its top level (assignments, defs, classes, imports)."""
    names = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:     # a magic (%time) in a cell: the suite's notebook run covers it
        return names
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _setup_and_rest(path):
    cells = _code_cells(path)
    # the first code cell is the course's notebook setup; the next is the workbook's own setup
    setup = set().union(*(_bound(source) for source, _ in cells[:2]))
    return setup, cells[2:]


WORKBOOKS = sorted(paths.ROOT.joinpath("solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_no_exercise_rebinds_a_name_from_the_setup(path):
    setup, rest = _setup_and_rest(path)
    clashes = {name: source.splitlines()[0] for source, _ in rest
               for name in _bound(source) & setup}
    assert not clashes, f"{path.name}: these cells rebind names the setup defines: {clashes}"


def test_the_rebinding_detector_sees_a_def_over_a_frame():
    assert _bound("def train(rows):\n    return rows") & {"train"} == {"train"}
    assert _bound("train = 1\nfrom x import y as train") == {"train"}
