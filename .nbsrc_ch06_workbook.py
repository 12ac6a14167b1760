"""Builds solutions/06_monitoring.ipynb (the workbook with its solutions)."""
import hashlib
import sys

import nbformat

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


def solution(label, body_cells):
    md(f":::{{solution-start}} {label}\n:class: dropdown\n:::")
    for kind, text in body_cells:
        (code if kind == "code" else md)(text)
    md(":::{solution-end}\n:::")


code(SETUP, ["remove-cell"])
md('''
# Exercises: Monitoring and maintenance

Six checked exercises, from computing a PSI by hand to choosing a
retraining policy by cost, and one open question: the runbook for a drift
alert. Each exercise ends with a `check` cell that answers in one line:
correct, not attempted yet, or wrong and why. `hint("6.1")` prints the next
hint for exercise 6.1.

Run the cell below first. The data of each exercise comes from the
case-study data; the first call of a function can take a few seconds.
''')
code('''
import json

import numpy as np
import pandas as pd

from mlecourse.checks import ____, check, hint
from mlecourse.checks.ch06_monitoring import (ASOF, BUDGET, EPSILON, FLAG_AT, REVIEW_COST, exercise_log,
                                              month_psi, policy_costs, quiet_months)
''')

# 6.1
md('''
:::{exercise} 6.1 · PSI by hand, empty bins included
:label: ex-6-1
:nonumber:

Write `my_psi(expected_counts, actual_counts)`: the population stability
index of two windows given as counts per bin (the same bins, in the same
order; `expected` is the reference). Turn counts into shares, floor every
share at `EPSILON` (0.0001) so that an empty bin does not give `ln(0)`, and
sum `(a - e) * ln(a / e)` over the bins.

The check runs your function on hidden windows, one with an empty bin.

Stuck? Run `hint("6.1")`; run it again for the next hint.
:::
''')
solution("ex-6-1", [("code", '''
def my_psi(expected_counts, actual_counts):
    # BEGIN SOLUTION: return ____
    e = np.asarray(expected_counts, float)
    a = np.asarray(actual_counts, float)
    e = np.maximum(e / e.sum(), EPSILON)  # shares first, then the floor
    a = np.maximum(a / a.sum(), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))
    # END SOLUTION
''')])
code('check("6.1", my_psi)')
md('''
Try it: `my_psi([100, 100, 100, 100], [0, 120, 140, 140])`. Then change the
floor to `1e-6` in your function and run it again. The value grows: an empty
bin's contribution is set by the floor, which is why a PSI must say which
floor it used.
''')

# 6.2
md(f'''
:::{{exercise}} 6.2 · Which features drift in January 2023?
:label: ex-6-2
:nonumber:

`month_psi()` returns the PSI of each of the model's features in January
2023 against the training window (2019-2020). Make `drifting`: the list of
the features whose PSI is strictly greater than `FLAG_AT` (0.1).

Stuck? Run `hint("6.2")`; run it again for the next hint.
:::
''')
solution("ex-6-2", [("code", '''
january_psi = month_psi()
# BEGIN SOLUTION: drifting = ____
drifting = sorted(january_psi[january_psi > FLAG_AT].index)
# END SOLUTION
drifting
''')])
code('check("6.2", drifting)')

# 6.3
md('''
:::{exercise} 6.3 · A threshold for a false-alarm budget
:label: ex-6-3
:nonumber:

`quiet_months()` gives, for each of the 23 quiet months (2021 and 2022
without the October incident), the largest PSI of any feature. The on-call
team accepts `BUDGET` = 2 false alarms over such a period. Find
`threshold`: the lowest threshold such that at most 2 of these months are
*strictly* above it. Give it with at least three decimals.

Stuck? Run `hint("6.3")`; run it again for the next hint.
:::
''')
solution("ex-6-3", [("code", '''
quiet = quiet_months()
# BEGIN SOLUTION: threshold = ____
threshold = float(quiet.sort_values(ascending=False).iloc[BUDGET])
# END SOLUTION
threshold
''')])
code('check("6.3", threshold)')

# 6.4
md('''
:::{exercise} 6.4 · Find the incident in the log
:label: ex-6-4
:nonumber:

`exercise_log()` opens a prediction log of 2022 (SQLite, the chapter's
schema) in which the October incident was *not* stopped: every month went
through the model. Its `predictions` table has a `month` column and an
`inputs` column with each request as JSON. One month's inputs are broken.
Find it from the log and give it as text, `incident_month = "YYYY-MM"`.

Stuck? Run `hint("6.4")`; run it again for the next hint.
:::
''')
solution("ex-6-4", [("code", '''
log = exercise_log()
rows = pd.read_sql_query("SELECT month, inputs FROM predictions", log)
# BEGIN SOLUTION: incident_month = ____
incomes = rows.assign(income=[json.loads(text).get("annual_income") for text in rows["inputs"]])
medians = incomes.groupby("month")["income"].median()
incident_month = str((medians / medians.median()).idxmin())  # a thousand times too small
# END SOLUTION
incident_month
''')])
code('check("6.4", incident_month)')

# 6.5
md(f'''
:::{{exercise}} 6.5 · What was knowable on 30 September 2023?
:label: ex-6-5
:nonumber:

In the same log, the `outcomes` table holds each loan's `defaulted` and the
day it became known, `outcome_known_date` (text, `YYYY-MM-DD`). How many of
the logged predictions had a known outcome on `ASOF` = 30 September 2023?
Make `known_count`, a whole number.

Stuck? Run `hint("6.5")`; run it again for the next hint.
:::
''')
solution("ex-6-5", [("code", '''
# BEGIN SOLUTION: known_count = ____
known_count = int(pd.read_sql_query(
    "SELECT COUNT(*) AS n FROM predictions p JOIN outcomes o USING (application_id) "
    "WHERE o.outcome_known_date <= ?", log, params=(ASOF,))["n"].iloc[0])
# END SOLUTION
known_count
''')])
code('check("6.5", known_count)')

# 6.6
md(f'''
:::{{exercise}} 6.6 · Retraining policies, with the cost of a retraining
:label: ex-6-6
:nonumber:

`policy_costs()` compares three retraining policies over 2023-2024 (never,
quarterly, yearly): the total cost of each policy's decisions and its
number of retrainings. A retraining is not free: validating, reviewing and
deploying a credit model costs about `REVIEW_COST` (25,000 units) each time.
Make `policy_totals`, a Series indexed by policy: the decisions' cost plus
the reviews'. Which policy would you choose?

Stuck? Run `hint("6.6")`; run it again for the next hint.
:::
''')
solution("ex-6-6", [("code", '''
costs = policy_costs()
# BEGIN SOLUTION: policy_totals = ____
policy_totals = costs["total_cost"] + costs["retrainings"] * REVIEW_COST
# END SOLUTION
policy_totals.sort_values()
''')])
code('check("6.6", policy_totals)')
code('log.close()')

# 6.7 open
md('''
:::{exercise} 6.7 · The runbook for a drift alert (open)
:label: ex-6-7
:nonumber:

It is 9 a.m. The alert *PredictionDrift* has been firing for two hours:
the mean predicted probability of default is above 0.14. Write the on-call
runbook for this alert, one page: what to check, in what order, with which
query or dashboard; how to tell a data problem from a change in the world;
who decides to roll back, to retrain, or to change the decision threshold,
and on what evidence; what is communicated to whom; and when the alert is
closed.
:::
''')
solution("ex-6-7", [("markdown", '''
**Rubric** (one point each; six or more is a strong runbook):

1. **Is the service healthy?** Errors, latency and the model version
   (`lender_model_info`): a new version deployed this morning explains
   everything and is rolled back by the on-call engineer alone.
2. **Is it the data?** The validation report of today's batches, missing
   shares, the median of each amount against training, the upstream
   changelog. A unit or schema change is a data incident: quarantine, fix
   upstream, re-score, no retraining.
3. **Which inputs moved?** The PSI per feature for today against the
   training window; which segments (channel, region, purpose) the shift is
   in; a marketing campaign or a new partner is a change in the world.
4. **Does it hurt?** The estimated cost from the scores (CBPE), the early
   delinquency of recent cohorts, the latest months with labels. Drift
   without damage is acknowledged and re-baselined, not fixed.
5. **Who decides.** Named roles: on-call engineer (rollback, quarantine),
   model owner (retrain), credit risk (threshold, lending policy). The
   runbook says which evidence each needs.
6. **Interim decision.** What is done while waiting for labels: a tighter
   threshold for the affected segment, manual review, or no change, with a
   date to revisit.
7. **Communication.** Who is told (risk, business, the upstream team), in
   what channel, within what time.
8. **Closing.** The alert is closed with a note: cause, action, whether the
   threshold or baseline changed, and a test or rule added so that the same
   cause is caught earlier next time.
''')])

md('''
## What you practised

PSI and its floor; effect sizes over p-values; a threshold from a budget;
reading a log for a data incident; what the label delay lets you know; and
that retraining has a price. The chapter's table of detections is the
summary: which detector, which change, how late.
''')

META = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}


def build(path):
    nb_cells = []
    for i, (kind, text, tags) in enumerate(cells):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(text, metadata={"tags": tags} if tags else {})
        cell["id"] = hashlib.sha1(f"ch06-wb-{i}".encode()).hexdigest()[:8]
        nb_cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=nb_cells, metadata=META)
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    build(sys.argv[1])
