"""Whatever a learner passes, a check answers in one line and never raises:
a traceback into the course's code is never the learner's feedback."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlecourse.checks import grade, registry


def raising(*args, **kwargs):
    raise RuntimeError("my bug")


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
answers = st.one_of(
    scalars,
    st.lists(scalars, max_size=5),
    st.dictionaries(st.text(max_size=5), scalars, max_size=4),
    st.lists(st.floats(allow_nan=True), max_size=8).map(pd.Series),
    st.lists(st.floats(allow_nan=True), max_size=8).map(lambda v: pd.DataFrame({"x": v})),
    st.lists(st.integers(-5, 5), max_size=6).map(np.array),
    st.sampled_from([raising, lambda *a, **k: None, lambda *a, **k: "text",
                     lambda *a, **k: pd.DataFrame(), lambda *a, **k: a[0] if a else None]),
)


@pytest.mark.parametrize("ex_id", registry())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=answers)
def test_any_answer_gets_a_one_line_verdict(ex_id, answer):
    result = grade(ex_id, answer)
    assert result.outcome in {"correct", "incorrect", "not attempted"}
    assert "\n" not in result.line()
