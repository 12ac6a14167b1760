"""The capstone's data: reproducible, checked like the history, and holding each event of its
scenario at the size the generator says (the instructor notes state them; the learner finds them).

The history's own file must not move when the scenario code is added: ``tests/test_data.py``
regenerates it byte for byte; here the capstone's file is regenerated the same way.
"""
from __future__ import annotations

import gzip
import shutil

import pandas as pd
import pytest

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data import validation
from mlecourse.lender.data.loading import (CAPSTONE_FILE, CHECKSUMS_FILE, DataFileError, labels_known_at,
                                           load_loans, read_checksums, verify_checksums, write_loans)
from mlecourse.paths import DATA_DIR

SCENARIO = spec.CAPSTONE
PARTNER, SHOCK = SCENARIO.partner, SCENARIO.shock


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return load_loans(CAPSTONE_FILE)


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    return spec.simulate(scenario="capstone")


def month(frame: pd.DataFrame) -> pd.Series:
    return frame["application_date"].dt.strftime("%Y-%m")


def test_regenerating_gives_the_committed_file(raw, tmp_path):
    path = write_loans(spec.generate_loans(scenario="capstone"), tmp_path / "loans.csv.gz")
    pd.testing.assert_frame_equal(load_loans(path, verify=False), raw)
    assert gzip.decompress(path.read_bytes()) == gzip.decompress(CAPSTONE_FILE.read_bytes())


def test_its_checksums_sit_beside_it_and_in_the_data_folder_s():
    beside = read_checksums(CAPSTONE_FILE.parent)
    assert list(beside) == ["loans.csv.gz"]
    assert read_checksums(DATA_DIR)["capstone/loans.csv.gz"] == beside["loans.csv.gz"]
    assert verify_checksums() == []


def test_a_damaged_capstone_file_is_named_with_how_to_restore_it(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    path = copy / "capstone" / "loans.csv.gz"
    content = bytearray(path.read_bytes())
    content[len(content) // 3] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(DataFileError) as error:
        load_loans(path)
    assert "data/capstone/loans.csv.gz" in str(error.value)
    assert "data/capstone/SHA256SUMS" in str(error.value)
    assert "python -m mlecourse.lender.data generate" in str(error.value)
    [problem] = verify_checksums(copy)  # named once, though two SHA256SUMS list it
    assert problem.startswith("data/capstone/loans.csv.gz has changed")
    (copy / "capstone" / CHECKSUMS_FILE).unlink()
    with pytest.raises(DataFileError, match="data/capstone/SHA256SUMS is missing"):
        load_loans(path)


def test_the_same_columns_and_types_as_the_history(raw):
    assert tuple(raw.columns) == spec.COLUMNS
    assert raw["application_date"].min() == pd.Timestamp(SCENARIO.start)
    assert raw["application_date"].max() == pd.Timestamp(SCENARIO.end)
    assert raw["application_id"].is_unique and raw["application_id"].str.fullmatch(r"A\d{7}").all()
    assert (raw["outcome_known_date"] <= pd.Timestamp(SCENARIO.snapshot)).all()
    assert raw.duplicated().sum() == 0  # no batch loaded twice in this world
    assert set(raw["channel"]) == {"branch", "online", "broker"}  # the partner is a broker: no new channel


def test_the_partner_doubles_the_broker_share_from_its_first_month(world):
    broker = (world["channel"] == "broker").groupby(month(world)).mean()
    before = broker[(broker.index >= "2024-03") & (broker.index < PARTNER.start[:7])]
    after = broker[broker.index >= PARTNER.start[:7]]
    assert after.min() > before.max() + 0.08
    partner = world[world["partner"]]
    assert partner["application_date"].min() >= pd.Timestamp(PARTNER.start)
    assert (partner["channel"] == "broker").all()
    others = world[~world["partner"] & (world["application_date"] >= PARTNER.start)]
    assert partner["age"].mean() < others["age"].mean() - 5
    assert partner["monthly_debt"].median() > others["monthly_debt"].median()
    assert (partner["ethnicity"] == "minority").mean() == pytest.approx(PARTNER.minority_share, abs=0.03)
    assert partner["defaulted"].mean() > others["defaulted"].mean() + 0.1


def test_the_partner_prices_by_postcode(world):
    # the majority carries no legacy bias, so what separates its rates from the fair ones is the
    # partner's premium by postcode (the fair rate keeps the partner's fee)
    partner = world[world["partner"] & (world["ethnicity"] == "majority")]
    in_districts = partner["neighbourhood"].isin(spec.MINORITY_DISTRICTS)
    premium = partner["interest_rate"] - partner["fair_interest_rate"]
    assert premium[~in_districts].abs().max() < 0.01
    gap = premium[in_districts].mean() - premium[~in_districts].mean()
    assert gap == pytest.approx(PARTNER.postcode_premium, abs=0.25)


def test_each_retry_is_its_original_under_the_next_id_and_validation_finds_exactly_them(raw, world):
    retried = world[world["retried"]]
    assert 20 <= len(retried) <= 80
    assert retried["partner"].all()
    assert retried["application_date"].between(PARTNER.retry_from, PARTNER.retry_until).all()
    content = raw.drop(columns=["application_id"])
    copies = raw[content.duplicated()]
    assert len(copies) == len(retried)
    originals = raw.loc[copies.index - 1]
    pd.testing.assert_frame_equal(originals.drop(columns="application_id").reset_index(drop=True),
                                  copies.drop(columns="application_id").reset_index(drop=True))
    assert [int(i[1:]) for i in copies["application_id"]] == [int(i[1:]) + 1 for i in originals["application_id"]]
    report = validation.validate_batch(raw[month(raw).between("2025-05", "2025-06")])
    flagged = report.problems[report.problems["check"] == "duplicate of an earlier row under another id"]
    both_bad = originals.index[~originals.index.isin(
        validation.validate_batch(raw.loc[originals.index]).accepted.index)]
    assert len(flagged) == len(copies) - len(both_bad)  # a retry of a bad row is quarantined as bad


def test_the_shock_raises_default_at_equal_features(world):
    after = world[world["application_date"] >= SHOCK.start]
    before = spec._sigmoid(spec.true_log_odds(after.assign(application_date=pd.Timestamp("2025-07-31")),
                                              scenario=SCENARIO))
    rise = after["default_probability"].mean() - before.mean()
    assert rise > 0.05
    months = world.groupby(month(world))["default_probability"].mean()
    assert months[SHOCK.start[:7]] - months[:SHOCK.start[:7]].iloc[-2] > 0.04


def test_the_history_draws_no_number_for_the_capstone_s_events():
    history = spec.simulate()
    assert not history["partner"].any() and not history["retried"].any()
    assert spec.scenario_named("history") is spec.HISTORY
    with pytest.raises(ValueError, match="the scenarios are history, capstone"):
        spec.scenario_named("nope")


# --- its datasheet says what the data says, and no more ------------------------------------------

DATASHEET = CAPSTONE_FILE.parent / "README.md"


def datasheet_facts(raw: pd.DataFrame) -> list[str]:
    """Every figure the capstone's datasheet states, as it prints it."""
    year = raw["application_date"].dt.year
    known = labels_known_at(raw, "2025-01-01")
    rates = known.groupby(known["application_date"].dt.year)["defaulted"].mean()
    return [f"{len(raw):,} rows", f"{len(raw.columns)} columns", *(f"{n:,} in {y}" for y, n in
                                                                   year.value_counts().sort_index().items() if y < 2025),
            f"2022's loans was {100 * rates[2022]:.1f}%", f"2023's {100 * rates[2023]:.1f}%",
            f"seed {spec.CAPSTONE_SEED}", f"snapshot taken on {SCENARIO.snapshot}"]


def test_the_capstone_datasheet_states_the_data_s_figures(raw):
    page = " ".join(DATASHEET.read_text().split())
    missing = [fact for fact in datasheet_facts(raw) if fact not in page]
    assert not missing, f"data/capstone/README.md does not say: {missing}"


def test_every_number_on_the_capstone_datasheet_has_a_source_and_none_gives_2025_away(raw):
    from test_datasheet import generator_parameters, numbers  # the history datasheet's audit, reused

    known = generator_parameters() | {n for fact in datasheet_facts(raw) for n in numbers(fact)}
    text = DATASHEET.read_text()
    stray = sorted({n for n in numbers(text) if n not in known}, key=float)
    assert not stray, f"data/capstone/README.md has numbers no fact or generator parameter gives: {stray}"
    for truth in (PARTNER.start, PARTNER.retry_from, PARTNER.retry_until, SHOCK.start):
        assert truth not in text, f"the capstone's datasheet gives away {truth}"
