"""Every exercise's title, workbook and hints, as plain data: `mlecourse hint`
reads them without importing the checks. Written by `make exercises` from the
checks' registry; a test fails when it is out of date."""
HINTS = {
 "1.1": {
  "title": "How much faster is hiring?",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "A percent change compares the difference with the value you started from.",
   "(after - before) / before, then times 100. A fall comes out negative."
  ]
 },
 "1.2": {
  "title": "When does the billing model pay for itself?",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "First the yearly saving: 15% of the billing operation's yearly cost.",
   "The model also costs money every year it runs: subtract that from the saving.",
   "Payback = build cost / net saving per month. Give months, not years."
  ]
 },
 "1.3": {
  "title": "Who does what?",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "Ask of each task: is its output an insight, a running ML system, or an application?",
   "Insight and prototypes: data scientist. Running, monitored ML systems: ML engineer. Application features with no model work: software engineer."
  ]
 },
 "1.4": {
  "title": "Which salary rows cannot both be right?",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "Within each role, the rows are in level order; compare each row with the row before it in the same role.",
   "`table.groupby('role')['base_low_usd'].shift(1)` gives the previous level's low end; do the same for `total_low_usd`.",
   "A comparison with a missing value should not flag a row: `.fillna(False)`."
  ]
 },
 "1.5": {
  "title": "From notebook cell to tested function",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "Start with `out = loans.copy()` and only ever write to `out`.",
   "Turn the two magic numbers into parameters with those values as defaults.",
   "`annual_income.where(annual_income > 0)` turns zero and negative incomes into NaN; a NaN ratio is 'unknown'.",
   "`np.select([dti.isna(), dti >= high_from, dti >= medium_from], ['unknown', 'high', 'medium'], default='low')`: the first true condition wins."
  ]
 },
 "1.7": {
  "title": "A payback function for any project",
  "workbook": "01_the_ml_engineer.ipynb",
  "hints": [
   "The net saving per month is (annual saving - annual running cost) / 12.",
   "Before dividing, ask whether that net saving is positive; if it is not, the project never pays for itself: return None.",
   "Otherwise the payback is the build cost divided by the net saving per month."
  ]
 },
 "2.1": {
  "title": "Count the duplicated rows",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "pandas has a method that marks each row that repeats an earlier one.",
   "`loans.duplicated()` gives one True per extra copy; how do you count Trues?"
  ]
 },
 "2.2": {
  "title": "Missing rate of every column",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "`loans.isna()` is a frame of True/False; a mean of booleans is a rate.",
   "Take the mean of `loans.isna()` down each column: one number per column."
  ]
 },
 "2.3": {
  "title": "Default rate by year of application",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "Drop the duplicated rows first, or they count twice.",
   "`.dt.year` of the application date gives the year to group by.",
   "Group by year and take the mean of `defaulted`."
  ]
 },
 "2.4": {
  "title": "Flag impossible ages",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "An adult applicant is between 18 and 100 years old, both included.",
   "Combine two comparisons with `|`; mind which ends are allowed.",
   "A missing age is not an impossible one: compare, do not test for NaN."
  ]
 },
 "2.5": {
  "title": "Find the month the data broke",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "Plot the median `annual_income` of each month; one month stands out.",
   "Group by `application_date.dt.to_period('M')` and take the median income.",
   "Give the month as text, like '2021-05'."
  ]
 },
 "2.6": {
  "title": "How much of a year can be graded on a given day?",
  "workbook": "02_meet_the_data.ipynb",
  "hints": [
   "An outcome is known on its `outcome_known_date`, not on the application date.",
   "Keep the (de-duplicated) applications of `year`, then compare their `outcome_known_date` with `pd.Timestamp(as_of)`.",
   "The share of True values is the mean of a boolean Series; an outcome known on `as_of` itself counts."
  ]
 },
 "3.1": {
  "title": "What does the simpler rule cost?",
  "workbook": "03_lifecycle_features.ipynb",
  "hints": [
   "Two kinds of mistake: approving a loan that defaults (5,000) and refusing one that would have been repaid (1,000). Correct decisions cost nothing.",
   "Build the decisions as a boolean Series (True = refuse) on the 2021 validation rows; a comparison with a missing score is False, which is what the rule wants.",
   "Count missed defaults and wrong refusals, weight them by their costs, then divide by the number of applications (or use `decision_cost`)."
  ]
 },
 "3.2": {
  "title": "A time split you can trust",
  "workbook": "03_lifecycle_features.ipynb",
  "hints": [
   "Compare the `application_date` column with each cut: the result is a boolean mask you can index the frame with.",
   "A row dated exactly on `valid_start` is validation, one dated exactly on `valid_end` is neither: use `<` for the end of a part, `>=` for its start.",
   "Do not sort, shuffle or slice by position: a mask keeps the input's order and labels, and works on an empty frame too."
  ]
 },
 "3.3": {
  "title": "Find the leak, report the honest score",
  "workbook": "03_lifecycle_features.ipynb",
  "hints": [
   "For each new column ask: on the day of the application, could the lender have known this value? The data dictionary says where each one comes from.",
   "A single column whose validation AUC is close to 1 on its own is a suspect: `roc_auc_score(valid['defaulted'], valid[column])`.",
   "Train `make_model_with(kept)` on `train` with the application fields plus the columns you keep, and score `predict_proba(...)[:, 1]` on `valid`."
  ]
 },
 "3.4": {
  "title": "Build the feature transformer to spec",
  "workbook": "03_lifecycle_features.ipynb",
  "hints": [
   "A `ColumnTransformer` takes a list of (name, transformer, columns); each transformer here is a small `Pipeline` of two steps.",
   "Numbers: `SimpleImputer(strategy='median', add_indicator=True)` then `StandardScaler()`. Labels: a constant imputer, then `OneHotEncoder(handle_unknown='ignore', sparse_output=False)`.",
   "`verbose_feature_names_out=False` and `.set_output(transform='pandas')` give plain column names; fit on `train[numbers + labels]` only."
  ]
 },
 "3.5": {
  "title": "Quarantine, do not drop",
  "workbook": "03_lifecycle_features.ipynb",
  "hints": [
   "Build one boolean mask `good` with a condition per rule, combined with `&`; then `batch[good]` and `batch[~good]` split the rows without losing any.",
   "A comparison with NaN is False: `income > 0` is False for a missing income, so allow missing explicitly with `income.isna() | (...)`; `np.isfinite` rules out inf.",
   "Check the batch-level rules first (a required column missing) and last (more than 10% of rows bad): then accept nothing, `batch.iloc[0:0]`, and quarantine the whole batch."
  ]
 },
 "4.1": {
  "title": "Precision, recall and F1 from a confusion matrix",
  "workbook": "04_model_development.ipynb",
  "hints": [
   "Here a *positive* is a default and a *refusal* is predicting one: TP = defaulted and refused, FP = repaid but refused, FN = defaulted but approved.",
   "Read each count by its labels: `confusion.loc['defaulted', 'refused']` is TP, whatever the order of the rows.",
   "Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 × precision × recall / (precision + recall); when a denominator is 0, the value is 0.0."
  ]
 },
 "4.2": {
  "title": "Read a reliability diagram",
  "workbook": "04_model_development.ipynb",
  "hints": [
   "The x axis is what the model predicted for a bin of applicants, the y axis how often they actually defaulted.",
   "Pick one point, say the one near x = 0.4: what share of those applicants defaulted?"
  ]
 },
 "4.3": {
  "title": "The cheapest threshold",
  "workbook": "04_model_development.ipynb",
  "hints": [
   "Try many thresholds (every 0.001 from 0 to 1 is enough here) and keep the cheapest.",
   "For one threshold t, the decisions are `scores > t`, and `business.decision_cost(defaulted, scores > t)` is their cost.",
   "`np.argmin` of the list of costs gives the position of the cheapest threshold."
  ]
 },
 "4.4": {
  "title": "What a shuffled split hides",
  "workbook": "04_model_development.ipynb",
  "hints": [
   "Keep the cleaned rows applied from 2021-01-01 up to 2023-12-31. The time split is `features.split_by_date(recent, cuts=('2023-07-01', '2024-01-01'))`.",
   "The shuffled split: `train_test_split(recent, test_size=len(future), random_state=0)`.",
   "For each split: `estimators.train_model(fit_rows, 'logistic')`, then `business.decision_cost(y, p > business.COSTS.threshold)` on the held-out rows."
  ]
 },
 "4.5": {
  "title": "A training function that beats the rule",
  "workbook": "04_model_development.ipynb",
  "hints": [
   "`estimators.make_model(kind)` gives an unfitted pipeline; your function must fit it on the rows it receives and return it.",
   "`features.features_and_target(rows)` gives the X and y to fit on.",
   "A default decision tree is not enough; compare logistic regression and gradient boosting on time-ordered folds of the rows you are given."
  ]
 },
 "5.1": {
  "title": "Tail latency and the service's overhead",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "`np.percentile(values, q)` takes q in percent, from 0 to 100.",
   "The overhead is what the service adds to the model's own time: compare the two medians (the 50th percentiles), in milliseconds."
  ]
 },
 "5.2": {
  "title": "A request schema that refuses bad applications",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "Types and `Literal[...]` decide what kind of value is allowed; `Field(ge=..., le=...)` decides the range.",
   "An optional field needs a type that allows None AND a default: `credit_score: float | None = Field(default=None, ge=300, le=850)`.",
   "Unknown fields are accepted and silently dropped unless the model says `model_config = ConfigDict(extra=\"forbid\")`."
  ]
 },
 "5.3": {
  "title": "How many loans does the A/B test need?",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "z for a two-sided test at level alpha is `norm.ppf(1 - alpha / 2)`; z for the power is `norm.ppf(power)`.",
   "n = (z_alpha * sqrt(2 p (1 - p)) + z_power * sqrt(pA (1 - pA) + pB (1 - pB)))**2 / (pA - pB)**2, with p the average of pA and pB.",
   "The answer is per arm, and a fraction of a loan rounds up: `math.ceil`."
  ]
 },
 "5.4": {
  "title": "Is the difference in approval rates real?",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "The z-test uses the pooled approval rate p = (4000 + 4070) / 10000: the standard error of the difference is sqrt(p (1 - p) (1/5000 + 1/5000)), and z is the difference of the two rates divided by it.",
   "Two-sided: p_value = 2 * stats.norm.sf(abs(z)). Or, in one line: `stats.chi2_contingency(table, correction=False)` on [[approved, refused] per arm].",
   "Significant means p < 0.05, decided before looking at the data."
  ]
 },
 "5.5": {
  "title": "A canary step controller",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "Order matters: check the guards first, then the number of requests, then promote.",
   "Each limit is 'above': 1% errors exactly, 300 ms exactly or a shift of exactly 0.1 are still fine.",
   "A rollback returns 0.0; a promotion returns the first step of STEPS larger than the current weight; at 1.0 there is none, so stay at 1.0. With 0 requests the error rate is 0, not a division by zero."
  ]
 },
 "5.6": {
  "title": "Which rollout for which change?",
  "workbook": "05_deployment.ipynb",
  "hints": [
   "For each scenario ask: may customers see the new version's answers yet? Must everyone move at once? Is there a business question to answer with statistics?",
   "No customer affected: shadow. All at once with a way back: blue-green. A small share, then more, watching health: canary. Two groups compared on an outcome: A/B test."
  ]
 },
 "6.1": {
  "title": "PSI by hand, empty bins included",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "Turn each window's counts into shares (divide by the window's total).",
   "A share of 0 makes ln(0): replace every share below epsilon by epsilon (np.maximum(shares, 0.0001)) in both windows.",
   "Then PSI = sum over bins of (a - e) * ln(a / e), with e the reference's shares and a the month's."
  ]
 },
 "6.2": {
  "title": "A drift detector with a false-alarm budget",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "The threshold comes from the quiet months only: sort their values from the largest down; with a budget of b, at most b of them may be strictly above it.",
   "So the threshold is the value at position `budget` of that sorted list (position 0 is the largest).",
   "Then return, in the series' order, the months that are not quiet and whose value is strictly greater than the threshold."
  ]
 },
 "6.3": {
  "title": "False alarms on months that did not set the threshold",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "A threshold set on all the quiet months leaves exactly the budget above it: that is arithmetic, not a measurement.",
   "For each quiet month: drop it (`values.drop(month)`), set the threshold on the others as in 6.2, and ask whether the month left out is strictly above it.",
   "Count the months that ring; divided by the number of months, it is a false-alarm rate measured out of sample."
  ]
 },
 "6.4": {
  "title": "Find the incident in the log",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "The log's `inputs` column holds each request as JSON: `json.loads` it. A field left out of a request is absent from its JSON: read it with `.get(\"annual_income\")`.",
   "Compute the median `annual_income` of each month.",
   "One month's median is off by a factor no economy produces. Give it as 'YYYY-MM'."
  ]
 },
 "6.5": {
  "title": "What the lender knew on a day",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "An outcome is known on its `outcome_known_date` (table `outcomes`), not on the day the loan was scored; a refused application has no outcome at all.",
   "Join `predictions` and `outcomes` on `application_id` and count the rows whose `outcome_known_date` is on or before the day (the dates are text 'YYYY-MM-DD', which compares as dates do).",
   "`conn.execute(query, (day,)).fetchone()[0]` runs a query with the day as a parameter."
  ]
 },
 "6.6": {
  "title": "Retraining policies, with the cost of a retraining",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "Each retraining costs REVIEW_COST (validation, review, deployment) on top of the decisions' cost.",
   "total = total_cost + retrainings * REVIEW_COST, for each policy.",
   "Return a Series indexed by policy, like `policy_costs()`'s index."
  ]
 },
 "6.7": {
  "title": "The cost a lender can see, and the cost it estimates",
  "workbook": "06_monitoring.ipynb",
  "hints": [
   "Keep the loans whose outcome is known (`defaulted` not missing): the approved ones and the holdout's.",
   "Each one's cost: a refused loan that would have been repaid costs 1,000, an approved loan that defaults 5,000, anything else 0.",
   "Weigh each by 1 / propensity and take the weighted mean: sum(w * cost) / sum(w)."
  ]
 },
 "7.1": {
  "title": "Runs, a registered model and an alias, in your own MLflow store",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "Point MLflow at a SQLite file in your folder (`mlflow.set_tracking_uri` and `mlflow.set_registry_uri`, both `sqlite:///<folder>/mlflow.db`), create the experiment with its artifacts in the same folder, then `mlflow.set_experiment`.",
   "Per model: `with mlflow.start_run(run_name=name):` log the param `kind` and the metric `cost`, then `info = mlflow.sklearn.log_model(model, name=\"model\", pip_requirements=[\"scikit-learn\"])`; then `client.create_model_version(\"workbook-model\", info.model_uri, run.info.run_id)` (after one `client.create_registered_model(\"workbook-model\")`).",
   "`mlflow.MlflowClient().set_registered_model_alias(\"workbook-model\", \"champion\", version)` with the cheaper run's version; read it back with `get_model_version_by_alias`."
  ]
 },
 "7.2": {
  "title": "A directional test that catches a planted bug",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "Make a copy of the frame with `annual_income` multiplied by 1.5, score both, and look at the difference row by row.",
   "The test passes only if *every* row's rise is at most 0.001: `np.all(rise <= 0.001)`. A mean hides a bug that hits a few applicants."
  ]
 },
 "7.3": {
  "title": "A fingerprint that ignores order",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "Put the columns in a fixed order (sorted by name), hash each row with `pd.util.hash_pandas_object(frame, index=False)`, then sort those row hashes.",
   "Hash the sorted row hashes together with the column names (e.g. `hashlib.sha256(names.encode() + hashes.to_numpy().tobytes()).hexdigest()`): sorting makes order irrelevant, keeping every hash keeps duplicates."
  ]
 },
 "7.4": {
  "title": "A promotion gate that asks for evidence",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "Fairness first: it applies whether or not there is a champion (`parity_gap` above MAX_GAP refuses).",
   "With a champion: the differences are `candidate[\"costs\"] - champion[\"costs\"]`, application by application (the same applicants, in the same order). `bootstrap_upper(differences)` is how high the mean difference may really be.",
   "Promote only if that upper bound is below -MARGIN (a saving beyond the margin, surely) and the AUC is at least the champion's minus MAX_AUC_DROP."
  ]
 },
 "7.5": {
  "title": "Place scenarios on the maturity levels",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "Level 0: every step is manual. Level 1: the *training pipeline* runs on its own (continuous training), with data and model validation inside it. Level 2: the *pipeline's code* is built, tested and deployed by CI/CD too.",
   "Judge what is automated, not which tools are used."
  ]
 },
 "7.6": {
  "title": "Version the data with DVC on a local remote",
  "workbook": "07_mlops.ipynb",
  "hints": [
   "`from dvc.repo import Repo`; `repo = Repo.init(str(project), no_scm=True)` (no git needed); then, in `with repo.config.edit() as config:`, set `config[\"core\"][\"analytics\"] = False`, a remote `config[\"remote\"][\"local\"] = {\"url\": str(remote)}` and `config[\"core\"][\"remote\"] = \"local\"`.",
   "Copy the data file into the project, `repo.add(str(path))`, then `repo.push()`.",
   "Delete the file and `.dvc/cache`, then `Repo(str(project)).pull()` brings it back from the remote."
  ]
 },
 "8.1": {
  "title": "Approval rates and the disparate-impact ratio",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "An approval rate is approved / applicants, for each group separately.",
   "The disparate-impact ratio puts the group with the lower approval rate on top: minority rate / majority rate.",
   "The four-fifths screen passes when that ratio is at least 0.8."
  ]
 },
 "8.2": {
  "title": "Is the gap noise? Write the bootstrap",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "Split the rows by group first: `np.flatnonzero(groups == 'minority')` and the rest. Resample each group's rows with replacement, its own number of rows each time.",
   "One resample of a group: `rng.integers(0, len(rows), size=len(rows))` picks positions; the refusal rate is the mean of `refused` at them. Do it `n_boot` times (a 2-D `size=(n_boot, len(rows))` does all at once).",
   "The gap of each resample is the minority's rate minus the majority's; the interval is `np.quantile(gaps, [(1 - level) / 2, (1 + level) / 2])`."
  ]
 },
 "8.3": {
  "title": "Find the proxy: write the measure",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "A number column scores each test applicant by its value (missing: the training median); `roc_auc_score(test_in_group, score)`.",
   "A text column scores each applicant by their category's share of the group in the *training* rows: `pd.Series(train_in_group).groupby(train_values.to_numpy()).mean()`, then `.map` it onto the test values; a category the training rows never saw (or a missing one) gets the training rows' overall share.",
   "An AUC of 0.3 reveals the group as well as 0.7: return `max(auc, 1 - auc)`."
  ]
 },
 "8.4": {
  "title": "Search for a less discriminatory alternative",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "A candidate is a model class (`estimators.make_model('boosting')` or `'logistic'`), the inputs it leaves out (hold each at one value, its 2019-2020 median, in training and when deciding: `rows.assign(interest_rate=...)`), and a threshold.",
   "Train each candidate on `train`; choose a 'cheapest' threshold on the first half of 2021 (`alternatives.cheapest_threshold(y, scores)`), and compare cost and approval gap (`business.decision_cost`, `fairness.disparities`) on the second half.",
   "Keep the candidates that cost at most 1% more than the course model on the second half of 2021, and take the one with the smallest approval gap. Which inputs did the proxy measure flag?"
  ]
 },
 "8.5": {
  "title": "Reason codes for a refused applicant",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "A reason for a refusal is an input that pushed the risk *up*: a positive contribution.",
   "Keep the positive ones only, sort them from the largest down, and keep at most k.",
   "`series[series > 0].sort_values(ascending=False)` does most of it; return the index as a list."
  ]
 },
 "8.6": {
  "title": "Reach k-anonymity on a small release",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "`privacy.k_anonymity(frame, ['age', 'neighbourhood'])` gives the size of the smallest group of rows that look alike.",
   "Generalise both: districts into regions (`privacy.region_of`), ages into bands (`privacy.age_band(ages, width, top)`).",
   "Few applicants are old: an open top band ('58+') merges them."
  ]
 },
 "8.7": {
  "title": "Regulation B's age test",
  "workbook": "08_ethics.ipynb",
  "hints": [
   "Keep the applicants of 62 or over (`applicants['age'] >= 62`: 62 counts) and score them as they are.",
   "Score the same applicants again at each age from 18 to 61 (`elderly.assign(age=a)`), everything else unchanged, and keep each applicant's lowest risk.",
   "An applicant is scored down when their own risk is strictly higher than that lowest risk; return a Series of True/False on their index."
  ]
 },
 "9.1": {
  "title": "Recall@k",
  "workbook": "09_llm_systems.ipynb",
  "hints": [
   "Keep the first k of the retrieved ids: `retrieved[:k]`.",
   "Count how many of the *relevant* ids are among them; a set intersection does it and counts a passage retrieved twice once.",
   "Divide by the number of relevant ids, not by k (that would be precision)."
  ]
 },
 "9.2": {
  "title": "The grounding check",
  "workbook": "09_llm_systems.ipynb",
  "hints": [
   "First: is `cited` one of the keys of `passages`? If not, the answer is not grounded.",
   "Find the numbers with a regular expression such as `\\d+(?:[,.]\\d+)*`, and drop the commas so that 8,000 and 8000 compare equal.",
   "Every number of the answer must be among the cited passage's numbers: a set's `<=`."
  ]
 },
 "9.3": {
  "title": "An injection test's detector",
  "workbook": "09_llm_systems.ipynb",
  "hints": [
   "Find the links first: text starting with `http://`, `https://` or `www.`, up to a space.",
   "Take each link's host: drop the scheme and `www.`, cut at the first `/`, lower-case it.",
   "The host is the lender's if it *is* fernbank.example or *ends with* '.fernbank.example'; one foreign host is enough for the attack to have succeeded."
  ]
 },
 "9.4": {
  "title": "The prompt gate",
  "workbook": "09_llm_systems.ipynb",
  "hints": [
   "Refuse first if any attack got through: `attack_success` above 0.",
   "With no serving prompt (`champion is None`), that is the only rule.",
   "Otherwise every quality measure ('correct', 'grounded') must be at least the serving prompt's: equal is allowed, lower is not."
  ]
 },
 "9.5": {
  "title": "The refusal-letter validator",
  "workbook": "09_llm_systems.ipynb",
  "hints": [
   "Three rules, three names: 'reasons', 'protected', 'promise'. Return the list of those broken.",
   "A reason is explained if any of its words in `letters.REASON_TERMS[reason]` appears; the protected words and the promises are `letters.PROTECTED` and `letters.PROMISES` (regular expressions).",
   "Match whole words, ignoring case: `re.search(rf'(?<!\\w){pattern}(?!\\w)', draft, flags=re.I)`."
  ]
 },
 "10.1": {
  "title": "Five years of raises, compounded",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Each year's raise applies to the previous year's salary, not to the first one.",
   "A rate of 7% is 0.07 as a fraction; one year multiplies the salary by 1.07.",
   "Five years multiply it by 1.07 five times: `start * (1 + rate) ** years`."
  ]
 },
 "10.2": {
  "title": "A yearly rate or a one-year change?",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Look at the `period_start` and `period_end` columns of the three compensation-growth rows of market.csv.",
   "A year-over-year figure compares one year with the one before; an annualised figure averages the growth of a span of several years.",
   "Only one of the three rows states a span of more than one year."
  ]
 },
 "10.3": {
  "title": "A prioritised gap list",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Turn the three dicts into Series (`pd.Series(rating)`): they line up by skill.",
   "The gap of a skill is its target minus its rating; the priority is the gap times the skill's weight.",
   "Keep the skills whose gap is above 0, then `sort_values(ascending=False)`."
  ]
 },
 "10.4": {
  "title": "Where does the course meet each tool?",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "The chapter's tools table has a column 'in the course' for every tool.",
   "'used' means the course runs the real tool; 'stand-in' means another tool does its job locally; 'files only' means its files are written but not run.",
   "Give a dict such as {'MLflow': 'used', ...}, with the five tools as keys."
  ]
 },
 "10.5": {
  "title": "Midpoints of the base-salary ranges",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Keep the rows of the report's table (`kind == 'table'`) for the role 'Machine Learning Engineer'.",
   "Use the base columns, `base_low_usd` and `base_high_usd`, not the total ones.",
   "The midpoint is (low + high) / 2; index the Series by `level`."
  ]
 },
 "10.6": {
  "title": "How many years to reach a salary?",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Start at 0 years; while the salary is below the target, grow it by one year (`salary * (1 + rate)`) and count the year.",
   "Before the loop: a start already at or above the target needs 0 years, and a rate of 0 or below never gets there (return None), or the loop never ends.",
   "With a formula instead, `math.log(target / start) / math.log(1 + rate)` is the exact number of years; round it up, but an exact 2 can come out as 2.0000000000000004: a loop avoids the problem."
  ]
 },
 "10.8": {
  "title": "The yearly rate behind a span",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "Grown at a rate r for n years, a start becomes start * (1 + r) ** n.",
   "Solve that for r: (end / start) ** (1 / years) - 1.",
   "Return a fraction (0.15 for 15%), not a percentage."
  ]
 },
 "10.9": {
  "title": "Read a salary as a report writes it",
  "workbook": "10_skills_tools_careers.ipynb",
  "hints": [
   "A regular expression finds every amount: `re.findall(r'\\$\\s*([\\d,.]+)\\s*([kKmM]?)', text)` gives (number, unit) pairs.",
   "Drop the commas before `float()`, then multiply by 1,000 for k and 1,000,000 for M (either case).",
   "The first amount is the low end, the last the high end (the same for one figure); a text ending in '+' has no high end; no amount at all gives (None, None)."
  ]
 },
 "11.1": {
  "title": "Validate the new year and quarantine what is bad",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Validate each month of 2025 as it arrives, as the replay will: `validation.validate_batch(month_rows, reference)` with the training window's reference.",
   "Add up `len(report.quarantined)` over the twelve reports; then read the reports' `problems` table: which kinds of problem are there, and which one is new?"
  ]
 },
 "11.2": {
  "title": "Candidates, tracked, and a champion chosen by cost with an interval",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Train each candidate on the training window, measure its cost on the evaluation window with `evaluation.classification_metrics`, and log each with `tracking.log_candidate`.",
   "The interval: draw 1,000 resamples of the evaluation window's rows (with replacement), and for each the champion's cost minus the incumbent's on the same rows; `np.quantile(differences, [0.025, 0.975])`."
  ]
 },
 "11.3": {
  "title": "Register the champion and serve it",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Register the incumbent first and promote it with an override that says why (it served before the registry did); register the champion, record the gate's verdict, promote it.",
   "Serve what the registry's `champion` alias points to: `registry.materialise('champion')`, `compose.create_app_from_dir(...)`, `api.serve(app)`; then POST /predict."
  ]
 },
 "11.4": {
  "title": "Roll the champion out as a canary",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Traffic: each month from 2025-01 to 2025-06, validated and cleaned as the replay does; the stable version is the incumbent, the candidate the champion's service.",
   "`strategies.run_canary(strategies.Router(stable, candidate), traffic, guards=strategies.Guards(max_p95_ms=1000))`; record its table's batch, weight, breached and decision columns."
  ]
 },
 "11.5": {
  "title": "Replay the year and find what changed, and when",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Replay 2025 through the service into `predlog.connect(submission.log)`; compare each month's inputs with the training window (`drift.drift_table`), from 2024 on.",
   "Alert on the largest PSI across inputs, month by month; its threshold is the largest value it took in 2024 (`alerting.threshold_for_budget(..., 0)`); `alerting.detection` gives the first month over it. Which input has the largest PSI that month?"
  ]
 },
 "11.6": {
  "title": "Retrain, roll back or hold: decided and priced",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "On 2026-01-01, `pipeline.run(as_of='2026-01-01', data=CAPSTONE_FILE, store=submission.store, kind=champion_kind, reason=...)` retrains on the outcomes matured by then and gates the candidate against the champion; its report says what the gate decided, and why.",
   "Price each option on the same evaluation cohort: the retrained candidate's difference is the gate's (`report.decision.difference`); for a rollback, the incumbent's costs minus the champion's (`pipeline.evaluate(..., absolute=False)['costs']`, `gates.paired_difference`)."
  ]
 },
 "11.7": {
  "title": "The fairness review: the gap against the policy",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "The review is of the decisions the service made in 2025: the prediction log's `decision`, joined with each applicant's `ethnicity` from the file on `application_id`.",
   "`fairness.refusal_gap(y, refuse, ethnicity)` is the minority's refusal rate minus the majority's; the policy allows at most 0.05. `fairness.bootstrap_gap` gives its interval."
  ]
 },
 "11.8": {
  "title": "The model card of the registered champion",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Read the champion back from the registry (`registry.load_checked('champion')`): its card is the artifact's, with the data fingerprint and the file's SHA-256.",
   "Audit it on the newest window whose outcomes are known, and render the card with `model_card.render(facts)`; write it to `submission.card`."
  ]
 },
 "11.9": {
  "title": "A one-page system design, with the decisions and their price",
  "workbook": "11_capstone.ipynb",
  "hints": [
   "Answer each section's question in a short paragraph, with the numbers your run found (rows quarantined, costs, the interval, the month, the gap).",
   "Keep it to a page: a reviewer reads it in five minutes. The rubric grades the content; this check only its form."
  ]
 }
}
