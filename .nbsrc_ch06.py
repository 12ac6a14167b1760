"""Builds chapters/06_monitoring.ipynb from the cells below (run, then delete nothing)."""
import json
import sys

SETUP = '''# Setup: makes the course's package importable wherever this notebook runs.
import importlib.util, subprocess, sys
if importlib.util.find_spec("mlecourse") is None:  # e.g. opened on Colab
    subprocess.run(["git", "clone", "--depth=1", "https://github.com/mlecourse/becoming-an-mle", "course"], check=True)
    sys.path.insert(0, "course/src")'''

cells = []


def md(text):
    cells.append(("markdown", text.strip("\n"), []))


def code(text, tags=()):
    cells.append(("code", text.strip("\n"), list(tags)))


def hidden(text):
    code(text, ["remove-cell"])


code(SETUP, ["remove-cell"])

md('''
# Monitoring and maintenance

A deployed model starts ageing the day it ships. The applicants change, the
economy changes, an upstream system changes the unit of a column, and the
model keeps answering with the same confidence. The report puts it plainly:
the lifecycle does not end at deployment, because models in a changing world
degrade through {term}`data drift <Data drift>` and {term}`concept drift <Concept drift>`
{cite:p}`caltechctmenda,deepchecks2025`, and it lists what a team should
watch: prediction performance where labels exist, data drift, concept drift,
operational metrics and business KPIs {cite:p}`neptune2025b,mlopsorgnd`, with
alerts that start a retraining, an investigation or a rollback
{cite:p}`neptune2025b`.

The report lists; this chapter monitors. The case-study data was made with
its changes written down (see {doc}`02_meet_the_data`): an online campaign
brings younger, poorer applicants from January 2023 (covariate drift), a
downturn raises the risk of the same applicant from July 2023 (concept
drift), and in October 2022 an upstream release stored incomes in
thousands. Because the truth is known, we can measure each method: the month
it first raises its hand, the delay after the true change, and how often it
cries wolf on months where nothing happened.

1. a **production replay**: the real service of {doc}`05_deployment` scores
   every month from 2022 to 2024, and every prediction goes into a
   **prediction log** in SQLite;
2. **data drift** per feature and month, **prediction drift**, and
   **performance** once the labels arrive a year later, next to an
   **estimate** made without labels;
3. a **leading indicator** for the label delay, and what **concept drift**
   looks like;
4. the service's **operational metrics** in Prometheus format, **SLOs** and
   **alert rules** tested with `promtool`;
5. thresholds from a **false-alarm budget**, and **retraining policies**
   compared by what they cost the lender.
''')

md('''
```{admonition} What this chapter needs
:class: note
The cleaned data and the time split of {doc}`03_lifecycle_features` (train on
2019-2020, validate on 2021), its validation of a batch; the model and the
cost of a decision of {doc}`04_model_development` (a missed default costs
5,000, a wrong refusal 1,000, refuse above a probability of 1/6); the
service of {doc}`05_deployment`. Nothing needs the internet.
```
''')

code('''
import contextlib
import json
import tempfile
import time
from pathlib import Path

import httpx
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from myst_nb import glue
from scipy import stats
from sklearn.inspection import permutation_importance
from threadpoolctl import threadpool_limits

from mlecourse.lender import (alerting, drift, loans as spec, perf_estimation, predlog, replay,
                              retraining, serving, service_metrics, validation)
from mlecourse.lender.business import COSTS, decision_cost
from mlecourse.lender.data import load_loans
from mlecourse.lender.features import CATEGORICAL, RAW_FEATURES, LoanRatios, clean_loans, split_by_date
from mlecourse.lender.modeling import train_model
from mlecourse.paths import ROOT

threadpool_limits(limits=1, user_api="openmp");  # one thread per model call, as the service uses
''')

md('''
## The deployed model and what it was trained on

The model in production is the course's model: gradient boosting trained on
2019-2020. Its **reference window** is its training data: drift is measured
against what the model learnt from. The validation year, 2021, is the
team's first look at the model on unseen months; it is also a year of
months known to be quiet, which we will use to set thresholds.
''')

code('''
raw = load_loans()
loans, _ = clean_loans(raw)
train, valid, _ = split_by_date(loans)
model = train_model(train)
reference = validation.Reference.from_frame(train)  # what the batch validation compares with

valid_scores = model.predict_proba(valid[list(RAW_FEATURES)])[:, 1]
calibrator = perf_estimation.fit_calibrator(valid_scores, valid["defaulted"])
print(f"trained on {len(train):,} loans; validated on {len(valid):,}")
''')

md('''
## A production replay through the real service

Each month, in order, the replay does what the lender's batch job would:
validate the month's raw applications as {doc}`03_lifecycle_features` taught
(a rejected batch never reaches the model), clean the accepted rows, send
them to the service over HTTP in batches of 1,000 (the service's limit), and
write every prediction to the **prediction log**. The log is a SQLite file
with a documented schema: one row per application scored, with the request
it came in, the day, the model version, the inputs as sent, the score, the
decision and the request's latency. Outcomes go to their own table with the
day each becomes known, so that a query "as of" a day sees only what was
known on that day.
''')

code('''
workdir = tempfile.TemporaryDirectory()
conn = predlog.connect(Path(workdir.name) / "predictions.sqlite")
app = serving.create_app(model, {"version": "1.0.0", "threshold": COSTS.threshold})
services = contextlib.ExitStack()
url = services.enter_context(serving.serve(app))
client = services.enter_context(httpx.Client(base_url=url, timeout=60))
print(predlog.SCHEMA)
''')

md('''
The replay runs a year per cell. After each year we scrape the service's
`/metrics` page, as Prometheus would.
''')

code('''
def scrape() -> dict:
    """A few numbers from the service's /metrics page (Prometheus text format)."""
    from prometheus_client.parser import text_string_to_metric_families
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name in ("lender_requests_total", "lender_predicted_default_probability_count",
                               "lender_predicted_default_probability_sum",
                               "lender_request_duration_seconds_count", "lender_request_duration_seconds_sum"):
                if sample.labels.get("path", "/predict") == "/predict":
                    found[sample.name] = found.get(sample.name, 0) + sample.value
    return found


runs, scrapes = [], []
began = time.perf_counter()
runs.append(replay.replay(client, raw, conn, replay.months_of(raw, "2022-01", "2022-12"), reference))
scrapes.append({"after": "2022", **scrape()})
''')

code('''
runs.append(replay.replay(client, raw, conn, replay.months_of(raw, "2023-01", "2023-12"), reference))
scrapes.append({"after": "2023", **scrape()})
''')

code('''
runs.append(replay.replay(client, raw, conn, replay.months_of(raw, "2024-01", "2024-12"), reference))
scrapes.append({"after": "2024", **scrape()})
replay_seconds = time.perf_counter() - began
months = pd.concat(runs, ignore_index=True).set_index("month")
scored = int(months["scored"].sum())
print(f"{scored:,} applications scored in {int(months['requests'].sum())} requests, "
      f"{replay_seconds:.1f} s: {scored / replay_seconds:,.0f} applications a second")
pd.DataFrame(scrapes).set_index("after")
''')

hidden('''
glue("replay_scored", scored, display=False)
glue("replay_requests", int(months["requests"].sum()), display=False)
glue("replay_seconds", replay_seconds, display=False)
glue("replay_rate", scored / replay_seconds, display=False)
glue("replay_months", len(months), display=False)
''')

md('''
The service scored {glue:text}`replay_scored:,` applications of
{glue:text}`replay_months` months in {glue:text}`replay_requests` requests,
about {glue:text}`replay_rate:,.0f` applications a second including
validation, cleaning and logging. The counters scraped from `/metrics` agree
with the log: every application scored is one observation of the score
histogram.

## The label delay: what the team could know, and when

A loan's outcome is known twelve months after the application. The query
below asks the log, at the end of each quarter, how many of the predictions
made so far have a known outcome.
''')

code('''
ends = pd.date_range("2022-03-31", "2025-12-31", freq="QE")
knowable = pd.DataFrame([{"as of": day.date(), "predictions": len(view := predlog.known_as_of(conn, day)),
                          "with outcome": int(view["defaulted"].notna().sum()),
                          "with early delinquency": int(view["early_delinquency"].notna().sum())}
                         for day in ends]).set_index("as of")
knowable
''')

hidden('''
first_label = knowable[knowable["with outcome"] > 0].index[0]
glue("first_label", str(first_label), display=False)
''')

md('''
For a whole year after going live the team has predictions and no outcome
at all: the first outcome of a logged prediction arrives in the quarter
ending {glue:text}`first_label`. Everything a team watches before that is
about inputs and outputs, not about whether the model is right. The last
column is a leading indicator we come back to below.

## The incident of October 2022: caught before the model

The replay's validation refused one month.
''')

code('''
predlog.rejected_batches(conn)
''')

md('''
The batch validation of {doc}`03_lifecycle_features` compares each batch's
median income with training's and sees a factor of a thousand: incomes were
stored in thousands. The whole month was quarantined, nothing was scored,
and the log records why. What would the model have done had the month gone
through? We score it both ways: as sent (incomes in thousands) and repaired.
''')

code('''
october = loans[loans["application_date"].dt.strftime("%Y-%m") == spec.INCIDENT_MONTH]
as_sent = october.assign(annual_income=october["annual_income"] / spec.INCIDENT_INCOME_DIVISOR)


def decisions(frame):
    refuse = model.predict_proba(frame[list(RAW_FEATURES)])[:, 1] > COSTS.threshold
    return refuse.mean(), decision_cost(frame["defaulted"], refuse)


refused_sent, cost_sent = decisions(as_sent)
refused_fixed, cost_fixed = decisions(october)
income_psi = drift.psi(train["annual_income"], as_sent["annual_income"])
print(f"as sent:  refuses {refused_sent:.0%}, costs {cost_sent:,.0f} per application")
print(f"repaired: refuses {refused_fixed:.0%}, costs {cost_fixed:,.0f} per application")
print(f"PSI of the income as sent: {income_psi:.1f}")
''')

hidden('''
glue("refused_sent", float(refused_sent), display=False)
glue("refused_fixed", float(refused_fixed), display=False)
glue("cost_sent", float(cost_sent), display=False)
glue("cost_fixed", float(cost_fixed), display=False)
glue("incident_loss", float((cost_sent - cost_fixed) * len(october)), display=False)
glue("income_psi", float(income_psi), display=False)
assert refused_sent > 2 * refused_fixed, "the incident no longer changes the model's decisions much"
''')

md('''
With incomes a thousand times too small, every applicant looks hopelessly
over-indebted: the model would have refused {glue:text}`refused_sent:.0%` of
the month instead of {glue:text}`refused_fixed:.0%`, and its decisions would
have cost {glue:text}`cost_sent:,.0f` per application instead of
{glue:text}`cost_fixed:,.0f`, about {glue:text}`incident_loss:,.0f` for the
month in refused good customers. Nothing in the service would have
complained: the incomes are valid positive numbers, the answers fast and
well formed. A drift statistic would have screamed (a PSI of
{glue:text}`income_psi:.1f` on income), but after the fact; the batch check
stops the month before any decision is made. This is the report's "data
quality and pipeline brittleness" {cite:p}`pachyderm2025` with a number on it.

## Data drift, per feature and per month

The log keeps the inputs exactly as the service received them, so drift is
measured on what the model saw. We compare each month with the training
window using four statistics:

* the {term}`population stability index <Population stability index>` (PSI), the credit industry's own measure
  {cite:p}`yurdakul2018psi,siddiqi2017credit`: cut the reference into ten bins
  of equal share (deciles), and sum `(a - e) ln(a / e)` over the bins, where `e`
  and `a` are the reference's and the month's shares;
* the two-sample Kolmogorov-Smirnov statistic: the largest gap between the two
  cumulative distributions;
* the Wasserstein distance: how much probability has to move, and how far;
  divided here by the reference's standard deviation so that one threshold
  fits every feature;
* for categories, the chi-square test and the Jensen-Shannon distance.

The workbook asks you to write PSI. Here is the package's, checked against
scipy: PSI is exactly the Kullback-Leibler divergence taken both ways, which
scipy computes as `entropy`.
''')

code('''
inputs = predlog.inputs_frame(conn)
january = inputs[inputs["application_date"].dt.strftime("%Y-%m") == "2023-01"]
edges = drift.bin_edges(train["age"])
e, a = drift.shares(train["age"], edges), drift.shares(january["age"], edges)
ours = drift.psi(train["age"], january["age"])
scipys = stats.entropy(a, e) + stats.entropy(e, a)
print(f"PSI of age, January 2023: ours {ours:.6f}, scipy {scipys:.6f}")
assert abs(ours - scipys) < 1e-9
''')

hidden('''
glue("psi_age_jan", float(ours), display=False)
''')

code('''
production = pd.concat([valid[["application_date", *RAW_FEATURES]], inputs], ignore_index=True)
table = drift.drift_table(train, production, RAW_FEATURES, categorical=CATEGORICAL)
psi = table.pivot(index="month", columns="feature", values="psi")
psi.loc[["2022-11", "2022-12", "2023-01", "2023-02"]].T.sort_values("2023-01", ascending=False).head(6).round(3)
''')

code('''
stable = [m for m in psi.index if m < "2023-01" and m != spec.INCIDENT_MONTH]
campaign = [m for m in psi.index if m >= "2023-01"]
moved = (psi.loc[campaign].mean() - psi.loc[stable].mean()).sort_values(ascending=False)
p_values = table.pivot(index="month", columns="feature", values="p_value")
flagged_by_p = (p_values.loc[stable] < 0.05).sum(axis=1)
print("rise of the mean PSI, campaign months minus stable months:")
print(moved.round(3).head(6).to_string())
print(f"stable months with at least one p < 0.05: {(flagged_by_p > 0).sum()} of {len(stable)}")
''')

hidden('''
top = moved.index[:3].tolist()
glue("moved_1", top[0], display=False)
glue("moved_2", top[1], display=False)
glue("moved_3", top[2], display=False)
glue("moved_1_psi", float(psi.loc[campaign, top[0]].mean()), display=False)
glue("stable_1_psi", float(psi.loc[stable, top[0]].mean()), display=False)
glue("age_psi_campaign", float(psi.loc[campaign, "age"].mean()), display=False)
glue("income_psi_campaign", float(psi.loc[campaign, "annual_income"].mean()), display=False)
glue("p_flag_months", int((flagged_by_p > 0).sum()), display=False)
glue("n_stable", len(stable), display=False)
glue("max_stable_psi", float(psi.loc[stable].max().max()), display=False)
assert set(top) >= {"channel", "age"}, "the campaign should move channel and age most"
assert psi.loc[stable].max().max() < 0.1, "a stable month drifts more than 0.1"
''')

md('''
The campaign is found where it was put: from January 2023, {glue:text}`moved_1`
moves most (a mean PSI of {glue:text}`moved_1_psi:.2f` against
{glue:text}`stable_1_psi:.2f` in the stable months), then
{glue:text}`moved_2` and {glue:text}`moved_3`; age averages
{glue:text}`age_psi_campaign:.2f` and income {glue:text}`income_psi_campaign:.2f`.
No stable month has a feature above {glue:text}`max_stable_psi:.2f`.

**Why not p-values?** {glue:text}`p_flag_months` of the {glue:text}`n_stable`
stable months have at least one feature with p < 0.05. With fifteen features
a month, one in twenty tests is "significant" by chance alone, and with a
seventeen-thousand-row reference even a real but harmless difference (the
slow rise of online applications, a seasonal mix) becomes significant. A test
answers "are these two samples from exactly the same distribution?", to which
the answer in production is always no. The useful question is "how large is
the change?": an effect size (PSI, KS statistic, Wasserstein distance) with a
threshold chosen for its consequences {cite:p}`rabanser2019failing`.

**Where 0.1 and 0.25 come from.** The PSI rules of thumb ("below 0.1 no
change, 0.1-0.25 a minor shift, above 0.25 a major one") are industry lore
from credit scorecards; {cite:t}`yurdakul2018psi` traces them and shows what
they assume: a fixed number of bins (ten), and samples large enough that the
noise in the PSI is small against 0.1. Neither holds in general. The
noise in a PSI grows as the number of bins over the sample size, so a month
of 800 applications shows a PSI of a few hundredths with no change at all,
which is what the stable months above show. A threshold belongs to the data
and to the cost of an alarm, as the section on alerts below does.

**Does this drift hurt?** The next plot answers with the labels.
''')

md('''
## Prediction drift, performance, and performance without labels

Three views of the model by month. *Prediction drift* needs no label: the
mean predicted probability. *Performance* needs the outcome, known a year
later: the AUC, the observed default rate next to the mean prediction
(calibration), the cost of the decisions. And an *estimate* of performance
from the scores alone, the idea of NannyML's confidence-based performance
estimation (CBPE) {cite:p}`nannyml2023cbpe`: if the scores are calibrated, a
score of 0.2 *is* a 20% chance of default, so the expected default rate,
the expected AUC and the expected cost follow from the scores.
`perf_estimation` implements it in a few lines (NannyML itself does not
install beside this course's pinned libraries), with the calibration learnt
on 2021.
''')

code('''
scored_2021 = valid.assign(month=valid["application_date"].dt.strftime("%Y-%m"), score=valid_scores)
final = predlog.known_as_of(conn, "2025-12-31")  # the snapshot: every outcome known
by_month = pd.concat([scored_2021[["month", "score", "defaulted", "early_delinquency"]],
                      final[["month", "score", "defaulted", "early_delinquency"]]], ignore_index=True)
monitor = perf_estimation.estimated(by_month, calibrator).join(
    perf_estimation.realised(by_month).drop(columns="mean_score"))
monitor["early_rate"] = by_month.groupby("month")["early_delinquency"].mean()
monitor["max_psi"] = psi.max(axis=1)
monitor[["mean_score", "default_rate", "est_auc", "auc", "est_cost", "cost"]].loc["2022-10":"2023-09"].round(3)
''')

code('''
def known_line(ax, lag, label):
    """Shade what was not yet known at the end of 2023, for a measure known `lag` months late."""
    cut = pd.Period("2023-12", "M") - lag
    ax.axvspan(cut.to_timestamp(), pd.Timestamp("2025-01-01"), color="grey", alpha=0.15,
               label=f"{label} not yet known at the end of 2023")


x = pd.PeriodIndex(monitor.index, freq="M").to_timestamp()
fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
axes[0].plot(x, monitor["default_rate"], label="observed default rate (known 12 months later)")
axes[0].plot(x, monitor["mean_score"], label="mean predicted probability (known at once)")
axes[0].plot(x, monitor["early_rate"], label="early delinquency (known 3 months later)")
axes[0].set_ylabel("share of loans")
known_line(axes[0], 12, "defaults")
axes[1].plot(x, monitor["auc"], label="AUC, with labels")
axes[1].plot(x, monitor["est_auc"], "--", label="estimated AUC, without labels (CBPE)")
axes[1].set_ylabel("AUC")
axes[2].plot(x, monitor["cost"], label="cost of the decisions, with labels")
axes[2].plot(x, monitor["est_cost"], "--", label="estimated cost, without labels (CBPE)")
axes[2].set_ylabel("cost per application (units)")
axes[2].set_xlabel("month of application")
for ax in axes:
    for day, name in [(spec.COVARIATE_DRIFT_START, "campaign"), (spec.CONCEPT_DRIFT_START, "downturn")]:
        ax.axvline(pd.Timestamp(day), color="black", lw=0.8, ls=":")
    ax.legend(fontsize=7, loc="upper left")
axes[0].set_title("The model by month of application, 2021-2024")
fig.tight_layout()
''')

hidden('''
h1 = [m for m in monitor.index if "2023-01" <= m < "2023-07"]
h2 = [m for m in monitor.index if "2023-07" <= m < "2024-01"]
quiet = [m for m in monitor.index if m < "2023-01" and m != spec.INCIDENT_MONTH]
glue("dr_stable", float(monitor.loc[quiet, "default_rate"].mean()), display=False)
glue("dr_h1", float(monitor.loc[h1, "default_rate"].mean()), display=False)
glue("dr_h2", float(monitor.loc[h2, "default_rate"].mean()), display=False)
glue("score_h1", float(monitor.loc[h1, "mean_score"].mean()), display=False)
glue("score_h2", float(monitor.loc[h2, "mean_score"].mean()), display=False)
glue("auc_stable", float(monitor.loc[quiet, "auc"].mean()), display=False)
glue("auc_h1", float(monitor.loc[h1, "auc"].mean()), display=False)
glue("auc_h2", float(monitor.loc[h2, "auc"].mean()), display=False)
glue("estauc_h2", float(monitor.loc[h2, "est_auc"].mean()), display=False)
glue("cost_stable", float(monitor.loc[quiet, "cost"].mean()), display=False)
glue("cost_h1", float(monitor.loc[h1, "cost"].mean()), display=False)
glue("cost_h2", float(monitor.loc[h2, "cost"].mean()), display=False)
glue("estcost_h1", float(monitor.loc[h1, "est_cost"].mean()), display=False)
glue("estcost_h2", float(monitor.loc[h2, "est_cost"].mean()), display=False)
glue("early_h1", float(monitor.loc[h1, "early_rate"].mean()), display=False)
glue("early_h2", float(monitor.loc[h2, "early_rate"].mean()), display=False)
assert monitor.loc[h2, "cost"].mean() > 1.3 * monitor.loc[h1, "cost"].mean(), "the downturn no longer costs"
assert abs(monitor.loc[h1, "mean_score"].mean() - monitor.loc[h1, "default_rate"].mean()) < 0.02
assert monitor.loc[h2, "default_rate"].mean() > monitor.loc[h2, "mean_score"].mean() + 0.03
''')

md('''
Read the plot from the top. The campaign (first dotted line) raises the
default rate from {glue:text}`dr_stable:.1%` to {glue:text}`dr_h1:.1%`, and
the model *sees it coming*: its mean prediction rises with it, to
{glue:text}`score_h1:.1%`, because the new applicants look riskier and are.
The AUC holds ({glue:text}`auc_stable:.3f` before, {glue:text}`auc_h1:.3f`
during the first half of 2023) and the cost barely moves
({glue:text}`cost_stable:,.0f` to {glue:text}`cost_h1:,.0f` per
application). The largest input drift of the chapter **does not hurt the
model**: it moved into a part of the feature space the model already knew.
An alert on it is worth a look, not a retraining, and a team paged every
month for it would soon ignore its pager ({term}`alert fatigue <Alert fatigue>`).

The downturn (second dotted line) is the opposite. Nothing in the inputs or
the scores changes (mean prediction {glue:text}`score_h2:.1%`), while the
default rate jumps to {glue:text}`dr_h2:.1%`, the AUC falls to
{glue:text}`auc_h2:.3f` and the cost to {glue:text}`cost_h2:,.0f` per
application. The label-free estimate stays where it was (estimated AUC
{glue:text}`estauc_h2:.3f`, estimated cost {glue:text}`estcost_h2:,.0f`):
**no method without labels can see concept drift**, because the change is
in P(default | inputs), the same inputs get the same scores, and only the
outcome reveals that their meaning changed. CBPE is useful for the other
half: it turns an input shift into its expected effect on the business at
once, without waiting a year.

## A leading indicator for the label delay

A lender does not wait twelve months to learn that loans go bad. It watches
{term}`early delinquency <Early delinquency>`: a loan 30 or more days past due within its first three
months, known three months after the loan starts. The data has it
(`early_delinquency`, with its `early_delinquency_known_date`; see the
datasheet). It rises from {glue:text}`early_h1:.1%` of loans in the first
half of 2023 to {glue:text}`early_h2:.1%` in the second: the downturn shows
in it. It is not the label: it catches about two defaults in five (the
others go bad later), and a small share of loans that are late early repay
in the end. It is a smoke detector, not a fire report.

## Concept drift, seen three ways

Besides the performance once labels land, two other views show *what*
changed. The model's residuals by segment: the observed default rate minus
the mean prediction, by band of debt-to-income, before and after the
downturn.
''')

code('''
ratios = LoanRatios().fit(loans).transform(loans)
bands = pd.cut(ratios["debt_to_income"], [0, 0.2, 0.3, 0.45, 2.0], labels=["<0.2", "0.2-0.3", "0.3-0.45", ">0.45"])
segments = loans.assign(band=bands, score=model.predict_proba(loans[list(RAW_FEATURES)])[:, 1])
segments["period"] = np.select([segments["application_date"] < "2023-01-01",
                                segments["application_date"] < spec.CONCEPT_DRIFT_START],
                               ["2021-2022", "2023 H1"], "2023 H2-2024")
segments = segments[segments["application_date"] >= "2021-01-01"]
residuals = segments.groupby(["band", "period"], observed=True).apply(
    lambda g: g["defaulted"].mean() - g["score"].mean(), include_groups=False).unstack()
residuals.round(3)
''')

hidden('''
glue("resid_high_before", float(residuals.loc[">0.45", "2021-2022"]), display=False)
glue("resid_high_after", float(residuals.loc[">0.45", "2023 H2-2024"]), display=False)
glue("resid_low_after", float(residuals.loc["<0.2", "2023 H2-2024"]), display=False)
assert residuals.loc[">0.45", "2023 H2-2024"] > residuals.loc["<0.2", "2023 H2-2024"]
''')

md('''
Before the downturn the model is right in every band to within a point or
two (residual {glue:text}`resid_high_before:+.3f` in the most indebted band).
After it, the model under-predicts everywhere and most where debt is
highest ({glue:text}`resid_high_after:+.3f`, against
{glue:text}`resid_low_after:+.3f` in the least indebted band): exactly the
downturn of the generator, which raises the risk of everyone and
strengthens the effect of debt-to-income. Third view: what the model relies on.
Permutation importance {cite:p}`breiman2001random` measures how much the AUC
drops when one feature is shuffled; we compare 2021 with the second half of
2023, on 1,000 loans each (enough to rank the features; the whole year
would take longer and say the same).
''')

code('''
def importance(frame, seed=0):
    sample = frame.sample(1000, random_state=seed)
    result = permutation_importance(model, sample[list(RAW_FEATURES)], sample["defaulted"],
                                    scoring="roc_auc", n_repeats=2, random_state=seed)
    return pd.Series(result.importances_mean, index=RAW_FEATURES)


recent = loans[(loans["application_date"] >= spec.CONCEPT_DRIFT_START) & (loans["application_date"] < "2024-01-01")]
reliance = pd.DataFrame({"2021": importance(valid), "2023 H2": importance(recent)})
reliance.sort_values("2021", ascending=False).head(6).round(3)
''')

md('''
The ranking hardly changes: the model relies on the same features, and their
importance is of the same order. Permutation importance says what *the
model* uses, not what the world now rewards; it moves when the inputs
move, or when a feature stops separating good from bad loans, which is not
what this downturn does. It is a diagnostic to read next to the residuals,
not a detector.

**When could the lender first have known?** The downturn starts with the
loans of July 2023. Their defaults are known from July 2024; their early
delinquency from October 2023. The table of detections below measures it.

## Operational metrics: what the service says about itself

The service exposes `/metrics` in Prometheus' text format
{cite:p}`prometheus2024docs`, written with `prometheus_client`
(`lender/service_metrics.py`): requests by path and status, server errors, a
latency histogram, a histogram of the scores it gave, and the model version
as a label on each. Does measuring slow `/predict`? We time the same
one-application request against the service with and without the metrics
middleware, alternating, and compare the medians.
''')

code('''
def bare_app():
    """The same service without the metrics middleware, only to measure what it costs."""
    plain = serving.create_app(model, {"version": "1.0.0"})
    plain.user_middleware = [m for m in plain.user_middleware
                             if m.cls is not service_metrics._MetricsMiddleware]
    return plain


one = serving.as_applications(loans.iloc[[100]])[0]
bare_url = services.enter_context(serving.serve(bare_app()))
bare = services.enter_context(httpx.Client(base_url=bare_url, timeout=10))
timings = {"with /metrics": [], "without": []}
for _ in range(100):
    for name, c in (("with /metrics", client), ("without", bare)):
        start = time.perf_counter()
        c.post("/predict", json=one).raise_for_status()
        timings[name].append((time.perf_counter() - start) * 1000)
medians = {k: float(np.median(v)) for k, v in timings.items()}
print({k: f"{v:.2f} ms" for k, v in medians.items()})
''')

hidden('''
glue("ms_with", medians["with /metrics"], display=False)
glue("ms_without", medians["without"], display=False)
glue("ms_overhead", medians["with /metrics"] - medians["without"], display=False)
''')

md('''
The median request takes {glue:text}`ms_with:.2f` ms with the metrics and
{glue:text}`ms_without:.2f` ms without: a difference of
{glue:text}`ms_overhead:+.2f` ms, within the noise of a shared laptop. The
middleware does a few dictionary updates per request and one JSON parse of
the answer to record the scores.

**Service level objectives.** The numbers a team promises, and pages on
{cite:p}`beyer2016sre`:

* *latency*: 99% of `/predict` requests answered within 250 ms, over 30 days;
* *errors*: 99.9% of `/predict` requests answered without a server error.

The alert rules live in the repository, `deploy/prometheus/alerts.yml`: a
latency **burn-rate** alert (the error budget of 1% slow requests spent 14.4
times too fast over both the last hour and the last five minutes, which
would exhaust a month's budget in two days {cite:p}`beyer2018srewb`), an
error-rate alert, and a prediction-drift alert on the mean score. Rules are
code, so they have tests: `deploy/prometheus/alerts_test.yml` feeds each
alert a bad series on which it must fire and a good one on which it must
stay quiet, and `make test` runs the real `promtool` on both.
''')

code('''
import shutil
import subprocess

rules = ROOT / "deploy" / "prometheus"
if shutil.which("promtool"):
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(["promtool", *args], cwd=rules, capture_output=True, text=True)
        print("$ promtool", " ".join(args), "\\n", (done.stdout + done.stderr).strip())
else:
    print("promtool is not installed here (apt-get install prometheus); the test suite runs it.")
print((rules / "alerts.yml").read_text().split("groups:")[1][:900])
''')

md('''
## Alerts people can live with

A threshold is a trade: lower, and the alarm rings sooner after a real
change and more often for nothing. Instead of borrowing a number, choose it
from a **false-alarm budget** on months known to be quiet: here the 23
months of 2021 and 2022 without the incident. With a budget of zero, the
threshold is the largest value those months reached; with a budget of one,
the second largest, and so on. Each detector is a monthly series, known
when its data is: inputs and scores at once, early delinquency three months
later, defaults twelve.

For the downturn, the team has already answered the campaign's alarm and
accepted the first half of 2023 as the new normal; the downturn's detectors
are re-baselined on those six months. Label-free detectors are not listed
for it: they watch inputs, which the downturn does not change.
''')

code('''
DETECTORS = {  # name: (monthly series, months until a month's value is known)
    "input drift (largest PSI)": ("max_psi", 0),
    "prediction drift (mean score)": ("mean_score", 0),
    "estimated cost (CBPE)": ("est_cost", 0),
    "early delinquency rate": ("early_rate", 3),
    "default rate": ("default_rate", 12),
    "cost of decisions": ("cost", 12),
}
LABEL_FREE = {"input drift (largest PSI)", "prediction drift (mean score)", "estimated cost (CBPE)"}
watched = monitor[monitor.index >= "2022-01"]
rows = [{"change": "data incident", "detector": "batch validation", "flagged_month": spec.INCIDENT_MONTH,
         "known_month": spec.INCIDENT_MONTH, "delay_months": 0, "false_alarms": 0}]
for name, (column, lag) in DETECTORS.items():
    threshold = alerting.threshold_for_budget(monitor.loc[quiet, column], budget=0)
    false_alarms = len(alerting.flagged(monitor.loc[quiet, column], threshold))
    before_downturn = watched[watched.index < "2023-07"]  # the campaign alone
    rows.append({"change": "covariate drift", "detector": name, "threshold": threshold,
                 "false_alarms": false_alarms,
                 **alerting.detection(before_downturn[column], threshold, "2023-01", lag)})
    if name not in LABEL_FREE:
        rebased = alerting.threshold_for_budget(monitor.loc[h1, column], budget=0)
        rows.append({"change": "concept drift", "detector": name, "threshold": rebased, "false_alarms": 0,
                     **alerting.detection(watched[column], rebased, "2023-07", lag)})
detections = pd.DataFrame(rows).set_index(["change", "detector"])
detections
''')

hidden('''
found = detections.reset_index().set_index(["change", "detector"])
glue("early_concept_known", str(found.loc[("concept drift", "early delinquency rate"), "known_month"]), display=False)
glue("default_concept_known", str(found.loc[("concept drift", "default rate"), "known_month"]), display=False)
glue("early_gain", int(found.loc[("concept drift", "default rate"), "delay_months"]
                       - found.loc[("concept drift", "early delinquency rate"), "delay_months"]), display=False)
glue("psi_threshold", float(found.loc[("covariate drift", "input drift (largest PSI)"), "threshold"]), display=False)
must_find = [("covariate drift", "input drift (largest PSI)"), ("covariate drift", "prediction drift (mean score)"),
             ("covariate drift", "default rate"), ("concept drift", "early delinquency rate"),
             ("concept drift", "default rate"), ("concept drift", "cost of decisions")]
for key in must_find:
    assert pd.notna(found.loc[key, "flagged_month"]), f"{key} no longer finds its change"
assert (found["false_alarms"] == 0).all(), "a quiet month is flagged"
assert found.loc[("covariate drift", "input drift (largest PSI)"), "delay_months"] == 0
assert pd.isna(found.loc[("covariate drift", "cost of decisions"), "flagged_month"]), "the campaign now costs"
glue("covariate_cost_flag", "never", display=False)
''')

md('''
Every injected change is found, and no quiet month rings. The cost of the
decisions is the one detector that stays quiet through the campaign's first
six months: the drift that does not hurt. The incident is
stopped in its own month by the batch check. The campaign is seen at once by
the input drift (threshold: a largest PSI of {glue:text}`psi_threshold:.3f`,
the worst quiet month) and by the scores; the labels confirm it a year
later. The downturn is first knowable from the early delinquency of its
loans, in {glue:text}`early_concept_known`; the default rate says so in
{glue:text}`default_concept_known`, {glue:text}`early_gain` months later.
For a lender that is nine months of loans approved at yesterday's prices.

What a budget of zero costs: thresholds at the very edge of the quiet months
are fragile. The table below shows, for the input drift, the delay each
budget buys and the false alarms it accepts.
''')

code('''
column = "max_psi"
trade = pd.DataFrame([{"budget (false alarms in 23 quiet months)": b,
                       "threshold": (t := alerting.threshold_for_budget(monitor.loc[quiet, column], b)),
                       "false alarms": len(alerting.flagged(monitor.loc[quiet, column], t)),
                       "campaign found in": alerting.detection(watched[column], t, "2023-01")["flagged_month"]}
                      for b in (0, 1, 3, 6)])
trade.round(3)
''')

md('''
Here the campaign is so large that every budget finds it in its first month;
a smaller change would be found later under a stricter budget. The rule is
the same for every alert: count what a false alarm costs (a person's hour,
trust in the pager) and what a month of delay costs (decisions at the wrong
price), and choose the budget from both.

## Retraining policies, compared by what they cost

When should the model be retrained? Five policies, over the 24 months of
2023-2024: never; every month; every quarter; when the previous month's
largest PSI is over the threshold above (at most every three months); when
the previous month's estimated cost (CBPE) is over its threshold. A model
retrained at the start of a month learns from the last 24 months of loans
whose outcome is already known: with a twelve-month delay, the newest are a
year old. Each month's applications are decided by the model current then,
and costed with their true outcomes.

Retraining the boosting model 24 times would take most of a minute on a
laptop, so this study retrains a logistic regression on the same features
(about a third of a second a fit), for every policy alike, from the same
starting model: what we compare is the policies.
''')

code('''
def fit(rows):
    return train_model(rows, "logistic")


study_months = replay.months_of(loans, "2023-01", "2024-12")
signals = {m: {"max_psi": monitor.loc[m, "max_psi"], "est_cost": monitor.loc[m, "est_cost"]}
           for m in monitor.index}
settings = {"psi_threshold": float(found.loc[("covariate drift", "input drift (largest PSI)"), "threshold"]),
            "cost_threshold": float(found.loc[("covariate drift", "estimated cost (CBPE)"), "threshold"]),
            "cooldown": 3}
began = time.perf_counter()
policies = retraining.compare(loans, study_months, fit(train), fit, signals=signals, settings=settings)
print(f"{time.perf_counter() - began:.1f} s")
policies.round(1)
''')

hidden('''
best = policies["total_cost"].idxmin()
spread = float(policies["total_cost"].max() / policies["total_cost"].min() - 1)
glue("policy_spread", spread, display=False)
glue("best_policy", best, display=False)
glue("never_cost", float(policies.loc["never", "cost_per_application"]), display=False)
glue("best_cost", float(policies.loc[best, "cost_per_application"]), display=False)
glue("monthly_cost", float(policies.loc["monthly", "cost_per_application"]), display=False)
glue("quarterly_cost", float(policies.loc["quarterly", "cost_per_application"]), display=False)
glue("saving_total", float(policies.loc["never", "total_cost"] - policies.loc[best, "total_cost"]), display=False)
glue("drift_retrains", int(policies.loc["drift", "retrainings"]), display=False)
glue("est_retrains", int(policies.loc["estimated", "retrainings"]), display=False)
assert spread < 0.05, "retraining policies now differ a lot: rewrite the paragraph below"
''')

md('''
The cheapest policy over these two years is *{glue:text}`best_policy`*, at
{glue:text}`best_cost:,.0f` per application; never retraining costs
{glue:text}`never_cost:,.0f`, monthly {glue:text}`monthly_cost:,.0f`,
quarterly {glue:text}`quarterly_cost:,.0f`, and all five are within
{glue:text}`policy_spread:.1%` of each other. That is the lesson, and it is
the label delay's: a model retrained in 2024 learns from loans of 2022 and
2023 whose outcomes are known, and the downturn's loans (from July 2023)
only start to be labelled in July 2024. No retraining before then can learn
it, however often it runs; the campaign, the other change, did not need
one. The drift trigger fired {glue:text}`drift_retrains` times and would
keep firing: it compares each month with the *original* training window,
which the retrained model no longer uses. A real trigger compares with the
current model's own training window and resets when it retrains. The
estimated-cost trigger fired {glue:text}`est_retrains` times.

What would have helped, within the delay, is not a retraining but a
decision: once early delinquency rang in October 2023, lend more carefully
(raise the bar) until the labels allow a model that knows the downturn.

Which one should a lender choose? It depends on what a retraining costs
(compute is cheap; validating, approving and deploying a credit model is
not: {doc}`04_model_development`'s checks and the model risk review), on how
fast outcomes arrive, and on whether the retrained model is better at all:
retraining on a window that does not yet contain the downturn cannot learn
it. In practice: a calendar (quarterly) as the floor, a trigger on the
leading indicator to bring it forward, and the pipeline of the MLOps chapter
as what a trigger starts (`retraining.should_retrain` returns the decision
with its reasons, for that pipeline to log).

## The same monitoring through a maintained library

The library a team would reach for first is Evidently: its data drift
report compares a reference and a current window column by column. It does
not import beside this course's pinned pandas 3, and NannyML, alibi-detect
and frouros all pin older numpy, scipy or pandas. So we run Evidently's
*default method*, as its documentation describes it {cite:p}`evidently2025drift`,
on scipy: for a reference of more than a thousand rows, the Wasserstein
distance divided by the reference's standard deviation for numbers and the
Jensen-Shannon distance for categories, a column drifting above 0.1, and the
data set drifting when half its columns do.
''')

code('''
verdicts = drift.evidently_style(table)
ours = (psi > alerting.threshold_for_budget(monitor.loc[quiet, "max_psi"], 0)).any(axis=1)
compare = verdicts.assign(ours_flagged=ours)
print(compare.loc[["2022-11", "2022-12", "2023-01", "2023-07", "2024-12"]])
agree = float((compare.loc[compare.index >= "2022-01", "dataset_drift"]
               == compare.loc[compare.index >= "2022-01", "ours_flagged"]).mean())
''')

hidden('''
glue("agree_share", agree, display=False)
production_months = compare[compare.index >= "2022-01"]
differ = production_months[production_months["dataset_drift"] != production_months["ours_flagged"]]
glue("differ_months", ", ".join(differ.index) or "no month", display=False)
glue("evid_first", str(production_months[production_months["dataset_drift"]].index[0]), display=False)
glue("evid_max_cols", int(verdicts["drifted_columns"].max()), display=False)
glue("evid_jan_cols", int(verdicts.loc["2023-01", "drifted_columns"]), display=False)
''')

md('''
The two agree on {glue:text}`agree_share:.0%` of the production months:
Evidently's rule first declares the data set drifted in
{glue:text}`evid_first`, with {glue:text}`evid_jan_cols` of fifteen columns
over 0.1 in January 2023 (at most {glue:text}`evid_max_cols` in any month),
and both stay quiet in 2022. They differ in {glue:text}`differ_months`,
months near the edge of either rule, and the reasons are the rules, not the
arithmetic: Evidently counts columns over a fixed 0.1 and calls the data set
drifted when half of them are; ours looks at the single most drifted
feature against the worst quiet month. Half the columns suits a data set
where everything moves together; one column over its quiet-month worst suits
a change like the campaign, which moves a few columns a lot. Neither is right
in general. What matters is that the rule is chosen, written down and tested
on the team's own quiet months, rather than taken from a default.

## What goes wrong in production

The report's challenge "model performance degradation" {cite:p}`deepchecks2025`,
in numbers from this chapter: the largest drift did not hurt; the one that
hurt did not show in the inputs; the labels that prove it arrive a year
late; a leading indicator shortens that to three months; and a broken
column is best stopped before the model rather than detected after it.
Much of what the report calls monitoring is the plumbing that makes this
possible: a log that keeps inputs, outputs and versions, outcomes joined by
the date they are known, and alerts that are code with tests.
''')

code('''
services.close()
conn.close()
workdir.cleanup()
print("services stopped")
''')

md('''
## What comes next

The {doc}`workbook for this chapter <../solutions/06_monitoring>` asks you to
write PSI with its empty-bin problem, flag the drifting features of a month,
choose a threshold for a false-alarm budget, find the incident in a log,
reason about what was knowable when, pick a retraining policy by cost, and
write the runbook for a drift alert. The next chapter, MLOps in practice,
turns the retraining this chapter triggers into a pipeline.
''')

META = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "mlecourse": {
        "teaching_minutes": 50,
        "exercise_minutes": 70,
        "questions": [
            "How do we know, month by month, whether a deployed model still works when its outcomes arrive a year late?",
            "Which drifts hurt the model, which do not, and which can no method without labels see?",
            "How do we set alerts and retraining rules that catch real changes without waking people for nothing?",
        ],
        "objectives": [
            "Replay production through a real service and keep a prediction log whose outcomes are joined only once known.",
            "Measure data drift per feature and month with PSI, KS, Wasserstein, chi-square and Jensen-Shannon, and explain why p-values flag everything.",
            "Track prediction drift and performance by month, and estimate performance without labels from calibrated scores.",
            "Use a leading indicator to shorten the label delay, and recognise concept drift in performance, residuals by segment and importances.",
            "Expose a service's metrics to Prometheus, write SLOs and alert rules, and unit-test the rules with promtool.",
            "Choose thresholds from a false-alarm budget, measure detection delay, and compare retraining policies by business cost.",
        ],
        "keypoints": [
            "A prediction log with inputs, outputs, model version and latency, and outcomes joined by the day they become known, is what makes monitoring possible.",
            "Drift is not damage: the campaign moved the inputs most and barely changed the cost; the downturn changed nothing in the inputs and raised the cost by half.",
            "At production sample sizes every test is significant; use effect sizes with thresholds chosen on your own quiet months.",
            "Without labels you can estimate the effect of a covariate shift, never a concept drift; a leading indicator like early delinquency cuts the wait from twelve months to three.",
            "Validate batches before they reach the model: the unit incident would have refused most of a month's good customers without a single error in the service.",
            "Alert rules are code: version them, give each a firing and a quiet test, and run promtool in CI.",
            "With a year of label delay, retraining more often buys little; the choice depends on the cost of a retraining and of a month of wrong prices.",
        ],
    },
}


def build(path):
    import hashlib

    import nbformat
    nb_cells = []
    for i, (kind, text, tags) in enumerate(cells):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(text, metadata={"tags": tags} if tags else {})
        cell["id"] = hashlib.sha1(f"ch06-{i}".encode()).hexdigest()[:8]  # stable ids: clean diffs
        nb_cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=nb_cells, metadata=META)
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    build(sys.argv[1])
