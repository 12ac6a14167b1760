"""The report's figures in data/report/ and the bibliography they cite.

The numbers are kept as the report states them, inconsistencies included,
because the chapters teach from those inconsistencies: a test below pins one.
"""
import re

import pybtex.database
import pytest

from mlecourse.teaching import report
from mlecourse.paths import ROOT
from mlecourse.teaching.report import TABLES, cited_keys, load_report_table

BIB = ROOT / "references.bib"
# Entries in the report's reference list (between "References" and "Comments").
REPORT_REFERENCES = 159
# Canonical works the chapters cite by these keys.
CANONICAL = {
    "sculley2015hidden", "sambasivan2021cascades", "zinkevich2017rules",
    "breck2017mltestscore", "gebru2021datasheets", "mitchell2019modelcards",
    "kaufman2012leakage", "gama2014drift", "rabanser2019failing",
    "kreuzberger2023mlops", "shearer2000crispdm", "paleyes2022challenges",
    "amershi2019se4ml", "kohavi2020trustworthy", "saito2015precision",
    "niculescu2005calibration", "elkan2001cost", "bergstra2012random",
    "jamieson2016successive", "pedregosa2011sklearn", "zaharia2018mlflow",
    "weerts2023fairlearn", "barocas2023fairml", "hardt2016equality",
    "agarwal2018reductions", "kamiran2012preprocessing", "chouldechova2017fair",
    "siddiqi2017credit", "yurdakul2018psi", "humble2010cd", "beyer2016sre",
    "huyen2022designing", "lundberg2017shap", "ribeiro2016lime", "euaiact2024",
    "nist2023airmf", "wilson2014best", "nygard2018release", "hastie2009elements",
    "ke2017lightgbm", "chen2016xgboost", "hyndman2021fpp", "bergmeir2012cv",
}


@pytest.fixture(scope="module")
def bib():
    return pybtex.database.parse_file(str(BIB))


@pytest.mark.parametrize("name", TABLES)
def test_table_loads_with_a_source_column(name):
    df = load_report_table(name)
    assert len(df) > 0
    assert "source" in df.columns


def test_unknown_table_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="salaries, skills, tools, market"):
        load_report_table("salary")


def test_missing_file_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"git checkout -- data/report/"):
        load_report_table("market")


@pytest.mark.parametrize("name", TABLES)
def test_every_cited_key_is_in_the_bibliography(name, bib):
    keys = cited_keys(load_report_table(name))
    assert keys, f"{name}.csv cites nothing"
    assert keys - set(bib.entries) == set()


def test_bibliography_keys_are_unique():
    # pybtex keeps one of two duplicate entries, so count the raw @type{key, lines.
    keys = re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), flags=re.M)
    assert len(keys) == len(set(keys))


def test_bibliography_holds_every_report_reference(bib):
    tagged = [k for k, e in bib.entries.items() if e.fields.get("keywords") == "report"]
    assert len(tagged) == REPORT_REFERENCES


def test_bibliography_holds_the_canonical_works(bib):
    assert CANONICAL - set(bib.entries) == set()


def test_salary_table_has_nine_rows():
    df = load_report_table("salaries")
    assert (df["kind"] == "table").sum() == 9


def test_senior_base_starts_below_mid_level_as_the_report_states():
    # The report's inconsistency, kept on purpose: the chapter asks readers to spot it.
    df = load_report_table("salaries")
    mle = df[(df["kind"] == "table") & (df["role"] == "Machine Learning Engineer")]
    base_low = mle.set_index("level")["base_low_usd"]
    assert base_low["Senior"] == 115_000
    assert base_low["Mid-Level"] == 137_000
    assert base_low["Senior"] < base_low["Mid-Level"]


def test_attrition_rates():
    df = load_report_table("market")
    attrition = df[df["category"] == "attrition"].set_index("group")["value_low"]
    assert attrition.to_dict() == {
        "AI/ML managers": 22,
        "AI/ML individual contributors": 28,
        "software engineers": 17,
    }
