"""Reading the report's salary figures critically.

A salary "range" in a survey report is often two point figures from different
sources, and a table row can mix statistics (median, average), measures (base,
total) and populations (one employer, the whole market). These helpers turn
the report's Table 1 into intervals and flag rows that cannot all be right.
"""
from __future__ import annotations

import pandas as pd

from mlecourse.teaching.report import load_report_table

MEASURES = ("base", "total")
MEASURE_NAMES = {"base": "base salary", "total": "total compensation"}
MEASURE_COLORS = {"base": "tab:blue", "total": "tab:orange"}
# Short names of the table's roles, for labels where the full names do not fit.
SHORT_ROLES = {"Machine Learning Engineer": "MLE", "MLOps Engineer": "MLOps",
               "Data Scientist": "DS", "Software Engineer": "SE"}


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


def range_label(low, high, open_ended: bool = False) -> str:
    """A range as the report writes it, in thousands: '137k-175k', '210k+', '108k'; '-' if none."""
    if pd.isna(low):
        return "-"
    plus = "+" if open_ended else ""
    low_k, high_k = int(low) // 1000, int(high) // 1000
    return f"{low_k}k{plus}" if low == high else f"{low_k}k-{high_k}k{plus}"


def ranges_table(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as readable ranges: role, level, each measure with its statistic, sources."""
    out = table[["role", "level"]].copy()
    for measure in MEASURES:
        out[measure] = [range_label(low, high, bool(open_ended)) for low, high, open_ended in zip(
            table[f"{measure}_low_usd"], table[f"{measure}_high_usd"],
            table[f"{measure}_open_ended_high"].fillna(False))]
        out[f"{measure} statistic"] = table[f"{measure}_statistic"].fillna("-")
    out["source"] = table["source"].fillna("-").str.replace(";", "; ")
    return out


def plot_salary_ranges(table: pd.DataFrame, ax=None, highlight=None, sources: bool = False,
                       short: bool = True,
                       highlight_label: str = "starts below the previous level",
                       title: str = "The report's salary ranges by role and level (Table 1)"):
    """Draw each row's base and total ranges as horizontal intervals; return the Axes.

    One row per row of ``table`` (Table 1, see :func:`table1`), in its order
    from the top: base salary in blue, total compensation in orange, a dot
    for a single figure, an arrow for an open-ended "$...k+" top, and "no
    figure" where the report gives none. ``highlight`` (booleans, one per
    row, e.g. :func:`starts_below_previous_level`) shades rows; ``sources``
    writes each row's citation keys on the right; ``short`` abbreviates the
    role names (:data:`SHORT_ROLES`). Pay is shown in thousands of US dollars.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    table = table.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.2) if sources else (8, 4.2))
        if sources:
            ax.figure.subplots_adjust(left=0.16, right=0.68)
    position = {(r, l): y for y, (r, l) in enumerate(zip(table["role"], table["level"]))}
    spans = intervals(table)
    for row in spans.itertuples():
        y = position[(row.role, row.level)] + (-0.15 if row.measure == "base" else 0.15)
        low, high, color = row.low / 1000, row.high / 1000, MEASURE_COLORS[row.measure]
        ax.plot([low, high], [y, y], color=color, lw=5, solid_capstyle="butt",
                marker="o" if low == high else None, ms=6)
        if row.open_ended:
            ax.annotate("", (high + 25, y), (high, y), arrowprops={"arrowstyle": "->", "color": color})
    for y in sorted(set(position.values()) - {position[k] for k in zip(spans["role"], spans["level"])}):
        ax.text(0.01, y, "no figure in the report", transform=ax.get_yaxis_transform(),
                va="center", fontsize=7, color="dimgrey")
    handles = [Line2D([], [], color=MEASURE_COLORS[m], lw=5, label=MEASURE_NAMES[m]) for m in MEASURES]
    if highlight is not None:
        shaded = pd.Series(highlight).fillna(False).astype(bool).to_numpy()
        if len(shaded) != len(table):
            raise ValueError(f"highlight has {len(shaded)} values for {len(table)} rows")
        for y in shaded.nonzero()[0]:
            ax.axhspan(y - 0.45, y + 0.45, color="red", alpha=0.1)
        if shaded.any():
            handles.append(Patch(color="red", alpha=0.1, label=highlight_label))
    if sources:
        for y, keys in enumerate(table["source"].fillna("")):
            ax.text(1.02, y, keys.replace(";", ", "), transform=ax.get_yaxis_transform(),
                    va="center", fontsize=7, color="dimgrey")
    roles = table["role"].map(SHORT_ROLES).fillna(table["role"]) if short else table["role"]
    ax.set_yticks(range(len(table)), [f"{r} · {l}" for r, l in zip(roles, table["level"])], fontsize=8)
    ax.set_ylim(len(table) - 0.5, -0.5)   # the table's first row at the top
    if len(spans):   # arrows do not widen the axes: leave room for them
        ax.set_xlim(right=max(ax.get_xlim()[1], spans["high"].max() / 1000 + 35))
    ax.set(title=title, xlabel="yearly pay (thousands of US dollars)")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, fontsize=8,
              frameon=False)
    return ax


def base_against_total(salaries: pd.DataFrame) -> pd.DataFrame:
    """The report's all-levels averages for ML and software engineers, with their measure.

    The report sets an ML engineer's *base* figure beside a software engineer's
    *total* one; this puts the measure and statistic of each next to its value.
    """
    compared = salaries[(salaries["kind"] == "prose") & (salaries["level"] == "All")
                        & salaries["role"].isin(["Machine Learning Engineer", "Software Engineer"])
                        & salaries["company"].isna()]
    is_base = compared["base_low_usd"].notna()
    return pd.DataFrame({
        "role": compared["role"].map(SHORT_ROLES),
        "measure": is_base.map({True: "base", False: "total"}),
        "usd": compared["base_low_usd"].fillna(compared["total_low_usd"]),
        "statistic": compared["base_statistic"].fillna(compared["total_statistic"]),
        "source": compared["source"],
    })


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
