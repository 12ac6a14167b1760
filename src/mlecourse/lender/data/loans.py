"""The case study's data: a lender's funded loans, and which of them defaulted.

The data is synthetic, made by this module from one seed, so that every flaw
in it is known: its date, its size and its cause. ``data/README.md`` (the
datasheet) documents every column and every property; this docstring explains
the model that makes them.

The causal model, in plain words
--------------------------------
A world is simulated first, then the lender's records of it.

1. **Volume.** About 700 applications a month in 2019, growing 3% a year, a
   little busier in spring. Each is funded (the data holds funded loans only).
2. **Applicants.** Each applicant has an ``ethnicity`` (a synthetic stand-in
   for a protected attribute, 25% "minority"). Ethnicity changes nothing about
   a person's true creditworthiness here; it changes only where they live
   (minority applicants are concentrated in five postcode districts, so
   ``neighbourhood`` is a proxy for ethnicity) and, through the lender's
   history, how they are scored and priced (steps 3 and 4). Age drives
   employment, income, home ownership and credit history; income drives
   existing debt. A latent *true* credit score follows from age, income and
   previous defaults. A few customers come back for a second loan.
3. **The bureau's record.** The recorded ``credit_score`` is the true score
   plus noise, minus ``BIAS_SCORE_PENALTY`` points for minority applicants
   (measurement bias). Applicants with no credit line have no score at all.
4. **Loan terms and legacy pricing.** Purpose, amount and term follow the
   applicant. The old pricing rule sets ``interest_rate`` from the *recorded*
   score, term, purpose, previous defaults and channel, and adds
   ``BIAS_RATE_PREMIUM`` points for minority applicants (historical bias).
5. **True risk.** Default log-odds are a sum of named terms (see
   ``true_log_odds``): the true credit score (strongest), debt-to-income with a
   threshold beyond which risk climbs fast, loan-to-income, employment, previous
   defaults, purpose, the interest rate, age (U-shaped) and region (small).
   A higher rate means a higher payment and more default, so the biased price
   makes minority loans riskier in fact (structural bias in the outcome).
6. **Drift.** From ``COVARIATE_DRIFT_START`` an online campaign brings extra,
   younger, lower-income applicants (covariate drift). From
   ``CONCEPT_DRIFT_START`` a downturn raises default odds at the same features
   and strengthens the debt-to-income effect (concept drift).
7. **Outcomes.** ``defaulted`` is one draw from the true probability; it is
   known ``LABEL_DELAY_MONTHS`` after the application (``outcome_known_date``).
   A leading indicator comes earlier: ``early_delinquency`` (30+ days past
   due within the first ``EARLY_WINDOW_MONTHS`` months) follows the same loan's
   path, likelier for a loan that goes on to default and, among the others,
   for a riskier one; it is known ``EARLY_WINDOW_MONTHS`` after the application
   (``early_delinquency_known_date``). It is drawn last, from its own stage,
   so no other column changed when it was added.
8. **Records.** Then the lender's systems spoil the records, never the world:
   values go missing (not at random), one month's incomes are stored in
   thousands (``INCIDENT_MONTH``), a few hundred entries are wrong, and one
   batch is loaded twice.

Each stage draws from its own child of one seed (``_stage_rngs``), so editing
one stage does not reshuffle the random numbers of the others.

Scenarios
---------
The world above is :data:`HISTORY`, the file of every chapter. A
:class:`Scenario` changes what it holds: its seed and dates, which of the
records' faults happen, and events of its own. :data:`CAPSTONE` is the
capstone's world (``data/capstone/loans.csv.gz``): a sister company of the
same lender, with the same products, rate card and history, from 2022 to 2025,
and three new events in 2025: a broker partner's API (:class:`Partner`), with
its own applicants, its own pricing and a release that stored retried
requests twice, and a shock to repayment (:class:`Shock`). Their dates and
sizes are the capstone's answers: the instructor notes state them, the
learner's pages do not. A scenario without those events draws no random
number for them, so :data:`HISTORY` gives the same file, byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SEED = 20240101

# --- volume and dates --------------------------------------------------------
START_DATE = "2019-01-01"
END_DATE = "2024-12-31"
MONTHLY_VOLUME = 700  # mean applications a month in January 2019
ANNUAL_GROWTH = 0.03  # volume grows 3% a year
SEASONALITY = 0.08  # +-8% around the trend, busiest in April
LABEL_DELAY_MONTHS = 12  # a loan's outcome is known 12 months after application
SNAPSHOT_DATE = "2025-12-31"  # the file is a snapshot: every outcome is known by then

# --- who applies ---------------------------------------------------------------
MINORITY_SHARE = 0.25
REGIONS = ("north", "south", "east", "west", "central")
DISTRICTS = tuple(f"N{i:02d}" for i in range(1, 41))  # N01-N08 north, N09-N16 south, ...
MINORITY_DISTRICTS = ("N05", "N06", "N13", "N29", "N30")  # residential segregation
MINORITY_IN_DISTRICTS = 0.65  # share of minority applicants living in those five
REPEAT_CUSTOMER_SHARE = 0.03  # applications from 2020 on that come from a past customer
EMPLOYMENT_TYPES = ("salaried", "self_employed", "contractor", "unemployed", "retired")
EMPLOYMENT_MIX = (0.72, 0.12, 0.11, 0.05)  # of the non-retired, in that order
MEDIAN_INCOME = 40_000  # currency units a year, for a salaried 18-year-old
PURPOSES = ("debt_consolidation", "car", "home_improvement", "credit_card", "small_business")

# --- historical bias -----------------------------------------------------------
BIAS_SCORE_PENALTY = 25  # recorded credit_score is this much lower for minority applicants
BIAS_RATE_PREMIUM = 1.5  # percentage points the legacy pricing added for minority applicants
PRICING_SCORE_SLOPE = 0.035  # points of interest per point of recorded score below 720

# --- the true risk model: default log-odds = the sum of these terms ------------
INTERCEPT = -4.45
COEF_CREDIT_SCORE = -0.9  # per 75 points of true credit score above 680, up to SCORE_CAP
SCORE_CAP = 760  # above this a better score no longer lowers the risk
COEF_DTI = 1.5  # per unit of debt-to-income (existing debt + new payment) / income
DTI_THRESHOLD = 0.45  # beyond this, each unit of DTI adds COEF_DTI_OVER more
COEF_DTI_OVER = 12.0
COEF_LTI = 0.8  # per unit of loan-to-income (capped at 2)
COEF_EMPLOYMENT_YEARS = -0.04  # per year in the job, up to 10
COEF_PREVIOUS_DEFAULTS = 0.45  # per previous default, up to 3
COEF_INTEREST_RATE = 0.08  # per percentage point of interest above 12
COEF_AGE = 0.5  # times ((age - 45) / 25) ** 2: the young and the old a little riskier
EMPLOYMENT_EFFECT = {"salaried": 0.0, "self_employed": 0.25, "contractor": 0.3,
                     "unemployed": 0.9, "retired": 0.1}
PURPOSE_EFFECT = {"debt_consolidation": 0.2, "car": -0.1, "home_improvement": -0.2,
                  "credit_card": 0.15, "small_business": 0.6}
SMALL_BUSINESS_SELF_EMPLOYED = 0.5  # an interaction: the self-employed borrowing for a business
REGION_EFFECT = {"north": 0.1, "south": 0.0, "east": -0.05, "west": 0.05, "central": 0.0}
UNOBSERVED_SD = 0.5  # sd of each loan's unobserved causes (health, family, luck), on the log-odds

# --- drift ---------------------------------------------------------------------
COVARIATE_DRIFT_START = "2023-01-01"  # the online campaign starts
CAMPAIGN_EXTRA_VOLUME = 0.30  # it adds 30% more applications, all online
CAMPAIGN_AGE_MEAN = 27  # its applicants are younger (other applicants: 42)
CAMPAIGN_INCOME_FACTOR = 0.5  # and earn half as much at the same age and job
CONCEPT_DRIFT_START = "2023-07-01"  # the downturn: loans applied for from this date
DOWNTURN_INTERCEPT = 0.3  # add this to the log-odds
DOWNTURN_DTI_EXTRA = 1.0  # and this per unit of debt-to-income

# --- the leading indicator: early delinquency ---------------------------------
EARLY_WINDOW_MONTHS = 3  # 30+ days past due within the first three months, known then
EARLY_GIVEN_DEFAULT = 0.40  # a loan that will default is often late early
EARLY_GIVEN_REPAID = 0.35  # times its default probability: risky payers are late, then catch up

# --- the records: missing values, the incident, bad records, duplicates --------
MISSING_EMPLOYMENT_YEARS = {"self_employed": 0.15, "other": 0.045}
MISSING_INCOME = {"broker": 0.04, "other": 0.015}  # brokers often leave it blank
MISSING_HOME_OWNERSHIP = 0.01
# credit_score is missing exactly for thin files: applicants with no credit line.
INCIDENT_MONTH = "2022-10"  # an upstream change stored incomes in thousands
INCIDENT_INCOME_DIVISOR = 1000
INCIDENT_EMPLOYMENT_MISSING = 0.30  # and dropped employment_type for 30% of the month
IMPOSSIBLE_AGES = (0, -1, 199, 999)
IMPOSSIBLE_AGE_COUNT = 60
NONPOSITIVE_INCOME_COUNT = 40
REGION_TYPOS = {"north": ("North", "NORTH", "nrth"), "south": ("South", "SOUTH", " south"),
                "east": ("East", "EAST", "east "), "west": ("West", "WEST", "wset"),
                "central": ("Central", "CENTRAL", "centre")}
REGION_TYPO_COUNT = 300
LOAN_AMOUNT_OUTLIER_COUNT = 8
LOAN_AMOUNT_OUTLIER_FACTOR = 100  # an amount typed with two extra zeros
MAX_LOAN_AMOUNT = 60_000  # the product's limit: anything above is an entry error
DUPLICATE_ROWS = 300  # one batch of consecutive applications loaded twice

COLUMNS = ("application_id", "customer_id", "application_date", "age", "annual_income",
           "employment_type", "employment_years", "home_ownership", "region", "neighbourhood",
           "channel", "loan_purpose", "loan_amount", "loan_term_months", "interest_rate",
           "monthly_debt", "credit_score", "num_credit_lines", "previous_defaults", "ethnicity",
           "defaulted", "outcome_known_date", "early_delinquency", "early_delinquency_known_date")
# Rounded at the end so the CSV is the same, byte for byte, on every machine.
DECIMALS = {"annual_income": 2, "employment_years": 1, "loan_amount": 2, "interest_rate": 2,
            "monthly_debt": 2, "credit_score": 0}
STAGES = ("volume", "customers", "applicants", "credit_history", "loan_terms", "pricing", "outcomes",
          "missing", "incident", "bad_records", "duplicates", "early_delinquency", "partner", "retries")


# --- scenarios: which world ----------------------------------------------------

@dataclass(frozen=True)
class Partner:
    """A broker partner's API: a new source of applications, from ``start``.

    Its applicants arrive through the ``broker`` channel (the partner is a
    broker), ``share`` times the lender's regular volume. They are younger,
    earn less and owe more than the lender's own applicants, and more of them
    belong to the minority group (the partner markets in the districts where
    most of them live). The partner's pricing adds ``fee`` points to every
    loan, and ``postcode_premium`` more in those districts: a price set by
    postcode, which the legacy rate card never did. Its release of
    ``retry_from`` to ``retry_until`` retried requests that timed out, and the
    lender's intake stored each retry as a new application (a new id, the
    same applicant, the same loan), for ``retry_rate`` of its requests.
    """
    start: str
    share: float
    age_mean: float
    age_sd: float
    income_factor: float
    debt_factor: float
    minority_share: float
    debt_consolidation_extra: float  # on the log-odds of choosing it
    fee: float
    postcode_premium: float
    retry_from: str
    retry_until: str
    retry_rate: float


@dataclass(frozen=True)
class Shock:
    """From ``start``, a shock to repayment (the same loan is likelier to default):
    ``intercept`` more on the log-odds, and ``dti`` more per unit of debt-to-income."""
    start: str
    intercept: float
    dti: float


@dataclass(frozen=True)
class Scenario:
    """One world: its seed, its dates, which records' faults happen, its own events."""
    name: str
    seed: int = SEED
    start: str = START_DATE
    end: str = END_DATE
    snapshot: str = SNAPSHOT_DATE  # every outcome is known by then
    incident_month: str | None = INCIDENT_MONTH  # incomes stored in thousands
    duplicate_year: int | None = 2021  # a batch of this year loaded twice
    partner: Partner | None = None
    shock: Shock | None = None


HISTORY = Scenario("history")
CAPSTONE_SEED = 20250101
CAPSTONE = Scenario(
    "capstone", seed=CAPSTONE_SEED, start="2022-01-01", end="2025-12-31", snapshot="2026-12-31",
    incident_month=None, duplicate_year=None,
    partner=Partner(start="2025-03-01", share=0.25, age_mean=31, age_sd=8, income_factor=0.8,
                    debt_factor=1.6, minority_share=0.45, debt_consolidation_extra=0.8, fee=1.0,
                    postcode_premium=1.5, retry_from="2025-05-12", retry_until="2025-06-22",
                    retry_rate=0.15),
    shock=Shock(start="2025-08-01", intercept=0.35, dti=1.0))
SCENARIOS = {s.name: s for s in (HISTORY, CAPSTONE)}


def scenario_named(name: "str | Scenario") -> Scenario:
    """A scenario, given as itself or by name; one line naming the known ones otherwise."""
    if isinstance(name, Scenario):
        return name
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; the scenarios are {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def _stage_rngs(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per stage, all from one seed (new stages go at the end)."""
    children = np.random.SeedSequence(seed).spawn(len(STAGES))
    return {stage: np.random.default_rng(child) for stage, child in zip(STAGES, children)}


def _pick(rng: np.random.Generator, labels, probs) -> np.ndarray:
    """One label per row; ``probs`` has one row of (unnormalised) weights per row."""
    probs = np.asarray(probs, float)
    cumulative = probs.cumsum(axis=1) / probs.sum(axis=1, keepdims=True)
    index = (rng.random((len(probs), 1)) > cumulative).sum(axis=1)
    return np.asarray(labels, dtype=object)[np.minimum(index, len(labels) - 1)]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# --- the world -----------------------------------------------------------------

def _volume(rng: np.random.Generator, scenario: Scenario = HISTORY) -> pd.DataFrame:
    """Application dates, month by month, and which applicants the campaign (or the partner) brought."""
    months = pd.period_range(scenario.start, scenario.end, freq="M")
    years = np.asarray([(month - pd.Period(START_DATE, "M")).n for month in months]) / 12  # the lender's age
    mean = (MONTHLY_VOLUME * (1 + ANNUAL_GROWTH) ** years
            * (1 + SEASONALITY * np.cos(2 * np.pi * (months.month - 4) / 12)))
    regular = rng.poisson(mean)
    campaign = rng.poisson(CAMPAIGN_EXTRA_VOLUME * mean * (months.start_time >= COVARIATE_DRIFT_START))
    partner = np.zeros(len(months), int)
    if scenario.partner is not None:  # drawn last, so a world without it draws what it did
        partner = rng.poisson(scenario.partner.share * mean * (months.start_time >= scenario.partner.start))
    per_month = regular + campaign + partner
    start = np.repeat(months.start_time.values.astype("datetime64[D]"), per_month)
    days = np.repeat(months.days_in_month.values, per_month)
    dates = start + (rng.random(len(start)) * days).astype("timedelta64[D]")
    source = np.concatenate([np.repeat([0, 1, 2], [r, c, p]) for r, c, p in zip(regular, campaign, partner)])
    order = np.lexsort((rng.random(len(dates)), dates))  # by date, in random order within a day
    return pd.DataFrame({"application_date": dates[order].astype("datetime64[us]"),
                         "campaign": source[order] == 1, "partner": source[order] == 2})


def _customers(frame: pd.DataFrame, rng: np.random.Generator, start: str = START_DATE) -> np.ndarray:
    """For each application, the row of the same customer's earlier loan, or -1 if new.

    Only applications from a year after ``start`` on, and not from the campaign
    or the partner, can be a returning customer; their earlier loan is at
    least a year before.
    """
    dates = frame["application_date"].to_numpy()
    first_year_over = np.datetime64(pd.Timestamp(start) + pd.DateOffset(years=1), "D")
    returning = ((rng.random(len(frame)) < REPEAT_CUSTOMER_SHARE) & (dates >= first_year_over)
                 & ~frame["campaign"].to_numpy() & ~frame["partner"].to_numpy())
    new_rows = np.flatnonzero(~returning)
    # new customers' loans at least a year before each application
    earlier = np.searchsorted(dates[new_rows], dates - np.timedelta64(365, "D"))
    source = np.full(len(frame), -1)
    source[returning] = new_rows[(rng.random(returning.sum()) * earlier[returning]).astype(int)]
    return source


def _districts(minority: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Postcode district: minority applicants are concentrated in MINORITY_DISTRICTS."""
    size = rng.gamma(8.0, size=len(DISTRICTS))  # districts differ in population
    concentrated = np.isin(DISTRICTS, MINORITY_DISTRICTS)
    majority_w = size / size.sum()
    minority_w = np.where(concentrated, MINORITY_IN_DISTRICTS * size / size[concentrated].sum(),
                          (1 - MINORITY_IN_DISTRICTS) * size / size[~concentrated].sum())
    return _pick(rng, DISTRICTS, np.where(minority[:, None], minority_w, majority_w))


def _partner_applicants(partner: np.ndarray, spec: Partner | None,
                        rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """The partner's applicants' group and age, drawn from its own stage (None where not a partner's)."""
    k = int(partner.sum())
    if spec is None or k == 0:
        return np.zeros(0, bool), np.zeros(0)
    return rng.random(k) < spec.minority_share, rng.normal(spec.age_mean, spec.age_sd, k)


def _applicants(frame: pd.DataFrame, source: np.ndarray, rng: np.random.Generator,
                spec: Partner | None = None, partner_rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Who applies: identity, address, age, job, income, home, existing debt, channel."""
    n, campaign, partner = len(frame), frame["campaign"].to_numpy(), frame["partner"].to_numpy()
    dates = frame["application_date"].to_numpy()
    minority = rng.random(n) < MINORITY_SHARE
    partner_minority, partner_age = _partner_applicants(partner, spec, partner_rng)
    minority[partner] = partner_minority
    district = _districts(minority, rng)
    age = np.where(campaign, rng.normal(CAMPAIGN_AGE_MEAN, 6, n), rng.normal(42, 12, n))
    age[partner] = partner_age
    # a returning customer keeps their ethnicity and address, and is older
    back, earlier = source >= 0, source[source >= 0]
    minority[back], district[back] = minority[earlier], district[earlier]
    age[back] = age[earlier] + (dates[back] - dates[earlier]) / np.timedelta64(365, "D")
    age = np.clip(np.floor(age), 18, 85).astype(int)
    customer = np.cumsum(~back)  # numbered in order of first application
    customer[back] = customer[earlier]

    retired = rng.random(n) < _sigmoid((age - 64) / 2.5)
    employment = np.where(retired, "retired", _pick(rng, EMPLOYMENT_TYPES[:4], [EMPLOYMENT_MIX] * n))
    job_effect = {"salaried": 0.0, "self_employed": 0.1, "contractor": 0.15, "unemployed": -1.0,
                  "retired": -0.35}
    log_income = (np.log(MEDIAN_INCOME) + 0.012 * (age - 18) - 0.0002 * (age - 18) ** 2  # peaks at 48
                  + pd.Series(employment).map(job_effect).to_numpy()
                  + np.where(employment == "self_employed", 0.7, 0.5) * rng.normal(size=n)
                  + np.where(campaign, np.log(CAMPAIGN_INCOME_FACTOR), 0.0)
                  + np.where(partner, np.log(spec.income_factor) if spec else 0.0, 0.0))
    income = np.exp(log_income)
    working = np.isin(employment, ["salaried", "self_employed", "contractor"])
    employment_years = np.where(working, np.minimum(age - 18, rng.gamma(2.0, 3.5, n)), 0.0)
    home = _pick(rng, ["rent", "mortgage", "own"], np.exp(np.column_stack([
        np.zeros(n),
        -1.5 + 0.08 * np.minimum(age - 22, 25) + 0.8 * np.log(income / MEDIAN_INCOME),
        -3.5 + 0.09 * (age - 22)])))
    monthly_debt = (income / 12 * rng.beta(2, 9, n) * np.where(home == "mortgage", 1.5, 1.0)
                    * np.where(partner, spec.debt_factor if spec else 1.0, 1.0))
    # older applicants come to a branch, younger ones online, more so every year
    trend = frame["application_date"].dt.year.to_numpy() - 2019
    channel = _pick(rng, ["branch", "online", "broker"], np.exp(np.column_stack([
        0.02 * (age - 42) - 0.1 * trend, -0.03 * (age - 42) + 0.1 * trend, np.full(n, -0.6)])))
    district_number = np.char.lstrip(district.astype(str), "N").astype(int)
    return frame.assign(
        customer_id=[f"C{c:06d}" for c in customer], age=age, annual_income=income,
        employment_type=employment, employment_years=employment_years, home_ownership=home,
        region=np.asarray(REGIONS, object)[(district_number - 1) // 8], neighbourhood=district,
        channel=np.where(campaign, "online", np.where(partner, "broker", channel)), monthly_debt=monthly_debt,
        ethnicity=np.where(minority, "minority", "majority"))


def _credit_history(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Credit lines, previous defaults, the true credit score, and the bureau's record of it."""
    n, age = len(frame), frame["age"].to_numpy()
    lines = rng.poisson(np.minimum(0.7 + 0.2 * (age - 18), 6.0))
    previous = np.where(lines > 0, rng.poisson(0.13, n), 0)
    true_score = np.clip(np.round(680 + 35 * np.tanh((age - 35) / 15)
                                  + 30 * np.log(frame["annual_income"].to_numpy() / MEDIAN_INCOME)
                                  - 60 * previous + rng.normal(0, 55, n)), 300, 850)
    # the bureau's record: noisy, biased against minority applicants, absent for thin files
    measured = true_score + np.round(rng.normal(0, 10, n))
    penalty = BIAS_SCORE_PENALTY * (frame["ethnicity"] == "minority").to_numpy()
    no_file = lines == 0
    return frame.assign(
        credit_score=np.where(no_file, np.nan, np.clip(measured - penalty, 300, 850)),
        unbiased_credit_score=np.where(no_file, np.nan, np.clip(measured, 300, 850)),
        true_credit_score=true_score, num_credit_lines=lines, previous_defaults=previous)


def _loan_terms(frame: pd.DataFrame, rng: np.random.Generator, spec: Partner | None = None) -> pd.DataFrame:
    """What is borrowed, how much, over how long: it follows the applicant."""
    n = len(frame)
    base = np.log([0.38, 0.20, 0.14, 0.20, 0.08])
    logits = np.tile(base, (n, 1))
    if spec is not None:  # the partner's applicants consolidate debts more often
        logits[:, 0] += np.where(frame["partner"], spec.debt_consolidation_extra, 0.0)
    logits[:, 4] += np.where(frame["employment_type"] == "self_employed", 1.2, 0.0)
    logits[:, 2] += np.where(frame["home_ownership"] == "rent", -1.5, 0.3)
    logits[:, 3] += np.where(frame["campaign"], 1.3, 0.0)  # the campaign advertised cards
    purpose = _pick(rng, PURPOSES, np.exp(logits))
    median = pd.Series(purpose).map({"debt_consolidation": 9000, "car": 12000, "home_improvement": 14000,
                                     "credit_card": 4000, "small_business": 18000}).to_numpy()
    amount = median * np.sqrt(frame["annual_income"] / MEDIAN_INCOME) * rng.lognormal(0, 0.45, n)
    amount = np.clip(np.round(amount, -2), 500, MAX_LOAN_AMOUNT)
    band = np.digitize(amount, [5000, 15000])  # small, medium, large loans
    term_probs = np.array([[0.40, 0.40, 0.20, 0.00], [0.10, 0.30, 0.45, 0.15], [0.00, 0.10, 0.45, 0.45]])
    term = _pick(rng, [12, 24, 36, 60], term_probs[band]).astype(int)
    return frame.assign(loan_purpose=purpose, loan_amount=amount, loan_term_months=term)


RATE_CARD = (3.99, 29.99)  # the lowest and highest rate the lender offers, percent a year


def _legacy_price(score, frame: pd.DataFrame, noise, premium) -> np.ndarray:
    """The lender's old rate card, in percent a year; thin files are priced as a 600 score."""
    score = np.where(np.isnan(score), 600, score)
    rate = (8.0 + PRICING_SCORE_SLOPE * (720 - score)
            + frame["loan_term_months"].map({12: 0.0, 24: 0.25, 36: 0.5, 60: 1.0}).to_numpy()
            + frame["loan_purpose"].map({"small_business": 1.5, "credit_card": 1.0,
                                         "debt_consolidation": 0.5}).fillna(0.0).to_numpy()
            + 1.25 * np.minimum(frame["previous_defaults"], 3) + 0.5 * (frame["channel"] == "broker")
            + premium + noise)
    return np.clip(rate, *RATE_CARD)


def _partner_pricing(frame: pd.DataFrame, spec: Partner | None) -> tuple[np.ndarray, np.ndarray]:
    """What the partner adds to the rate card: its fee on every loan, and its premium by postcode."""
    if spec is None:
        return np.zeros(len(frame)), np.zeros(len(frame))
    partner = frame["partner"].to_numpy()
    by_postcode = partner & frame["neighbourhood"].isin(MINORITY_DISTRICTS).to_numpy()
    return spec.fee * partner, spec.postcode_premium * by_postcode


def _legacy_pricing(frame: pd.DataFrame, rng: np.random.Generator, spec: Partner | None = None) -> pd.DataFrame:
    """The rate charged, and the rate a fair rule (true record, no premium) would have charged.

    The partner's fee is a price, not a bias: the fair rate keeps it; its
    premium by postcode is priced on where people live, which is a proxy for
    the group: the fair rate leaves it out.
    """
    noise = rng.normal(0, 0.6, len(frame))
    minority = (frame["ethnicity"] == "minority").to_numpy()
    fee, by_postcode = _partner_pricing(frame, spec)
    return frame.assign(
        interest_rate=_legacy_price(frame["credit_score"].to_numpy(), frame, noise,
                                    BIAS_RATE_PREMIUM * minority + fee + by_postcode),
        fair_interest_rate=_legacy_price(frame["unbiased_credit_score"].to_numpy(), frame, noise, fee))


def monthly_payment(amount, rate_percent, months):
    """The instalment of an amortising loan (at a zero rate: amount / months).

    For a rate near zero, ``(1 + r) ** -n`` rounds to 1 and the textbook
    formula divides by zero (a rate of 1e-14 % gave an infinite payment, a
    rate of 0 a NaN). There the payment is its limit, amount / n, plus the
    first-order interest; elsewhere the formula is unchanged, bit for bit.
    """
    r = np.asarray(rate_percent, dtype="float64") / 1200
    n = np.asarray(months, dtype="float64")
    small = np.abs(r * n) < 1e-6
    safe = np.where(small, 1.0, r)  # any rate the formula handles; replaced below
    payment = amount * safe / (1 - (1 + safe) ** -n)
    if np.any(small):
        limit = amount * (1 + r * (n + 1) / 2) / n
        payment = payment.where(~small, limit) if isinstance(payment, pd.Series) \
            else np.where(small, limit, payment)
    return payment


def _downturn(dates: pd.Series, dti: np.ndarray) -> np.ndarray:
    """Concept drift: from CONCEPT_DRIFT_START the same loan is likelier to default."""
    after = (dates >= CONCEPT_DRIFT_START).to_numpy()
    return after * (DOWNTURN_INTERCEPT + DOWNTURN_DTI_EXTRA * dti)


def _shock(dates: pd.Series, dti: np.ndarray, shock: Shock | None) -> np.ndarray:
    """A scenario's shock to repayment: from its start, the same loan is likelier to default."""
    if shock is None:
        return np.zeros(len(dti))
    after = (dates >= shock.start).to_numpy()
    return after * (shock.intercept + shock.dti * dti)


def true_log_odds(frame: pd.DataFrame, interest_rate=None, scenario: Scenario = HISTORY) -> np.ndarray:
    """The true default log-odds of each loan in a *world* frame (see ``simulate``).

    ``interest_rate`` overrides the rate charged, to ask what a fair price would
    have done. Uses the true income and true credit score, not the records.
    """
    rate = frame["interest_rate"].to_numpy() if interest_rate is None else np.asarray(interest_rate)
    income = frame["annual_income"].to_numpy()
    dti = np.minimum((frame["monthly_debt"] + monthly_payment(
        frame["loan_amount"], rate, frame["loan_term_months"])).to_numpy() / (income / 12), 2.0)
    lti = np.minimum(frame["loan_amount"].to_numpy() / income, 2.0)
    return (INTERCEPT
            + COEF_CREDIT_SCORE * (np.minimum(frame["true_credit_score"].to_numpy(), SCORE_CAP) - 680) / 75
            + COEF_DTI * dti + COEF_DTI_OVER * np.maximum(dti - DTI_THRESHOLD, 0)
            + COEF_LTI * lti
            + COEF_EMPLOYMENT_YEARS * np.minimum(frame["employment_years"].to_numpy(), 10)
            + frame["employment_type"].map(EMPLOYMENT_EFFECT).to_numpy()
            + COEF_PREVIOUS_DEFAULTS * np.minimum(frame["previous_defaults"].to_numpy(), 3)
            + frame["loan_purpose"].map(PURPOSE_EFFECT).to_numpy()
            + SMALL_BUSINESS_SELF_EMPLOYED * ((frame["loan_purpose"] == "small_business")
                                              & (frame["employment_type"] == "self_employed")).to_numpy()
            + COEF_INTEREST_RATE * (rate - 12)
            + COEF_AGE * ((frame["age"].to_numpy() - 45) / 25) ** 2
            + frame["region"].map(REGION_EFFECT).to_numpy()
            + _downturn(frame["application_date"], dti)
            + _shock(frame["application_date"], dti, scenario.shock)
            + frame["unobserved_risk"].to_numpy())


def _outcomes(frame: pd.DataFrame, rng: np.random.Generator, scenario: Scenario = HISTORY) -> pd.DataFrame:
    """One draw per loan from its true probability, known LABEL_DELAY_MONTHS later."""
    frame = frame.assign(unobserved_risk=rng.normal(0, UNOBSERVED_SD, len(frame)))
    probability = _sigmoid(true_log_odds(frame, scenario=scenario))
    return frame.assign(
        default_probability=probability,
        fair_default_probability=_sigmoid(true_log_odds(frame, frame["fair_interest_rate"], scenario)),
        defaulted=(rng.random(len(frame)) < probability).astype(int),
        outcome_known_date=frame["application_date"] + pd.DateOffset(months=LABEL_DELAY_MONTHS))


def _early_delinquency(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """30+ days past due in the first months: drawn from the loan's own outcome and risk.

    A loan that defaults was often late early (``EARLY_GIVEN_DEFAULT``); one
    that is repaid was late early with a probability proportional to its
    true default probability. So the indicator moves with the true risk,
    including the downturn's, months before ``defaulted`` is known; and it
    misses the defaults that come late in a loan's life.
    """
    p = np.where(frame["defaulted"] == 1, EARLY_GIVEN_DEFAULT,
                 EARLY_GIVEN_REPAID * frame["default_probability"].to_numpy())
    return frame.assign(
        early_delinquency=(rng.random(len(frame)) < p).astype(int),
        early_delinquency_known_date=frame["application_date"] + pd.DateOffset(months=EARLY_WINDOW_MONTHS))


def _retried(frame: pd.DataFrame, spec: Partner | None, rng: np.random.Generator) -> np.ndarray:
    """Which of the partner's requests its faulty release sent twice (the intake stored both)."""
    if spec is None:
        return np.zeros(len(frame), bool)
    dates = frame["application_date"]
    window = frame["partner"].to_numpy() & (dates >= spec.retry_from).to_numpy() \
        & (dates <= spec.retry_until).to_numpy()
    retried = np.zeros(len(frame), bool)
    retried[window] = rng.random(int(window.sum())) < spec.retry_rate
    return retried


def _ids(retried: np.ndarray) -> list[str]:
    """Application ids in date order; a retry takes the number after its original's."""
    number = np.arange(1, len(retried) + 1) + np.cumsum(retried) - retried
    return [f"A{i:07d}" for i in number]


def simulate(seed: int | None = None, scenario: "Scenario | str" = HISTORY) -> pd.DataFrame:
    """The world before the records are spoiled, with the hidden truth in extra columns.

    Besides the published columns (all clean here) it has ``campaign`` (brought
    by the 2023 campaign), ``partner`` (came through a scenario's partner API),
    ``retried`` (a request the partner sent twice: the records hold it twice),
    ``true_credit_score``, ``unbiased_credit_score`` (the bureau's record
    without the penalty), ``fair_interest_rate`` (the rate card without
    either bias), ``unobserved_risk``, ``default_probability`` and
    ``fair_default_probability`` (at the fair rate). The tests and the
    instructors use it; learners see only ``generate_loans``. ``seed``
    defaults to the scenario's.
    """
    scenario = scenario_named(scenario)
    rngs = _stage_rngs(scenario.seed if seed is None else seed)
    frame = _volume(rngs["volume"], scenario)
    source = _customers(frame, rngs["customers"], scenario.start)
    frame = _applicants(frame, source, rngs["applicants"], scenario.partner, rngs["partner"])
    frame = _credit_history(frame, rngs["credit_history"])
    frame = _loan_terms(frame, rngs["loan_terms"], scenario.partner)
    frame = _legacy_pricing(frame, rngs["pricing"], scenario.partner)
    frame = _outcomes(frame, rngs["outcomes"], scenario)
    # the last stage of the history, from its own child seed: adding it changed no other column
    frame = _early_delinquency(frame, rngs["early_delinquency"])
    retried = _retried(frame, scenario.partner, rngs["retries"])
    return frame.assign(retried=retried, application_id=_ids(retried))


# --- the records ---------------------------------------------------------------

def _missing_values(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Blanks, not at random: the self-employed skip job tenure, brokers skip income."""
    n = len(frame)
    self_employed = frame["employment_type"] == "self_employed"
    years_gone = rng.random(n) < np.where(self_employed, MISSING_EMPLOYMENT_YEARS["self_employed"],
                                          MISSING_EMPLOYMENT_YEARS["other"])
    income_gone = rng.random(n) < np.where(frame["channel"] == "broker", MISSING_INCOME["broker"],
                                           MISSING_INCOME["other"])
    home_gone = rng.random(n) < MISSING_HOME_OWNERSHIP
    return frame.assign(employment_years=frame["employment_years"].mask(years_gone),
                        annual_income=frame["annual_income"].mask(income_gone),
                        home_ownership=frame["home_ownership"].mask(home_gone))


def _incident(frame: pd.DataFrame, rng: np.random.Generator, incident_month: str = INCIDENT_MONTH) -> pd.DataFrame:
    """One month of records from a broken upstream release (the outcomes are untouched)."""
    month = (frame["application_date"].dt.strftime("%Y-%m") == incident_month).to_numpy()
    rows = np.flatnonzero(month)
    lost = np.zeros(len(frame), bool)
    lost[rng.choice(rows, round(INCIDENT_EMPLOYMENT_MISSING * len(rows)), replace=False)] = True
    return frame.assign(
        annual_income=np.where(month, frame["annual_income"] / INCIDENT_INCOME_DIVISOR,
                               frame["annual_income"]),
        employment_type=frame["employment_type"].mask(lost))


def _duplicate_batch(frame: pd.DataFrame, rng: np.random.Generator, year: int = 2021) -> np.ndarray:
    """The rows of one batch of consecutive applications of ``year``, which is loaded twice."""
    rows = np.flatnonzero(frame["application_date"].dt.year == year)
    start = rng.integers(rows[0], rows[-1] - DUPLICATE_ROWS)
    return np.arange(start, start + DUPLICATE_ROWS)


def _bad_records(frame: pd.DataFrame, batch: np.ndarray, rng: np.random.Generator,
                 incident_month: str | None = INCIDENT_MONTH) -> pd.DataFrame:
    """Entry errors, in exactly the documented numbers (none in the duplicated batch)."""
    frame = frame.copy()
    free = np.ones(len(frame), bool)
    free[batch] = False

    def rows(count: int, allowed=True) -> np.ndarray:
        return frame.index[rng.choice(np.flatnonzero(free & allowed), count, replace=False)]

    frame.loc[rows(IMPOSSIBLE_AGE_COUNT), "age"] = rng.choice(IMPOSSIBLE_AGES, IMPOSSIBLE_AGE_COUNT)
    in_month = frame["application_date"].dt.strftime("%Y-%m") == incident_month
    bad = rows(NONPOSITIVE_INCOME_COUNT, frame["annual_income"].notna() & ~in_month)
    frame.loc[bad, "annual_income"] = np.where(rng.random(len(bad)) < 0.5,  # negative, or zero
                                               -frame.loc[bad, "annual_income"], 0.0)
    typo = rows(REGION_TYPO_COUNT)
    variant = rng.integers(0, 3, len(typo))
    frame.loc[typo, "region"] = [REGION_TYPOS[r][v] for r, v in zip(frame.loc[typo, "region"], variant)]
    big = rows(LOAN_AMOUNT_OUTLIER_COUNT, frame["loan_amount"] >= 1000)
    frame.loc[big, "loan_amount"] *= LOAN_AMOUNT_OUTLIER_FACTOR
    return frame


def _with_retries(frame: pd.DataFrame) -> pd.DataFrame:
    """Each retried request stored again right after its original: the same row under the next id."""
    retried = frame["retried"].to_numpy()
    if not retried.any():
        return frame
    copies = frame[retried].assign(
        application_id=[f"A{int(i[1:]) + 1:07d}" for i in frame.loc[retried, "application_id"]])
    position = np.r_[np.arange(len(frame)), np.flatnonzero(retried) + 0.5]
    return pd.concat([frame, copies]).iloc[np.argsort(position, kind="stable")]


def generate_loans(seed: int | None = None, scenario: "Scenario | str" = HISTORY) -> pd.DataFrame:
    """The raw data set of a scenario, exactly as its file holds it (same seed, same rows).

    ``HISTORY`` is ``data/loans.csv.gz``; ``CAPSTONE`` is ``data/capstone/loans.csv.gz``.
    """
    scenario = scenario_named(scenario)
    rngs = _stage_rngs(scenario.seed if seed is None else seed)
    frame = simulate(seed, scenario)
    frame = _missing_values(frame, rngs["missing"])
    if scenario.incident_month is not None:
        frame = _incident(frame, rngs["incident"], scenario.incident_month)
    batch = (np.zeros(0, int) if scenario.duplicate_year is None
             else _duplicate_batch(frame, rngs["duplicates"], scenario.duplicate_year))
    frame = _bad_records(frame, batch, rngs["bad_records"], scenario.incident_month)
    if len(batch):  # the batch is loaded again right after itself
        order = np.r_[np.arange(batch[-1] + 1), batch, np.arange(batch[-1] + 1, len(frame))]
        frame = frame.iloc[order].reset_index(drop=True)
    frame = _with_retries(frame).reset_index(drop=True)
    frame = frame[list(COLUMNS)].round(DECIMALS)
    return frame.astype({"application_date": "datetime64[us]", "outcome_known_date": "datetime64[us]",
                         "early_delinquency_known_date": "datetime64[us]"})


if __name__ == "__main__":  # a quick look: python -m mlecourse.lender.data.loans
    print(generate_loans().describe(include="all").T.to_string())
