"""Which loans a retraining may learn from, and which it is judged on, as of a date.

On a given day a lender knows the outcome of a loan only once it has
*matured* (``outcome_known_date`` on or before that day): a year after the
application here. So a model retrained on ``as_of`` learns from matured
cohorts only, and the newest of them are a year old.

:func:`cohorts` cuts the matured loans in two, by application date:

* the **evaluation cohort**: the newest ``eval_months`` months of matured
  loans, on which a candidate and the serving model are compared. Nothing
  else uses them: not training, not early stopping, not the choice of model;
* the **training window**: the matured loans before that cohort, either all
  of them (*expanding*, ``train_months=None``) or the last ``train_months``
  months (*rolling*). A rolling window forgets, which pays when old data
  misleads (a world that changed); an expanding one remembers, which pays
  while it does not.

:func:`fixed` is the course's teaching split instead (train 2019-2020,
evaluate 2021), for a run with no date.
"""
from __future__ import annotations

import pandas as pd

from mlecourse.lender import features

EVAL_MONTHS = 6  # the evaluation cohort: six months of matured loans (about 4,500 here)
TRAIN_MONTHS = None  # None: every matured loan before the cohort (expanding); a number: rolling
KNOWN = "outcome_known_date"
LABEL_DELAY = 12  # months from an application to its outcome, in the lender's data


class WindowError(ValueError):
    """The data has no window to train or evaluate on as of that date; the message says why."""


class Windows(tuple):
    """(training window, evaluation cohort), with the date they are as of: unpacks as a pair."""

    def __new__(cls, train: pd.DataFrame, evaluate: pd.DataFrame, as_of: str | None = None):
        pair = super().__new__(cls, (train, evaluate))
        pair.as_of = as_of
        return pair

    def __getnewargs__(self):  # pickled (by an orchestrator) with its date
        return (self[0], self[1], self.as_of)

    @property
    def train(self) -> pd.DataFrame:
        return self[0]

    @property
    def evaluate(self) -> pd.DataFrame:
        return self[1]

    def summary(self) -> dict:
        """The windows as plain data: for a report, a run's parameters, a model card."""
        def span(frame: pd.DataFrame) -> tuple[str, str]:
            dates = frame[features.DATE]
            return str(dates.min().date()), str(dates.max().date())
        (tf, tl), (ef, el) = span(self.train), span(self.evaluate)
        return {"as_of": self.as_of or "fixed split", "train_first": tf, "train_last": tl,
                "train_rows": len(self.train), "evaluate_first": ef, "evaluate_last": el,
                "evaluate_rows": len(self.evaluate)}

    def __str__(self) -> str:
        s = self.summary()
        return (f"train {s['train_first']} to {s['train_last']} ({s['train_rows']:,} loans), evaluate "
                f"{s['evaluate_first']} to {s['evaluate_last']} ({s['evaluate_rows']:,}), as of {s['as_of']}")


def matured(frame: pd.DataFrame, as_of) -> pd.DataFrame:
    """The loans whose outcome was known on ``as_of``."""
    if KNOWN not in frame:
        raise WindowError(f"the data has no {KNOWN} column: cannot tell which outcomes were known")
    return frame[frame[KNOWN] <= pd.Timestamp(as_of)]


def cohorts(frame: pd.DataFrame, as_of, *, train_months: int | None = TRAIN_MONTHS,
            eval_months: int = EVAL_MONTHS) -> Windows:
    """The training window and evaluation cohort of a retraining on ``as_of`` (see the module)."""
    if eval_months < 1 or (train_months is not None and train_months < 1):
        raise WindowError(f"windows need at least a month: eval_months={eval_months}, "
                          f"train_months={train_months}")
    day = pd.Timestamp(as_of)
    known = matured(frame, day)
    if known.empty:
        raise WindowError(f"no outcome had matured by {day.date()}: nothing to learn from yet")
    newest = known[features.DATE].max().to_period("M")
    start = (newest - eval_months + 1).start_time
    evaluate = known[known[features.DATE] >= start]
    train = known[known[features.DATE] < start]
    if train_months is not None:
        train = train[train[features.DATE] >= start - pd.DateOffset(months=train_months)]
    if train.empty:
        raise WindowError(f"as of {day.date()}, every matured loan falls in the evaluation cohort "
                          f"(from {start.date()}): none is left to train on")
    return Windows(train, evaluate, str(day.date()))


def fixed(frame: pd.DataFrame) -> Windows:
    """The course's teaching split: train on 2019-2020, evaluate on 2021."""
    train, evaluate, _test = features.split_by_date(frame)
    return Windows(train, evaluate, None)


def months_after(frame: pd.DataFrame, as_of, last_used) -> int:
    """How many months of matured loans ``as_of`` holds after ``last_used`` (a date): new evidence."""
    known = matured(frame, as_of)
    newer = known.loc[known[features.DATE] > pd.Timestamp(last_used), features.DATE]
    return int(newer.dt.to_period("M").nunique())
