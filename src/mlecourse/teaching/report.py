"""The source report's figures, as tidy tables.

``data/report/`` holds the salary, skills, tools and market figures of the
report the course starts from, transcribed as the report states them (its
inconsistencies included, for the chapters to examine). Each row's ``source``
column holds the citation keys, in ``references.bib``, of the report's own
source for that row, separated by ``;``. ``data/report/README.md`` describes
every column.
"""
from __future__ import annotations

import pandas as pd

from mlecourse.paths import DATA_DIR

TABLES = ("salaries", "skills", "tools", "market")

# Periods mix years, months and words ("2020", "2023-05", "late 2022"): keep
# them as text so pandas does not turn some into numbers and others into NaN.
_TEXT_COLUMNS = {"period_start": "string", "period_end": "string"}


def load_report_table(name: str) -> pd.DataFrame:
    """One of the report's tables: ``salaries``, ``skills``, ``tools`` or ``market``."""
    if name not in TABLES:
        raise ValueError(f"Unknown report table {name!r}; valid names: {', '.join(TABLES)}.")
    path = DATA_DIR / "report" / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing. Restore it with `git checkout -- data/report/` "
            "from the course folder."
        )
    df = pd.read_csv(path, dtype=_TEXT_COLUMNS)
    # Dollar columns have gaps (a range with no base figure): nullable integers
    # keep 137000 as 137000 rather than 137000.0.
    for col in df.columns[df.columns.str.endswith("_usd")]:
        df[col] = df[col].astype("Int64")
    return df


def cited_keys(df: pd.DataFrame) -> set[str]:
    """Every citation key in the table's ``source`` column (``;``-separated)."""
    if "source" not in df.columns:
        return set()
    keys = df["source"].dropna().str.split(";").explode().str.strip()
    return set(keys[keys != ""])
