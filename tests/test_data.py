"""The case-study data: reproducible, intact, and with every documented property.

Every chapter leans on these properties (a drift the monitoring chapter finds,
a bias the fairness chapter measures), so each one is checked here at the size
``data/README.md`` states. ``tests/test_datasheet.py`` holds every number of
the datasheet to the data.
"""
from __future__ import annotations

import gzip
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import roc_auc_score

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data.loading import (CHECKSUMS_FILE, LOANS_FILE, DataFileError, data_files, labels_known_at,
                            load_loans, read_checksums, verify_checksums, write_checksums,
                            write_loans)
from mlecourse.paths import DATA_DIR


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return load_loans()


@pytest.fixture(scope="module")
def loans(raw) -> pd.DataFrame:
    """Without the duplicated batch: rates are measured on distinct applications."""
    return raw.drop_duplicates()


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    """The simulated truth behind the records (true scores, true probabilities)."""
    return spec.simulate()


def month(frame: pd.DataFrame) -> pd.Series:
    return frame["application_date"].dt.strftime("%Y-%m")


def usable_income(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose income is a real, positive income in currency units."""
    return frame[(frame["annual_income"] > 0) & (month(frame) != spec.INCIDENT_MONTH)]


# --- reproducible and intact ---------------------------------------------------

def test_regenerating_gives_the_committed_file(raw, tmp_path):
    fresh = spec.generate_loans()  # its speed is `make bench`'s business, not a test's
    path = write_loans(fresh, tmp_path / LOANS_FILE)
    pd.testing.assert_frame_equal(load_loans(path, verify=False), raw)
    # The CSV inside is the same byte for byte. (The gzip wrapper can differ
    # with another zlib build, which is why the committed file is the reference.)
    assert gzip.decompress(path.read_bytes()) == gzip.decompress((DATA_DIR / LOANS_FILE).read_bytes())


def test_the_committed_data_files_verify():
    assert verify_checksums() == []


def test_checksums_cover_every_data_file_in_sha256sum_format():
    lines = (DATA_DIR / CHECKSUMS_FILE).read_text().splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S.*", line) for line in lines), lines
    listed = set(read_checksums())
    assert listed == {p.relative_to(DATA_DIR).as_posix() for p in data_files()}
    assert LOANS_FILE in listed and "README.md" not in listed


@pytest.fixture
def data_copy(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


RESTORE_ADVICE = ("git checkout -- data/loans.csv.gz", "python -m mlecourse.lender.data generate")


def test_a_corrupt_file_is_named_with_how_to_restore_it(data_copy):
    path = data_copy / LOANS_FILE
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    [problem] = verify_checksums(data_copy)
    assert "data/loans.csv.gz" in problem and all(advice in problem for advice in RESTORE_ADVICE)
    with pytest.raises(ValueError) as error:
        load_loans(path)
    assert isinstance(error.value, DataFileError)
    assert "data/loans.csv.gz" in str(error.value)
    assert all(advice in str(error.value) for advice in RESTORE_ADVICE)


def test_an_unreadable_file_says_the_same_even_unverified(data_copy):
    path = data_copy / LOANS_FILE
    path.write_bytes(path.read_bytes()[:5000])  # a truncated download
    with pytest.raises(DataFileError, match="data/loans.csv.gz") as error:
        load_loans(path, verify=False)
    assert all(advice in str(error.value) for advice in RESTORE_ADVICE)


def test_a_missing_file_is_named_with_how_to_restore_it(data_copy):
    (data_copy / LOANS_FILE).unlink()
    [problem] = verify_checksums(data_copy)
    assert problem.startswith("data/loans.csv.gz is missing")
    assert all(advice in problem for advice in RESTORE_ADVICE)
    with pytest.raises(FileNotFoundError) as error:
        load_loans(data_copy / LOANS_FILE)
    assert isinstance(error.value, DataFileError)
    assert all(advice in str(error.value) for advice in RESTORE_ADVICE)


def test_an_unlisted_file_is_reported_and_rewriting_the_sums_lists_it(data_copy):
    extra = data_copy / "report" / "new_figure.csv"
    extra.parent.mkdir(exist_ok=True)
    extra.write_text("a,b\n1,2\n")
    (data_copy / "report" / "README.md").write_text("not a data file\n")
    [problem] = verify_checksums(data_copy)
    assert "data/report/new_figure.csv is not listed" in problem
    write_checksums(data_copy)
    assert "report/new_figure.csv" in read_checksums(data_copy)
    assert "report/README.md" not in read_checksums(data_copy)
    assert verify_checksums(data_copy) == []


# --- the shape of the data -----------------------------------------------------

def test_columns_and_types(raw):
    assert tuple(raw.columns) == spec.COLUMNS
    assert raw["application_date"].dtype == "datetime64[us]"
    assert raw["outcome_known_date"].dtype == "datetime64[us]"
    for column in ("application_id", "customer_id", "region", "ethnicity", "neighbourhood"):
        assert pd.api.types.is_string_dtype(raw[column]), column
    for column in ("age", "loan_term_months", "num_credit_lines", "previous_defaults", "defaulted"):
        assert raw[column].dtype == "int64", column
    assert raw["application_id"].str.fullmatch(r"A\d{7}").all()
    assert raw["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert raw["application_date"].min() == pd.Timestamp(spec.START_DATE)
    assert raw["application_date"].max() == pd.Timestamp(spec.END_DATE)
    assert 55_000 <= len(raw) <= 62_000
    assert set(raw["defaulted"]) == {0, 1}


def test_base_rate_and_drifted_years(loans):
    rate = loans.groupby(loans["application_date"].dt.year)["defaulted"].mean()
    assert rate.loc[2019:2022].between(0.08, 0.12).all()
    assert rate.loc[2023] > rate.loc[2022] + 0.03 and rate.loc[2024] > rate.loc[2023] + 0.02


def test_some_customers_come_back(loans):
    repeats = loans["customer_id"].value_counts()
    assert 500 < (repeats > 1).sum() < 3000
    again = loans[loans["customer_id"].duplicated(keep=False)]
    assert (again.groupby("customer_id")["ethnicity"].nunique() == 1).all()
    assert (again.groupby("customer_id")["neighbourhood"].nunique() == 1).all()


# --- missing values: not at random -----------------------------------------------

def test_missing_values_are_where_the_datasheet_says(loans):
    missing = loans.isna().mean()
    assert 0.05 < missing["employment_years"] < 0.07
    assert 0.04 < missing["credit_score"] < 0.06
    assert 0.015 < missing["annual_income"] < 0.025
    assert 0.007 < missing["home_ownership"] < 0.013
    by_job = loans.groupby("employment_type")["employment_years"].apply(lambda s: s.isna().mean())
    assert by_job["self_employed"] > 2.5 * by_job["salaried"]
    # thin files: no credit line, no score; and they are young
    assert (loans["credit_score"].isna() == (loans["num_credit_lines"] == 0)).all()
    assert loans.loc[loans["credit_score"].isna(), "age"].median() < 25
    by_channel = loans.groupby("channel")["annual_income"].apply(lambda s: s.isna().mean())
    assert by_channel["broker"] > 2 * by_channel["branch"]


# --- bad records: exact counts ----------------------------------------------------

def test_duplicated_batch(raw):
    assert raw.duplicated().sum() == spec.DUPLICATE_ROWS
    assert raw["application_id"].duplicated().sum() == spec.DUPLICATE_ROWS
    copies = raw[raw.duplicated(keep=False)]
    numbers = copies["application_id"].str[1:].astype(int).unique()
    assert len(numbers) == spec.DUPLICATE_ROWS and np.ptp(numbers) == spec.DUPLICATE_ROWS - 1


def test_impossible_ages(raw):
    impossible = (raw["age"] < 18) | (raw["age"] > 100)
    assert impossible.sum() == spec.IMPOSSIBLE_AGE_COUNT
    assert set(raw.loc[impossible, "age"]) <= set(spec.IMPOSSIBLE_AGES)


def test_nonpositive_incomes(raw):
    assert (raw["annual_income"] <= 0).sum() == spec.NONPOSITIVE_INCOME_COUNT


def test_region_typos(raw):
    typos = raw.loc[~raw["region"].isin(spec.REGIONS), "region"]
    assert len(typos) == spec.REGION_TYPO_COUNT
    variants = {v for vs in spec.REGION_TYPOS.values() for v in vs}
    assert set(typos) <= variants and {"North", "NORTH", "nrth", " south"} <= set(typos)


def test_loan_amount_outliers(raw):
    assert (raw["loan_amount"] > spec.MAX_LOAN_AMOUNT).sum() == spec.LOAN_AMOUNT_OUTLIER_COUNT


# --- the incident ---------------------------------------------------------------

def test_the_incident_month_has_incomes_in_thousands(loans, world):
    median = loans[loans["annual_income"] > 0].groupby(month(loans))["annual_income"].median()
    neighbours = median.loc[["2022-09", "2022-11"]].mean()
    assert 0.0008 < median.loc[spec.INCIDENT_MONTH] / neighbours < 0.0012
    others = median.drop(spec.INCIDENT_MONTH)
    assert others.min() > 100 * median.loc[spec.INCIDENT_MONTH]
    # the employment type went missing that month only
    lost = loans["employment_type"].isna()
    assert set(month(loans[lost])) == {spec.INCIDENT_MONTH}
    assert lost[month(loans) == spec.INCIDENT_MONTH].mean() == pytest.approx(
        spec.INCIDENT_EMPLOYMENT_MISSING, abs=0.005)
    # only the record broke: the true incomes, and so the outcomes, are normal
    truth = world.groupby(month(world))["annual_income"].median()
    assert 0.8 < truth.loc[spec.INCIDENT_MONTH] / truth.loc[["2022-09", "2022-11"]].mean() < 1.2


# --- drift ------------------------------------------------------------------------

def test_covariate_drift(loans):
    ok = usable_income(loans)
    before = ok[ok["application_date"].between("2021-01-01", "2022-12-31")]
    after = ok[ok["application_date"] >= spec.COVARIATE_DRIFT_START]
    drop = 1 - after["annual_income"].median() / before["annual_income"].median()
    assert round(100 * drop, 1) == 13.8  # as documented: 13.8% lower
    online = lambda f: (f["channel"] == "online").mean()  # noqa: E731
    cards = lambda f: (f["loan_purpose"] == "credit_card").mean()  # noqa: E731
    assert online(after) > online(before) + 0.15
    assert cards(after) > cards(before) + 0.05
    # a jump at the date, not a slow slide: compare the months either side
    dec, jan = (ok[month(ok) == m] for m in ("2022-12", "2023-01"))
    assert online(jan) > online(dec) + 0.10


def test_concept_drift_shows_in_the_labels_not_the_features(loans, world):
    h1 = loans[loans["application_date"].between(spec.COVARIATE_DRIFT_START, "2023-06-30")]
    h2 = loans[loans["application_date"] >= spec.CONCEPT_DRIFT_START]
    assert h2["defaulted"].mean() > h1["defaulted"].mean() + 0.04
    # the same kind of applicants before and after: the drift is in P(default | features)
    assert usable_income(h2)["annual_income"].median() == pytest.approx(
        usable_income(h1)["annual_income"].median(), rel=0.03)
    assert (h2["channel"] == "online").mean() == pytest.approx((h1["channel"] == "online").mean(), abs=0.03)
    # the same loans, had they been applied for before the downturn
    post = world[world["application_date"] >= spec.CONCEPT_DRIFT_START]
    before = 1 / (1 + np.exp(-spec.true_log_odds(post.assign(application_date=pd.Timestamp("2023-06-30")))))
    rise = post["default_probability"].mean() - before.mean()
    assert round(100 * rise, 1) == 5.2  # as documented: +5.2 points


# --- historical bias and the proxy -----------------------------------------------

def test_recorded_scores_are_lower_for_minority_applicants(loans, world):
    score = loans.groupby("ethnicity")["credit_score"].mean()
    assert score["majority"] - score["minority"] == pytest.approx(spec.BIAS_SCORE_PENALTY, abs=3)
    gap = (world["true_credit_score"] - world["credit_score"]).groupby(world["ethnicity"]).mean()
    assert gap["minority"] == pytest.approx(spec.BIAS_SCORE_PENALTY, abs=0.5)
    assert gap["majority"] == pytest.approx(0, abs=0.5)
    truth = world.groupby("ethnicity")["true_credit_score"].mean()
    assert truth["majority"] == pytest.approx(truth["minority"], abs=3)


def test_legacy_pricing_charged_minority_applicants_more(loans):
    d = loans[loans["credit_score"].notna()]
    x = pd.get_dummies(d[["loan_term_months", "loan_purpose", "channel"]].astype(str), drop_first=True)
    x = x.assign(credit_score=d["credit_score"], previous=d["previous_defaults"].clip(upper=3),
                 minority=d["ethnicity"] == "minority").astype(float)
    fit = LinearRegression().fit(x, d["interest_rate"])
    premium = fit.coef_[list(x.columns).index("minority")]
    assert premium == pytest.approx(spec.BIAS_RATE_PREMIUM, abs=0.05)


def test_the_price_raised_minority_defaults(loans, world):
    # at equal true creditworthiness (the fair price), the gap would vanish
    by_group = world.groupby("ethnicity")[["default_probability", "fair_default_probability"]].mean()
    extra = by_group["default_probability"] - by_group["fair_default_probability"]
    assert extra["majority"] == 0
    assert round(100 * extra["minority"], 1) == 1.5  # as documented: +1.5 points
    assert (by_group.loc["minority", "fair_default_probability"]
            == pytest.approx(by_group.loc["majority", "fair_default_probability"], abs=0.005))
    observed = loans.groupby("ethnicity")["defaulted"].mean()
    assert round(100 * (observed["minority"] - observed["majority"]), 1) == 1.6


def test_neighbourhood_is_a_proxy_for_ethnicity(loans):
    minority = loans["ethnicity"] == "minority"
    share = minority.groupby(loans["neighbourhood"]).mean()
    top5 = share.nlargest(5).index
    assert set(top5) == set(spec.MINORITY_DISTRICTS)
    assert round(100 * loans.loc[minority, "neighbourhood"].isin(top5).mean(), 1) == 64.4
    auc = roc_auc_score(minority, loans["neighbourhood"].map(share))
    assert round(auc, 3) == 0.784


# --- label delay ------------------------------------------------------------------

def test_outcomes_are_known_after_the_label_delay(raw, loans):
    delay = pd.DateOffset(months=spec.LABEL_DELAY_MONTHS)
    assert (raw["outcome_known_date"] == raw["application_date"] + delay).all()
    assert (raw["outcome_known_date"] > raw["application_date"]).all()
    assert raw["outcome_known_date"].max() <= pd.Timestamp(spec.SNAPSHOT_DATE)
    known = labels_known_at(loans, "2024-06-30")
    assert (known["outcome_known_date"] <= pd.Timestamp("2024-06-30")).all()
    assert known["application_date"].max() <= pd.Timestamp("2023-06-30")
    assert len(labels_known_at(loans, spec.SNAPSHOT_DATE)) == len(loans)
    assert labels_known_at(loans, "2019-12-31").empty
