"""Reading the report's salary figures critically.

A salary "range" in a survey report is often two point figures from different
sources, and a table row can mix statistics (median, average), measures (base,
total) and populations (one employer, the whole market). These helpers turn
the report's Table 1 into intervals and flag rows that cannot all be right.
"""
from __future__ import annotations

import pandas as pd

from .report import load_report_table

MEASURES = ("base", "total")


def table1(salaries: pd.DataFrame | None = None) -> pd.DataFrame:
    """The report's salary table (Table 1), in the report's row order."""
    salaries = load_report_table("salaries") if salaries is None else salaries
    return salaries[salaries["kind"] == "table"].reset_index(drop=True)


def intervals(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (role, level, measure) with a stated figure: low, high, open-ended, statistic.

    A single figure ("~$108k") has ``low == high``. Rows with no number (the
    MLOps row, "N/A") are left out.
    """
    parts = []
    for measure in MEASURES:
        part = table[["role", "level", "source"]].copy()
        part["measure"] = measure
        part["low"] = table[f"{measure}_low_usd"]
        part["high"] = table[f"{measure}_high_usd"]
        part["open_ended"] = table[f"{measure}_open_ended_high"]
        part["statistic"] = table[f"{measure}_statistic"]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out[out["low"].notna()].reset_index(drop=True)


def starts_below_previous_level(table: pd.DataFrame, measure: str = "base") -> pd.Series:
    """True where a row's range starts below the start of the previous level's range.

    Levels are taken in the table's order within each role. A senior range
    that starts below the mid-level one cannot be a like-for-like figure:
    one of the two rows mixes sources, statistics or populations. Rows with
    no figure, or no previous level, are False.
    """
    low = table[f"{measure}_low_usd"].astype("Float64")
    previous = low.groupby(table["role"]).shift(1)
    return (low < previous).fillna(False).astype(bool)


def overlaps_previous_level(table: pd.DataFrame, measure: str = "base") -> pd.Series:
    """True where a row's range starts below the END of the previous level's range.

    Overlap alone is normal (pay bands of neighbouring levels overlap); it is
    shown to contrast with :func:`starts_below_previous_level`.
    """
    low = table[f"{measure}_low_usd"].astype("Float64")
    previous_high = table[f"{measure}_high_usd"].astype("Float64").groupby(table["role"]).shift(1)
    return (low < previous_high).fillna(False).astype(bool)


def level_flags(table: pd.DataFrame) -> pd.DataFrame:
    """Both checks, for base and total, one row per table row."""
    flags = table[["role", "level"]].copy()
    for measure in MEASURES:
        flags[f"{measure} starts lower"] = starts_below_previous_level(table, measure)
        flags[f"{measure} overlaps"] = overlaps_previous_level(table, measure)
    return flags


def one_figure_two_statistics(salaries: pd.DataFrame) -> pd.DataFrame:
    """Prose figures from the same source and value that the report names differently.

    Returns one row per (source, value) with the statistics it is given,
    e.g. Levels.fyi's $250k called both a median and an average.
    """
    prose = salaries[salaries["kind"] == "prose"]
    named = prose.dropna(subset=["total_low_usd", "total_statistic"])
    grouped = named.groupby(["source", "total_low_usd"])["total_statistic"].agg(
        lambda s: sorted(set(s)))
    grouped = grouped[grouped.map(len) > 1]
    return grouped.rename("statistics").reset_index()


def secondary_citations(market: pd.DataFrame) -> pd.DataFrame:
    """Market figures the report cites through someone else, or not at all."""
    note = market["note"].fillna("")
    secondary = note.str.contains("secondary citation")
    uncited = market["source"].isna()
    out = market.loc[secondary | uncited, ["metric", "value_low", "value_high", "unit", "source", "note"]]
    return out.assign(problem=["no citation" if u else "secondary citation"
                               for u in uncited[secondary | uncited]])
