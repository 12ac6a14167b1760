"""Data validation as code: check a batch of applications before anything uses it.

A batch arrives (a month of new loans for training, a file of applications to
score). :func:`validate_batch` splits it into rows that may be used and rows
held back for someone to look at, and writes a report with one line per
problem. Its rules come from the same constants the feature pipeline and the
model service use (:data:`mlecourse.lender.features.RAW_FEATURES`, ``RANGES`` and
``CATEGORIES``), so there is one definition of a valid application.

What happens to a batch
-----------------------
* **Rows are quarantined, never dropped.** A row with an impossible value
  (an age of 199, an income of -5, a channel nobody has heard of, text in a
  number column) goes to ``quarantined`` with its reasons in ``problems``.
  Rows in = rows accepted + rows quarantined, always; the function asserts it.
* **Some problems are about the whole batch**, and then the whole batch is
  rejected: every row goes to quarantine, because the rows that pass the
  row checks cannot be trusted either. A batch is rejected when

  - it is empty (an upstream job probably failed), or a column the model
    needs is missing, or a column's values cannot be read as its type at all;
  - more than ``Policy.max_quarantined_share`` of its rows fail a row check
    (one bad row is a typo; a fifth of the batch is a broken system);
  - a systemic change shows in a distribution: the median of an amount
    (income, loan amount, debt) is more than ``Policy.scale_factor`` times
    away from training's, or a column is missing far more often than in
    training. Row checks alone cannot see these: an income recorded in
    thousands (42 instead of 42,000) is a perfectly valid positive number.

* **A row counts once.** A row equal to an earlier one (a batch loaded
  twice) is quarantined; so is a row equal to an earlier one in everything
  but its id (:data:`ID_COLUMNS`): the same applicant asking for the same
  loan on the same day, stored twice because a client retried a request
  that timed out and the intake gave the retry a new id.
* **Nothing raises** for a malformed batch (wrong types, missing or extra
  columns, NaN, inf, text): every problem is reported. Only something that is
  not a DataFrame at all is a programming error (``TypeError``).

A category never seen in training (a new ``channel``) is a row problem (the
model would encode it as "none of the known channels" without a word) and is
also named once at batch level, so that someone decides what it means.

Labels
------
Every check above looks at the applications, none at the outcomes. A batch
whose labels were scrambled (a join on the wrong key, a shifted column) passes
them all. :func:`check_labels` asks the question they cannot: do the labels
still relate to the inputs as before? A model whose AUC was recorded must
rank the new labels about as well, within the sampling error of an AUC on
that many rows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from mlecourse.lender.features import CATEGORIES, CATEGORICAL, INTEGERS, NUMERIC, OPTIONAL, RANGES, RAW_FEATURES, TERMS

# Amounts whose scale a broken upstream system can change (units, thousands, cents).
SCALE_COLUMNS = ("annual_income", "loan_amount", "monthly_debt")
# Columns that name a row rather than say something about it: two rows equal in all
# the rest are one application stored twice, whatever their ids.
ID_COLUMNS = ("application_id",)
PROBLEM_COLUMNS = ["level", "column", "check", "value", "row"]


@dataclass(frozen=True)
class Policy:
    """When a batch is rejected as a whole. The defaults are the course's choices."""
    max_quarantined_share: float = 0.05  # a normal month has about 1% bad rows
    scale_factor: float = 5.0  # batch median vs training median, either way
    max_missing_increase: float = 0.10  # share of missing values, above training's
    min_rows_for_distribution: int = 50  # below this, medians are too noisy to judge


POLICY = Policy()


@dataclass(frozen=True)
class Reference:
    """What training data looked like: medians of the amounts and missing shares.

    Build it from the training rows with :meth:`from_frame`; it is small and
    JSON-friendly (:meth:`to_dict`), so it can be saved next to the model.
    """
    medians: dict[str, float] = field(default_factory=dict)
    missing: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Reference":
        medians = {c: float(frame[c].median()) for c in SCALE_COLUMNS if c in frame}
        missing = {c: float(frame[c].isna().mean()) for c in RAW_FEATURES if c in frame}
        return cls(medians, missing)

    def to_dict(self) -> dict:
        return {"medians": dict(self.medians), "missing": dict(self.missing)}

    @classmethod
    def from_dict(cls, data: dict) -> "Reference":
        return cls(dict(data.get("medians", {})), dict(data.get("missing", {})))


@dataclass
class BatchReport:
    """The outcome of :func:`validate_batch`.

    ``accepted`` and ``quarantined`` are rows of the batch, unchanged, with
    their original index; ``problems`` has one row per problem (``level`` is
    "batch" or "row"; ``row`` is the batch's index label, empty for a batch
    problem); ``reasons`` says why the batch was rejected, if it was.
    """
    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    problems: pd.DataFrame
    reasons: list[str]

    @property
    def rejected(self) -> bool:
        return bool(self.reasons)

    @property
    def rows_in(self) -> int:
        return len(self.accepted) + len(self.quarantined)

    def summary(self) -> str:
        verdict = "REJECTED" if self.rejected else "accepted"
        text = (f"batch {verdict}: {self.rows_in} rows in, {len(self.accepted)} accepted, "
                f"{len(self.quarantined)} quarantined, {len(self.problems)} problems")
        return "\n".join([text, *(f"  - {reason}" for reason in self.reasons)])

    def __repr__(self) -> str:
        return self.summary()


def _bounds_check(column: str) -> list[pa.Check]:
    low, high = RANGES[column]
    checks = [pa.Check(lambda s: s.isna() | np.isfinite(s), name="finite")]
    if low is not None:
        checks.append(pa.Check.ge(low))
    if high is not None:
        checks.append(pa.Check.le(high))
    if column in INTEGERS:
        checks.append(pa.Check(lambda s: s.isna() | (s == np.round(s)), name="whole_number"))
    if column == "loan_term_months":
        checks.append(pa.Check.isin(TERMS))
    return checks


def batch_schema() -> pa.DataFrameSchema:
    """The pandera schema of one application, built from the feature constants.

    Numbers are validated after :func:`validate_batch` has read them as
    floats; extra columns are allowed (a batch carries ids and dates too).
    """
    columns = {c: pa.Column("float64", checks=_bounds_check(c), nullable=c in OPTIONAL)
               for c in NUMERIC}
    columns |= {c: pa.Column(None, checks=pa.Check.isin(CATEGORIES[c]), nullable=c in OPTIONAL)
                for c in CATEGORICAL}
    return pa.DataFrameSchema(columns, strict=False, name="loan application")


def _problem(level: str, column, check: str, value=None, row=None) -> dict:
    return {"level": level, "column": column, "check": check, "value": value, "row": row}


def _read_numbers(values: pd.Series) -> pd.Series:
    """Values as float64; anything that is not a number becomes NaN."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values) \
            or pd.api.types.is_timedelta64_dtype(values):
        return pd.Series(np.nan, index=values.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")

    def number(value):
        if isinstance(value, (bool, np.bool_)) or value is None:
            return np.nan
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return np.nan
    return pd.Series([number(v) for v in values], index=values.index, dtype="float64")


def _duplicated(frame: pd.DataFrame) -> np.ndarray:
    """Rows equal to an earlier row; cells that cannot be hashed (lists) compare as text."""
    try:
        return frame.duplicated().to_numpy()
    except TypeError:
        return frame.astype(str).duplicated().to_numpy()


def _is_missing(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v is None or (isinstance(v, float) and math.isnan(v))
                      or v is pd.NA or v is pd.NaT).astype(bool)


@dataclass
class _Findings:
    """What the stages of :func:`validate_batch` found: problems, reasons to reject, bad rows."""
    labels: list
    problems: list[dict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    bad_row: np.ndarray = None

    def __post_init__(self):
        self.bad_row = np.zeros(len(self.labels), dtype=bool)

    def batch(self, column, check, value=None, reason=None) -> None:
        self.problems.append(_problem("batch", column, check, value))
        if reason:
            self.reasons.append(reason)

    def row(self, position: int, column, check, value=None) -> None:
        self.problems.append(_problem("row", column, check, value, self.labels[position]))
        self.bad_row[position] = True


def _check_structure(work: pd.DataFrame, found: _Findings) -> pd.DataFrame:
    """Duplicated column names, an empty batch, missing columns. Returns usable columns."""
    for name in work.columns[work.columns.duplicated()].unique():
        found.batch(name, "column appears more than once", reason=f"column {name!r} appears more than once")
    work = work.loc[:, ~work.columns.duplicated()]
    if not len(work):
        found.batch(None, "batch is empty", reason="the batch is empty: did an upstream job fail?")
    missing = [c for c in RAW_FEATURES if c not in work.columns]
    for column in missing:
        found.batch(column, "column is missing")
    if missing:
        found.reasons.append(f"{len(missing)} required column(s) missing: {', '.join(missing)}")
    return work


def _read_columns(work: pd.DataFrame, found: _Findings) -> tuple[pd.DataFrame, list[str]]:
    """The features as the schema expects them: numbers as floats, the rest as text.

    A value that is not a number quarantines its row; a column with no
    number at all is a batch problem. Returns the typed frame and the
    columns that could be read.
    """
    typed, readable = pd.DataFrame(index=work.index), []
    for column in [c for c in RAW_FEATURES if c in work.columns]:
        raw = work[column]
        if column in NUMERIC:
            numbers = _read_numbers(raw)
            unreadable = (numbers.isna() & ~_is_missing(raw)).to_numpy()
            if len(raw) and unreadable.all():
                found.batch(column, "values are not numbers", raw.iloc[0],
                            reason=f"column {column!r} cannot be read as numbers (e.g. {raw.iloc[0]!r})")
                typed[column] = numbers
                continue
            for position in np.flatnonzero(unreadable):
                found.row(position, column, "not a number", raw.iloc[position])
            typed[column] = numbers
        else:  # anything that is not text is shown as text, and fails the category check
            missing = _is_missing(raw).to_numpy()
            typed[column] = pd.Series([None if gone else value if isinstance(value, str) else repr(value)
                                       for value, gone in zip(raw, missing)], index=raw.index, dtype=object)
        readable.append(column)
    return typed, readable


def _check_rows(typed: pd.DataFrame, columns: list[str], found: _Findings) -> None:
    """Run the pandera schema on the readable columns; each failure quarantines its row."""
    if not len(typed) or not columns:
        return
    try:
        batch_schema().select_columns(columns).validate(typed[columns], lazy=True)
    except pa.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples(index=False):
            position = case.index
            if position is None or (isinstance(position, float) and math.isnan(position)):
                found.batch(case.column, str(case.check), case.failure_case,
                            reason=f"{case.column}: {case.check}")
                continue
            position = int(position)
            if found.bad_row[position] and case.column in NUMERIC and pd.isna(typed.at[position, case.column]):
                continue  # already reported as "not a number"
            found.row(position, case.column, str(case.check), case.failure_case)


def _check_duplicates(work: pd.DataFrame, found: _Findings) -> None:
    """Rows equal to an earlier row, and rows equal to one in everything but the id (a retry)."""
    if not len(work) or not len(work.columns):
        return
    exact = _duplicated(work)
    content = [c for c in work.columns if c not in ID_COLUMNS]
    under_new_id = (_duplicated(work[content]) & ~exact if content and len(content) < len(work.columns)
                    else np.zeros(len(work), bool))
    for position in np.flatnonzero(exact & ~found.bad_row):
        found.row(position, None, "duplicate of an earlier row")
    for position in np.flatnonzero(under_new_id & ~found.bad_row):
        found.row(position, ID_COLUMNS[0], "duplicate of an earlier row under another id")


def _name_unseen_categories(typed: pd.DataFrame, found: _Findings) -> None:
    """Categories never seen in training: named once for the whole batch (their rows fail the schema)."""
    for column in [c for c in CATEGORICAL if c in typed]:
        values = typed[column]
        unseen = values[values.notna() & ~values.isin(CATEGORIES[column])].astype(str)
        if len(unseen):
            names = list(unseen.value_counts().index)
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            found.batch(column, f"{len(names)} value(s) never seen in training, on {len(unseen)} row(s)", shown)


def _check_systemic(typed: pd.DataFrame, reference: Reference | None, policy: Policy,
                    found: _Findings) -> None:
    """Too many bad rows, or a distribution far from training's: the batch is suspect as a whole."""
    share = found.bad_row.mean()
    if share > policy.max_quarantined_share:
        found.reasons.append(f"{share:.1%} of rows failed a row check "
                             f"(more than {policy.max_quarantined_share:.0%}): a systemic problem?")
    if reference is not None and len(typed) >= policy.min_rows_for_distribution:
        found.reasons.extend(_distribution_problems(typed, reference, policy, found.problems))


def validate_batch(batch: pd.DataFrame, reference: Reference | None = None,
                   policy: Policy = POLICY) -> BatchReport:
    """Split ``batch`` into accepted and quarantined rows and report every problem.

    ``reference`` (from the training rows) enables the distribution checks;
    without it only row and structure checks run. ``batch`` is not changed.
    A batch with any reason to reject it is quarantined whole.
    """
    if not isinstance(batch, pd.DataFrame):
        raise TypeError(f"validate_batch needs a pandas DataFrame, got {type(batch).__name__}")
    found = _Findings(labels=list(batch.index))
    work = _check_structure(batch.reset_index(drop=True), found)  # positions, whatever the index
    typed, readable = _read_columns(work, found)
    _check_rows(typed, readable, found)
    _check_duplicates(work, found)
    _name_unseen_categories(typed, found)
    if len(batch) and not found.reasons:  # the structure is sound: look for systemic problems
        _check_systemic(typed, reference, policy, found)
    accepted_mask = ~found.bad_row if not found.reasons else np.zeros(len(batch), dtype=bool)
    accepted = batch.iloc[np.flatnonzero(accepted_mask)]
    quarantined = batch.iloc[np.flatnonzero(~accepted_mask)]
    assert len(accepted) + len(quarantined) == len(batch), "validate_batch lost or duplicated rows"
    table = pd.DataFrame({c: pd.Series([p[c] for p in found.problems], dtype=object) for c in PROBLEM_COLUMNS})
    return BatchReport(accepted, quarantined, table, found.reasons)


def _distribution_problems(typed: pd.DataFrame, reference: Reference, policy: Policy,
                           problems: list[dict]) -> list[str]:
    """Batch-level checks that compare the batch with the training data."""
    reasons = []
    for column, expected in reference.medians.items():
        if column not in typed or not expected or expected <= 0:
            continue
        median = typed[column].median()
        if pd.isna(median) or median <= 0:
            continue
        ratio = median / expected
        if ratio > policy.scale_factor or ratio < 1 / policy.scale_factor:
            problems.append(_problem("batch", column, "median far from training's", float(median)))
            reasons.append(f"median {column} is {median:,.4g}, training's is {expected:,.4g} "
                           f"(x{ratio:.3g}): a unit or scale changed upstream?")
    for column, expected in reference.missing.items():
        if column not in typed:
            continue
        share = float(typed[column].isna().mean())
        if share > expected + policy.max_missing_increase:
            problems.append(_problem("batch", column, "missing far more often than in training", share))
            reasons.append(f"{column} is missing on {share:.0%} of rows, {expected:.1%} in training")
    return reasons


# --- the labels ------------------------------------------------------------------------

# How often a sound batch may be refused: the tolerance below is this many standard
# errors of an AUC (3.1 of them), a rate of false alarms a team chooses, not a distance in AUC.
LABEL_FALSE_ALARM = 0.001


@dataclass(frozen=True)
class LabelCheck:
    """The outcome of :func:`check_labels`: ``auc`` on the new labels against ``floor``."""
    passed: bool
    auc: float
    floor: float
    recorded: float | None  # the AUC recorded before; None: judged against chance (0.5)
    rows: int
    standard_errors: float

    def __str__(self) -> str:
        if math.isnan(self.auc):
            return f"nothing: {self.rows:,} rows hold one outcome only, so no AUC can be measured"
        against = ("above chance (0.5)" if self.recorded is None
                   else f"below the recorded {self.recorded:.3f}")
        return (f"AUC {self.auc:.3f} on {self.rows:,} rows; floor {self.floor:.3f}, "
                f"{self.standard_errors:.1f} standard errors {against}")


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """The standard error of an AUC measured on ``positives`` and ``negatives`` rows.

    Hanley and McNeil (1982): the AUC is a Mann-Whitney statistic, and its
    variance follows from the AUC itself and the two counts.
    """
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc ** 2)
                + (negatives - 1) * (q2 - auc ** 2)) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))


def _counts(y: np.ndarray, weights: np.ndarray | None) -> tuple[float, float]:
    """Positives and negatives; with weights, their effective numbers (Kish: (sum w)^2 / sum w^2),
    since a few heavy rows carry less information than as many rows of weight one."""
    if weights is None:
        return float((y == 1).sum()), float((y == 0).sum())
    def effective(w):
        return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) else 0.0
    return effective(weights[y == 1]), effective(weights[y == 0])


def check_labels(labels, scores, recorded_auc: float | None = None,
                 false_alarm: float = LABEL_FALSE_ALARM, weights=None) -> LabelCheck:
    """Do ``labels`` still relate to the inputs as they did when ``recorded_auc`` was measured?

    ``scores`` come from a model whose AUC was ``recorded_auc`` (rows with a
    missing score are left out). The new AUC may fall below the recorded one
    by sampling error only. With nothing recorded (``None``), the weaker
    question is asked: do the scores rank the labels better than chance?
    ``weights`` (one per row; e.g. the inverse chance that a row's outcome is
    known) weigh the AUC, and its error counts effective rows.
    """
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    keep = np.isfinite(s) & np.isfinite(y)
    w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    y, s = y[keep], s[keep]
    positives, negatives = _counts(y, w)
    z = float(norm.isf(false_alarm))
    recorded = None if recorded_auc is None else float(recorded_auc)
    if positives == 0 or negatives == 0:  # no AUC to measure: the labels cannot be right
        return LabelCheck(False, float("nan"), float("nan"), recorded, len(y), z)
    auc = float(roc_auc_score(y, s, sample_weight=w))
    if recorded is None:
        # Chance is exact; only the new AUC varies: its error under "labels unrelated".
        floor = 0.5 + z * auc_standard_error(0.5, positives, negatives)
    else:
        # Two estimates of the same AUC, each with the error of this many rows (the recorded
        # one's rows are not at hand): their difference has sqrt(2) times one's error.
        floor = recorded - z * math.sqrt(2) * auc_standard_error(recorded, positives, negatives)
    return LabelCheck(bool(auc >= floor), auc, float(floor), recorded, len(y), z)
