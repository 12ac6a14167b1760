"""The datasheet (``data/README.md``) says only what the data and its generator say.

Two tests hold it to that. The first computes every figure the datasheet
states and requires each, formatted as the page prints it, to be on the page.
The second reads every number on the page and requires each to come from one
of those computed facts or from a parameter of the generator
(``lender/data/loans.py``): a number typed by hand, or left stale by a change to the
data, fails with the number named.
"""
from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlecourse.lender.data import loans as spec
from mlecourse.lender.data.loading import labels_known_at, load_loans
from mlecourse.paths import DATA_DIR, ROOT

DATASHEET = DATA_DIR / "README.md"
NUMERIC = ["age", "annual_income", "employment_years", "loan_amount", "loan_term_months",
           "interest_rate", "monthly_debt", "credit_score", "num_credit_lines", "previous_defaults"]


def pct(x: float, places: int = 1) -> str:
    return f"{100 * x:.{places}f}"


def month(frame: pd.DataFrame) -> pd.Series:
    return frame["application_date"].dt.strftime("%Y-%m")


def usable_income(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["annual_income"] > 0) & (month(frame) != spec.INCIDENT_MONTH)]


@cache
def data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    raw = load_loans()
    return raw, raw.drop_duplicates(), spec.simulate()


# --- the figures, section by section ------------------------------------------------

def typical(series: pd.Series, style: str) -> str:
    """The 5th percentile, median and 95th percentile, as the columns table prints them."""
    q = series.quantile([0.05, 0.5, 0.95])
    fmt = {"int": "{:,.0f}", "one": "{:,.1f}", "two": "{:,.2f}"}[style]
    return ", ".join(fmt.format(v) for v in q)


def valid(loans: pd.DataFrame) -> dict[str, pd.Series]:
    """Each numeric column's valid values: the rule the datasheet states for 'typical'."""
    rows = {c: loans[c].dropna() for c in NUMERIC}
    rows["age"] = loans.loc[loans["age"].between(18, 85), "age"]
    rows["annual_income"] = usable_income(loans)["annual_income"]
    rows["loan_amount"] = loans.loc[loans["loan_amount"] <= spec.MAX_LOAN_AMOUNT, "loan_amount"]
    return rows


STYLES = {"age": "int", "annual_income": "int", "employment_years": "one", "loan_amount": "int",
          "interest_rate": "two", "monthly_debt": "int", "credit_score": "int",
          "num_credit_lines": "int", "previous_defaults": "int"}


def shares(series: pd.Series, order) -> str:
    share = series.value_counts(normalize=True)
    return " / ".join(pct(share[k]) for k in order) + "%"


def composition(raw, loans, world) -> list[str]:
    repeats = loans["customer_id"].value_counts()
    again = loans[loans["customer_id"].duplicated(keep=False)].sort_values("application_date")
    gap = again.groupby("customer_id")["application_date"].diff().dropna().dt.days
    years = loans["application_date"].dt.year
    per_month = lambda y: (years.isin(y)).sum() / (12 * len(y))  # noqa: E731
    early = loans.loc[years <= 2022, "defaulted"].mean()
    facts = [f"{len(raw):,} rows", f"{len(loans):,} distinct applications",
             f"{loans['customer_id'].nunique():,} customers", f"{(repeats > 1).sum():,} of them",
             f"up to {repeats.max()} times", f"median gap {gap.median():,.0f} days",
             f"{(gap < 365).sum()} come within a year", f"{len(spec.COLUMNS)} columns",
             f"{per_month([2022]):,.0f} a month in 2022", f"{per_month([2023, 2024]):,.0f} a month in 2023-2024",
             f"overall default rate is {loans['defaulted'].mean():.1%}", f"about {100 * early:.0f}% before"]
    yearly = loans.groupby(years)["defaulted"].agg(["size", "sum", "mean"])
    facts += [f"| {year} | {int(n):,} | {int(d):,} | {rate:.1%} |" for year, n, d, rate in yearly.itertuples()]
    return facts


def columns_table(raw, loans) -> list[str]:
    rows = valid(loans)
    facts = [f"| {typical(rows[c], style)} " for c, style in STYLES.items() if c != "previous_defaults"]
    facts.append(f"({pct((loans['previous_defaults'] > 0).mean())}% have at least one) | "
                 f"{typical(rows['previous_defaults'], 'int')} |")
    facts += [shares(loans["employment_type"], spec.EMPLOYMENT_TYPES),
              shares(loans["home_ownership"], ["rent", "mortgage", "own"]),
              shares(loans["channel"], ["branch", "online", "broker"]),
              shares(loans["loan_purpose"], spec.PURPOSES),
              shares(loans["loan_term_months"], [12, 24, 36, 60]),
              shares(loans["ethnicity"], ["majority", "minority"])]
    missing = raw.isna().mean()
    facts += [f"| {pct(missing[c])}%" for c in ("annual_income", "employment_type", "employment_years",
                                                 "home_ownership", "credit_score")]
    facts += [f"no; {spec.IMPOSSIBLE_AGE_COUNT} impossible", f"{(raw['annual_income'] <= 0).sum()} not positive",
              f"no; {spec.REGION_TYPO_COUNT} typos", f"{(raw['loan_amount'] > spec.MAX_LOAN_AMOUNT).sum()} entry errors"]
    return facts


def missing_values(raw) -> list[str]:
    facts = [f"`{c}` | {n:,} ({n / len(raw):.1%})" for c, n in raw.isna().sum().loc[lambda s: s > 0].items()]
    share = raw.isna().mean().loc[lambda s: s > 0]
    facts.append(f"{pct(share.min())}%-{pct(share.max())}% of rows")
    income = raw.groupby("channel")["annual_income"].apply(lambda s: s.isna().mean())
    rest = income.drop("broker")
    facts.append(f"{pct(income['broker'])}% of broker rows, {pct(rest.min())}-{pct(rest.max())}% elsewhere")
    years = raw.groupby("employment_type")["employment_years"].apply(lambda s: s.isna().mean())
    others = years.drop("self_employed")
    facts.append(f"({pct(years['self_employed'])}%, others {pct(others.min())}-{pct(others.max())}%)")
    facts.append(f"median age is {raw.loc[raw['credit_score'].isna(), 'age'].median():.0f} "
                 f"(all applicants: {raw['age'].median():.0f})")
    return facts


def bad_records(raw) -> list[str]:
    ages = raw["age"].value_counts()
    income = raw["annual_income"]
    typos = raw.loc[~raw["region"].isin(spec.REGIONS), "region"]
    big = raw.loc[raw["loan_amount"] > spec.MAX_LOAN_AMOUNT, "loan_amount"]
    return [" or ".join(f"{a} ({ages[a]})" for a in (199, 999)).replace("(", "(", 1),
            f"age 0 ({ages[0]}), −1 ({ages[-1]})",
            f"{(income == 0).sum()} of them 0 and {(income < 0).sum()} negative",
            f"({(income == 0).sum()} zero, {(income < 0).sum()} negative)",
            f"{len(typos)} rows ({pct(len(typos) / len(raw))}%)", f"{typos.nunique()} spellings",
            f"({big.min():,.0f} to {big.max():,.0f})"]


def incident(loans) -> list[str]:
    median = loans[loans["annual_income"] > 0].groupby(month(loans))["annual_income"].median()
    broken = loans[month(loans) == spec.INCIDENT_MONTH]
    return [f"median `annual_income` of {median.loc[spec.INCIDENT_MONTH]:,.2f} in {spec.INCIDENT_MONTH}",
            f"{median.loc['2022-09']:,.2f} in 2022-09", f"{median.loc['2022-11']:,.2f} in 2022-11",
            f"({broken['employment_type'].isna().sum()} of {len(broken)})"]


def covariate_drift(loans, world) -> list[str]:
    ok = usable_income(loans)
    before = ok[ok["application_date"].between("2021-01-01", "2022-12-31")]
    after = ok[ok["application_date"] >= spec.COVARIATE_DRIFT_START]
    b, a = before["annual_income"].median(), after["annual_income"].median()
    share = lambda f, col, v: (f[col] == v).mean()  # noqa: E731
    dec, jan = (loans[month(loans) == m] for m in ("2022-12", "2023-01"))
    late = world[world["application_date"] >= spec.COVARIATE_DRIFT_START]
    rate = late.groupby("campaign")["defaulted"].mean()
    return [f"{pct(1 - a / b)}% lower ({a:,.0f} against {b:,.0f})",
            f"from {pct(share(before, 'channel', 'online'))}% to {pct(share(after, 'channel', 'online'))}%",
            f"({pct(share(dec, 'channel', 'online'))}% in December 2022, {pct(share(jan, 'channel', 'online'))}% in",
            f"from {pct(share(before, 'loan_purpose', 'credit_card'))}% to {pct(share(after, 'loan_purpose', 'credit_card'))}%",
            f"falls from {before['age'].median():.0f}\nto {after['age'].median():.0f}",
            f"are {pct(late['campaign'].mean())}% of applications",
            f"({pct(rate[True])}%, against {pct(rate[False])}%"]


def concept_drift(loans, world) -> list[str]:
    h1 = loans[loans["application_date"].between(spec.COVARIATE_DRIFT_START, "2023-06-30")]
    h2 = loans[loans["application_date"] >= spec.CONCEPT_DRIFT_START]
    post = world[world["application_date"] >= spec.CONCEPT_DRIFT_START]
    before = 1 / (1 + np.exp(-spec.true_log_odds(post.assign(application_date=pd.Timestamp("2023-06-30")))))
    now = post["default_probability"].mean()
    income = abs(usable_income(h2)["annual_income"].median() / usable_income(h1)["annual_income"].median() - 1)
    online = abs((h2["channel"] == "online").mean() / (h1["channel"] == "online").mean() - 1)
    low, high = sorted([income, online])
    return [f"{pct(h1['defaulted'].mean())}% for January-June 2023 and {pct(h2['defaulted'].mean())}% from",
            f"{pct(before.mean())}% instead of {pct(now)}%: **+{pct(now - before.mean())} points**",
            f"within {100 * low:.0f}-{100 * high:.0f}% either side"]


def bias(loans, world) -> list[str]:
    recorded = loans.groupby("ethnicity")["credit_score"].mean()
    true = world.groupby("ethnicity")["true_credit_score"].mean()
    d = loans[loans["credit_score"].notna()]
    x = pd.get_dummies(d[["loan_term_months", "loan_purpose", "channel"]].astype(str), drop_first=True)
    x = x.assign(credit_score=d["credit_score"], previous=d["previous_defaults"].clip(upper=3),
                 minority=d["ethnicity"] == "minority").astype(float)
    premium = LinearRegression().fit(x, d["interest_rate"]).coef_[list(x.columns).index("minority")]
    rates = world.groupby("ethnicity")[["interest_rate", "fair_interest_rate"]].mean()
    paid = rates.loc["minority", "interest_rate"] - rates.loc["minority", "fair_interest_rate"]
    probs = world.groupby("ethnicity")[["default_probability", "fair_default_probability"]].mean()
    observed = loans.groupby("ethnicity")["defaulted"].mean()
    return [f"{recorded['minority']:.1f} against {recorded['majority']:.1f}",
            f"({true['minority']:.1f} and {true['majority']:.1f})", f"premium\nof {premium:.2f} points",
            f"paid {paid:.2f} points more", f"({rates.loc['minority', 'interest_rate']:.2f}% against "
            f"{rates.loc['minority', 'fair_interest_rate']:.2f}%;\nthe majority paid {rates.loc['majority', 'interest_rate']:.2f}%)",
            f"**+{pct(probs.loc['minority', 'default_probability'] - probs.loc['minority', 'fair_default_probability'])} points**",
            f"({pct(probs.loc['minority', 'default_probability'])}% against "
            f"{pct(probs.loc['minority', 'fair_default_probability'])}% at a fair price)",
            f"{pct(observed['minority'])}% (minority) and {pct(observed['majority'])}% (majority), a gap\nof "
            f"{pct(observed['minority'] - observed['majority'])} points"]


def proxy(loans) -> list[str]:
    minority = loans["ethnicity"] == "minority"
    inside = loans["neighbourhood"].isin(spec.MINORITY_DISTRICTS)
    share = minority.groupby(loans["neighbourhood"]).mean()
    region = loans["region"].str.strip().str.lower().replace({"nrth": "north", "wset": "west", "centre": "central"})
    by_region = minority.groupby(region).mean()
    return [f"{pct(inside[minority].mean())}%\nof minority", f"({pct(inside[~minority].mean())}% of majority",
            f"are {pct(minority[inside].mean())}% of\nthose districts and {pct(minority[~inside].mean())}% of the others",
            f"ROC AUC of {roc_auc_score(minority, loans['neighbourhood'].map(share)):.3f}",
            f"({roc_auc_score(minority, region.map(by_region)):.3f} from the cleaned `region`)"]


def proxies_in_the_model() -> list[str]:
    """Which of the course model's inputs carry the group (trained 2019-2020, measured on 2022)."""
    from mlecourse.lender import features
    from mlecourse.lender.responsible import fairness

    clean, _ = features.clean_loans(load_loans())
    train, _valid, test = features.split_by_date(clean)
    alone = fairness.proxy_strength(train, test, features.RAW_FEATURES)
    together = fairness.inputs_reveal_group(train, test, list(features.RAW_FEATURES))
    top = list(alone.index[:3])
    assert top == ["interest_rate", "region", "credit_score"], top  # the order the page tells
    return [f"ROC AUC of {together:.3f} on 2022", f"`interest_rate` ({alone['interest_rate']:.3f} alone",
            f"`region` ({alone['region']:.3f}:", f"`credit_score` ({alone['credit_score']:.3f}:"]


def label_delay(loans) -> list[str]:
    year = loans[loans["application_date"].dt.year == 2023]
    known = labels_known_at(year, "2024-06-30")
    return [f"{pct(len(known) / len(year))}% of 2023"]


def quick_models(loans) -> list[str]:
    """The datasheet's 'quick model' table: ten numeric columns, 2019-2021 -> 2022."""
    years = loans["application_date"].dt.year
    train, test = loans[years <= 2021], loans[years == 2022]
    quiet = test[month(test) != spec.INCIDENT_MONTH]
    facts = []
    for name, model in (("HistGradientBoostingClassifier", HistGradientBoostingClassifier(random_state=0)),
                        ("LogisticRegression", make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                                             LogisticRegression(max_iter=1000)))):
        model.fit(train[NUMERIC], train["defaulted"])
        auc = [roc_auc_score(t["defaulted"], model.predict_proba(t[NUMERIC])[:, 1]) for t in (test, quiet)]
        facts.append(f"| `{name}` | {auc[0]:.3f} | {auc[1]:.3f} |")
    return facts


def model_bias(loans) -> list[str]:
    """What a boosted model on numeric features does to the groups (2019-2021 -> 2022, incident out)."""
    years = loans["application_date"].dt.year
    train = loans[years <= 2021]
    test = loans[(years == 2022) & (month(loans) != spec.INCIDENT_MONTH)]
    model = HistGradientBoostingClassifier(random_state=0).fit(train[NUMERIC], train["defaulted"])
    risk = pd.Series(model.predict_proba(test[NUMERIC])[:, 1], index=test.index)
    group = test["ethnicity"]
    approved = risk <= risk.quantile(0.8)
    mean = lambda s, g: s[group == g].mean()  # noqa: E731
    return [f"{pct(mean(risk, 'minority'))}% for minority applicants whose observed rate is "
            f"{pct(mean(test['defaulted'], 'minority'))}%, against {pct(mean(risk, 'majority'))}%\npredicted for "
            f"{pct(mean(test['defaulted'], 'majority'))}% observed",
            f"approves {pct(mean(approved, 'minority'))}% of minority applicants and "
            f"{pct(mean(approved, 'majority'))}% of the\nmajority",
            f"{pct((world_dti() > spec.DTI_THRESHOLD).mean(), 0)}% of loans are above"]


@cache
def world_dti() -> pd.Series:
    _, _, world = data()
    payment = spec.monthly_payment(world["loan_amount"], world["interest_rate"], world["loan_term_months"])
    return (world["monthly_debt"] + payment) / (world["annual_income"] / 12)


@cache
def facts() -> tuple[str, ...]:
    raw, loans, world = data()
    return tuple(composition(raw, loans, world) + columns_table(raw, loans) + missing_values(raw)
                 + bad_records(raw) + incident(loans) + covariate_drift(loans, world)
                 + concept_drift(loans, world) + bias(loans, world) + proxy(loans) + proxies_in_the_model() + label_delay(loans)
                 + quick_models(loans) + model_bias(loans))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_figure_of_the_datasheet_is_computed_from_the_data():
    page = flat(DATASHEET.read_text())
    missing = [fact for fact in facts() if flat(fact) not in page]
    assert not missing, "data/README.md does not say (or no longer says):\n" + "\n".join(missing)


# --- every number on the page has a source -------------------------------------------

NUMBER = re.compile(r"(?<![\w.])[−-]?\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> list[str]:
    text = re.sub(r"\b\d{4}-\d{2}(?:-\d{2})?\b", " ", text)   # dates: checked by the sections' facts
    text = re.sub(r"\b[ACN]\d+\b", " ", text)                  # ids and districts
    text = re.sub(r"\b(19|20)\d\d\b", " ", text)               # years
    text = text.replace("SHA-256", " ")                        # a name, not a figure
    return [n.rstrip(",").replace(",", "").replace("−", "-").lstrip("-") for n in NUMBER.findall(text)]


def generator_parameters() -> set[str]:
    """Every number written in the generator's source, as written and as a percentage."""
    source = (ROOT / "src" / "mlecourse" / "lender" / "data" / "loans.py").read_text()
    found = set()
    for literal in re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?:e-?\d+)?", source):
        value = float(literal.replace("_", ""))
        found |= {literal.replace("_", ""), f"{value:g}", f"{100 * value:g}"}
    return found | {f"{1 + spec.ANNUAL_GROWTH:g}"}  # the growth factor, 700 x 1.03^years


# Numbers that are not figures of the data: the datasheet's own structure.
NOT_FIGURES = {"5", "95",     # "5th percentile, median and 95th percentile"
               "2", "1"}      # "rounded to 2 decimals ... to 1", "1/1,000": the rounding rule


def test_every_number_on_the_datasheet_comes_from_the_data_or_the_generator():
    known = generator_parameters() | NOT_FIGURES
    for fact in facts():
        known |= set(numbers(fact))
    stray = sorted({n for n in numbers(DATASHEET.read_text()) if n not in known}, key=float)
    assert not stray, (f"data/README.md has numbers that no computed fact or generator parameter gives: "
                       f"{', '.join(stray)}; compute them in tests/test_datasheet.py or correct the page")


def test_a_stale_figure_is_caught(monkeypatch):
    """The audit can fail: a number typed into the page is named."""
    page = DATASHEET.read_text() + "\nA stale claim: 1,234.5 units.\n"
    monkeypatch.setattr(type(DATASHEET), "read_text", lambda self, *a, **k: page)
    with pytest.raises(AssertionError, match="1234.5"):
        test_every_number_on_the_datasheet_comes_from_the_data_or_the_generator()
