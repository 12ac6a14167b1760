"""The leading indicator was added without changing any value of the old columns."""
import gzip
import hashlib

import pandas as pd
import pytest

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data.loading import load_loans
from mlecourse.paths import DATA_DIR

# SHA-256 of the uncompressed text of the 22 original columns, header included,
# as the file held them before early_delinquency was added (commit a59c76c).
OLD_COLUMNS_SHA256 = "7e827a92c0b1f59fb2d1c9ade32d8c8d5d53e8c28cf88eb0f36894fa4bd6a8b3"
OLD_COLUMN_COUNT = 22


@pytest.fixture(scope="module")
def raw():
    return load_loans()


def test_every_old_column_is_byte_identical():
    digest = hashlib.sha256()
    with gzip.open(DATA_DIR / "loans.csv.gz", "rt", newline="") as lines:
        for line in lines:  # no field holds a comma
            digest.update((",".join(line.rstrip("\n").split(",")[:OLD_COLUMN_COUNT]) + "\n").encode())
    assert digest.hexdigest() == OLD_COLUMNS_SHA256


def test_new_columns_come_last(raw):
    assert tuple(raw.columns[-2:]) == ("early_delinquency", "early_delinquency_known_date")
    # a new stage goes after the others in the seeds: the capstone's two came after this one
    assert spec.STAGES[-3:] == ("early_delinquency", "partner", "retries")


def test_known_three_months_after_application(raw):
    delay = pd.DateOffset(months=spec.EARLY_WINDOW_MONTHS)
    assert (raw["early_delinquency_known_date"] == raw["application_date"] + delay).all()
    assert (raw["early_delinquency_known_date"] < raw["outcome_known_date"]).all()


def test_it_is_a_leading_indicator_not_the_label(raw):
    by_outcome = raw.groupby("defaulted")["early_delinquency"].mean()
    assert 0.3 < by_outcome[1] < 0.5 and by_outcome[0] < 0.05
    # it rises with the downturn, as the default rate does
    month = raw["application_date"].dt.to_period("M")
    rate = raw.groupby(month)["early_delinquency"].mean()
    before = rate[(rate.index >= pd.Period("2022-01", "M")) & (rate.index < pd.Period("2023-01", "M"))]
    after = rate[rate.index >= pd.Period("2023-07", "M")]
    assert after.mean() > before.mean() + 0.02
