"""Skills, tools and career paths: the career chapter's code, kept as data.

A learner rates themselves from 0 to 4 on each skill category of the report's
skills table (``data/report/skills.csv``). From that self-assessment this module
computes a prioritised gap list for a chosen path, a radar chart, and a
learning plan whose steps point to the chapters of this course that close
each gap. It also holds, as data, the map from the report's tools to the
chapter where a learner meets them, the interview question bank, and the
system-design template.

The targets and weights below are the course's judgement, not the report's:
the report only says which skills are "Foundational", "Advanced", and so on.
They are written here, in one place, so that anyone who disagrees can change a
number and see what moves.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from mlecourse.course import plan as course_plan
from mlecourse.teaching.report import load_report_table

# The rating scale, loosely after the Dreyfus model of skill acquisition.
SCALE = {
    0: "never used it",
    1: "have read about it or followed a tutorial",
    2: "can do it with help or a reference open",
    3: "can do it alone, in production, and explain it",
    4: "can lead it, review others' work and teach it",
}
MAX_RATING = max(SCALE)

# How much a missing level of each kind of skill matters. The report ranks the
# skills by importance; the numbers put that ranking into weights.
IMPORTANCE_WEIGHTS = {
    "Foundational": 3.0,
    "Advanced/Emerging": 2.5,
    "Advanced": 2.0,
    "Emerging": 1.5,
    "Specialization": 1.0,
}

# Target levels per path, for every skill category of the report's table.
PATHS: dict[str, dict[str, int]] = {
    "mle": {  # a mid-level machine learning engineer, generalist
        "Programming": 3, "Math/Statistics": 3, "ML Algorithms": 3, "Data Handling": 3,
        "Software Engineering": 3, "MLOps": 3, "Big Data": 2, "Generative AI": 1,
        "Specialized Areas": 1,
    },
    "mlops": {  # an MLOps engineer: operations first, modelling second
        "Programming": 3, "Math/Statistics": 2, "ML Algorithms": 2, "Data Handling": 3,
        "Software Engineering": 4, "MLOps": 4, "Big Data": 2, "Generative AI": 1,
        "Specialized Areas": 0,
    },
    "applied_scientist": {  # an applied ML scientist: modelling first
        "Programming": 3, "Math/Statistics": 4, "ML Algorithms": 4, "Data Handling": 3,
        "Software Engineering": 2, "MLOps": 2, "Big Data": 2, "Generative AI": 2,
        "Specialized Areas": 2,
    },
    "nlp_genai": {  # an NLP / generative AI engineer
        "Programming": 3, "Math/Statistics": 3, "ML Algorithms": 3, "Data Handling": 3,
        "Software Engineering": 3, "MLOps": 3, "Big Data": 1, "Generative AI": 4,
        "Specialized Areas": 3,
    },
}
PATH_NAMES = {
    "mle": "Machine learning engineer (mid-level generalist)",
    "mlops": "MLOps engineer",
    "applied_scientist": "Applied ML scientist",
    "nlp_genai": "NLP / generative AI engineer",
}

# Where this course closes each gap (chapter numbers of ``mlecourse.course.plan.PLAN``). An
# empty tuple: the course does not teach it, the plan says where to go instead.
SKILL_CHAPTERS: dict[str, tuple[int, ...]] = {
    "Programming": (2, 3, 11),
    "Math/Statistics": (4, 6),
    "ML Algorithms": (4,),
    "Data Handling": (2, 3),
    "Software Engineering": (5, 7, 11),
    "MLOps": (5, 6, 7),
    "Big Data": (),
    "Generative AI": (9,),
    "Specialized Areas": (),
}
SKILL_ACTIONS: dict[str, str] = {
    "Programming": "write the case study's pipeline as a tested package, not a notebook",
    "Math/Statistics": "evaluate, calibrate and compare models with the right statistics; "
                       "compute drift statistics by hand",
    "ML Algorithms": "train and tune baselines and gradient boosting on the loans, "
                     "and explain when each fails",
    "Data Handling": "profile, clean and validate the loans data; build features "
                     "available at decision time",
    "Software Engineering": "serve the model behind a tested API, in CI, "
                            "with the capstone's code review",
    "MLOps": "deploy, monitor, track and register the case-study model end to end",
    "Big Data": "outside this course: redo a data chapter on a data set that does not fit "
                "in memory, with Spark",
    # The report's GenAI skills (LLMs, prompt engineering, fine-tuning: Software Oasis, n.d.;
    # Skillgigs, 2025) and its stress on integration, evaluation and ethical deployment.
    "Generative AI": "run an open LLM offline, measure it against a baseline, evaluate it "
                     "without labels, version and gate its prompts, defend it against "
                     "injection and monitor it; fine-tuning stays outside this course",
    "Specialized Areas": "outside this course: one NLP or vision project, end to end, "
                         "in the shape of the capstone",
}

# Illustrative starting points for the two transitions the report describes:
# what a typical software engineer and data scientist bring (the course's
# reading of the report's "Transitioning into MLE" paragraphs).
STARTING_POINTS: dict[str, dict[str, int]] = {
    "software engineer": {
        "Programming": 3, "Math/Statistics": 1, "ML Algorithms": 1, "Data Handling": 2,
        "Software Engineering": 4, "MLOps": 2, "Big Data": 1, "Generative AI": 1,
        "Specialized Areas": 0,
    },
    "data scientist": {
        "Programming": 2, "Math/Statistics": 3, "ML Algorithms": 3, "Data Handling": 3,
        "Software Engineering": 1, "MLOps": 1, "Big Data": 1, "Generative AI": 1,
        "Specialized Areas": 1,
    },
}


# --- the self-assessment ----------------------------------------------------

def skills_table() -> pd.DataFrame:
    """The report's skills table, indexed by category, with the weight of each."""
    table = load_report_table("skills").set_index("category")
    unknown = set(table["importance"]) - set(IMPORTANCE_WEIGHTS)
    if unknown:
        raise ValueError(f"no weight for importance level(s) {sorted(unknown)}")
    table["weight"] = table["importance"].map(IMPORTANCE_WEIGHTS).astype(float)
    return table


def skill_names() -> list[str]:
    """The skill categories, in the report's order."""
    return list(skills_table().index)


def validate(assessment: Mapping[str, int] | pd.Series) -> pd.Series:
    """A self-assessment as an integer Series in the report's skill order.

    Every skill of the table needs a rating, a whole number from 0 to 4;
    unknown skill names are rejected (a typo would otherwise be a silent zero).
    """
    if isinstance(assessment, pd.Series):
        items = list(assessment.items())
    elif isinstance(assessment, Mapping):
        items = list(assessment.items())
    else:
        raise TypeError(f"a self-assessment is a dict or Series of skill -> rating, "
                        f"got {type(assessment).__name__}")
    names = skill_names()
    unknown = [str(k) for k, _ in items if k not in names]
    if unknown:
        raise ValueError(f"unknown skill {unknown[0]!r}; the skills are: {', '.join(names)}")
    given = dict(items)
    missing = [n for n in names if n not in given]
    if missing:
        raise ValueError(f"no rating for {missing[0]!r}: rate every skill, 0 if you never used it")
    out = {}
    for name in names:
        value = given[name]
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if ok:
            ok = not math.isnan(float(value)) and float(value).is_integer() \
                and 0 <= float(value) <= MAX_RATING
        if not ok:
            raise ValueError(f"the rating for {name!r} must be a whole number from 0 to "
                             f"{MAX_RATING}, got {value!r}")
        out[name] = int(value)
    return pd.Series(out, name="rating", dtype="int64")


def _target(path: str) -> pd.Series:
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; the paths are: {', '.join(PATHS)}")
    return pd.Series(PATHS[path], dtype="int64").reindex(skill_names())


def gaps(assessment: Mapping[str, int] | pd.Series, path: str = "mle") -> pd.DataFrame:
    """The prioritised gap list: one row per skill below the path's target.

    ``gap`` is the target minus the rating; ``priority`` is the gap times the
    skill's importance weight. Rows are sorted by priority, highest first;
    ties keep the report's order, which lists foundations first.
    """
    rating = validate(assessment)
    table = skills_table()
    frame = pd.DataFrame({
        "importance": table["importance"],
        "weight": table["weight"],
        "rating": rating,
        "target": _target(path),
    })
    frame["gap"] = frame["target"] - frame["rating"]
    frame["priority"] = frame["weight"] * frame["gap"]
    frame["chapters"] = [SKILL_CHAPTERS[s] for s in frame.index]
    frame = frame[frame["gap"] > 0]
    return frame.sort_values("priority", ascending=False, kind="stable")


def chapter_label(number: int) -> str:
    """'5 · Deployment', from the course plan."""
    _, title, _ = course_plan.planned_chapter(number)
    return f"{number} · {title}"


def chapter_links(numbers: tuple[int, ...] | list[int]) -> str:
    """Chapters as MyST text: a {doc} link for a published chapter, plain text otherwise.

    A link to a chapter that does not exist yet would break the site's build.
    """
    if not numbers:
        return "outside this course"
    parts = []
    for n in numbers:
        _, title, doc = course_plan.planned_chapter(n)
        if course_plan.published(n):
            parts.append(f"{{doc}}`{n} · {title} </{doc}>`")
        else:
            parts.append(f"{n} · {title} (coming)")
    return ", ".join(parts)


def radar_chart(assessment: Mapping[str, int] | pd.Series, path: str | None = "mle", ax=None,
                label: str = "self-assessment"):
    """A radar chart of a self-assessment, with the path's target behind it."""
    import matplotlib.pyplot as plt

    rating = validate(assessment)
    names = list(rating.index)
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    closed = np.append(angles, angles[0])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5), subplot_kw={"projection": "polar"})
    if path is not None:
        target = _target(path).to_numpy()
        ax.plot(closed, np.append(target, target[0]), color="grey", ls="--", lw=1.5,
                label=f"target: {PATH_NAMES[path]}")
        ax.fill(closed, np.append(target, target[0]), color="grey", alpha=0.1)
    values = rating.to_numpy()
    ax.plot(closed, np.append(values, values[0]), color="tab:blue", lw=2, marker="o", label=label)
    ax.fill(closed, np.append(values, values[0]), color="tab:blue", alpha=0.2)
    ax.set_xticks(angles)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylim(0, MAX_RATING)
    ax.set_yticks(range(MAX_RATING + 1))
    ax.set_yticklabels([str(r) for r in range(MAX_RATING + 1)], fontsize=7, color="grey")
    ax.set_rlabel_position(90)
    ax.set_title("Skills self-assessment (rating 0 = never used, 4 = can teach it)",
                 fontsize=10, pad=24)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, ncols=2)
    return ax


# --- learning plans ---------------------------------------------------------

@dataclass(frozen=True)
class Step:
    order: int
    skill: str
    rating: int
    target: int
    priority: float
    chapters: tuple[int, ...]
    action: str


def learning_plan(assessment: Mapping[str, int] | pd.Series, path: str = "mle") -> tuple[Step, ...]:
    """Ordered steps that close the gaps to ``path``.

    Skills this course teaches come first, by priority; skills it only
    describes come last, however large their gap, because the course cannot
    close them and the learner should know that.
    """
    table = gaps(assessment, path)
    inside = table[table["chapters"].map(len) > 0]
    outside = table[table["chapters"].map(len) == 0]
    steps = []
    for skill, row in pd.concat([inside, outside]).iterrows():
        steps.append(Step(len(steps) + 1, skill, int(row["rating"]), int(row["target"]),
                          float(row["priority"]), tuple(row["chapters"]), SKILL_ACTIONS[skill]))
    return tuple(steps)


def plan_table(steps: tuple[Step, ...]) -> pd.DataFrame:
    """A learning plan as a table to show."""
    return pd.DataFrame({
        "skill": [s.skill for s in steps],
        "from → to": [f"{s.rating} → {s.target}" for s in steps],
        "priority": [s.priority for s in steps],
        "chapters": [", ".join(chapter_label(n) for n in s.chapters) or "outside this course"
                     for s in steps],
        "what to do": [s.action for s in steps],
    }, index=pd.Index([s.order for s in steps], name="step"))


# --- salaries ---------------------------------------------------------------

def compound_growth(start: float, rate: float, years: float) -> float:
    """``start`` grown at ``rate`` per year for ``years`` years, compounded yearly.

    ``rate`` is a fraction: 0.07 for 7 %. Assumes the same rate every year, no
    inflation adjustment, and that a market average's growth is an individual's.
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"rate must be a number, got {type(rate).__name__}")
    if rate >= 1:
        raise ValueError(f"a yearly rate of {rate} is {rate:.0%}: pass a fraction, 0.07 for 7%")
    if rate <= -1:
        raise ValueError("a rate of -100% or less leaves nothing to grow")
    if years < 0:
        raise ValueError("years must be zero or more")
    return float(start * (1 + rate) ** years)


def years_to_reach(start: float, target: float, rate: float) -> int | None:
    """Whole years of compound growth at ``rate`` until ``start`` reaches at least ``target``.

    ``start >= target`` needs 0 years; a salary that does not grow (``rate <= 0``,
    or ``start <= 0``) never gets there: ``None``. The count is the smallest
    ``n`` with ``start * (1 + rate) ** n >= target``. Taken straight from the
    logarithm, it can come out as 2.0000000000000004 for an exact hit such as
    100 -> 110.25 at 5% and round up to 3, so the count is computed from the
    logarithm, then corrected with a tolerant comparison.
    """
    if rate >= 1:
        raise ValueError(f"a yearly rate of {rate} is {rate:.0%}: pass a fraction, 0.07 for 7%")
    if start >= target:
        return 0
    if rate <= 0 or start <= 0:
        return None
    reached = lambda n: start * (1 + rate) ** n >= target or \
        math.isclose(start * (1 + rate) ** n, target, rel_tol=1e-12)
    years = max(1, math.ceil(math.log(target / start) / math.log1p(rate)))
    if years > 1 and reached(years - 1):   # the logarithm overshot an exact hit
        return years - 1
    if not reached(years) and reached(years + 1):   # or fell just short of one
        return years + 1
    return years


def plot_growth_scenarios(scenarios: pd.DataFrame, ceiling: float | None = None,
                          ceiling_label: str = "", ax=None):
    """One line per growth scenario (columns of ``scenarios``, indexed by years), in $k.

    ``ceiling``, in dollars, draws a dashed reference line with ``ceiling_label``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for name, values in scenarios.items():
        ax.plot(values.index, values / 1000, marker="o", ms=3, label=name)
    if ceiling is not None:
        ax.axhline(ceiling / 1000, color="grey", ls="--", lw=1)
        ax.annotate(ceiling_label, (scenarios.index[0], ceiling / 1000), xytext=(0, 4),
                    textcoords="offset points", fontsize=8, color="grey")
    ax.set(title="A mid-level base salary grown at the report's rates",
           xlabel="years from now", ylabel="yearly base salary (thousands of US dollars)")
    ax.legend(fontsize=8)
    return ax


def growth_rates() -> pd.DataFrame:
    """The report's compensation-growth rates that can be compounded, as fractions."""
    market = load_report_table("market")
    keep = ["mle_salary_growth_annual", "ml_mlops_comp_growth_yoy",
            "mid_level_mle_salary_growth_yoy"]
    rows = market[market["metric"].isin(keep)].set_index("metric").loc[keep]
    return pd.DataFrame({
        "rate": rows["value_low"].astype(float) / 100,
        "what": rows["description"],
        "period": (rows["period_start"].fillna("") + "–" + rows["period_end"].fillna("")).replace("–", "not stated"),
        "source": rows["source"],
    })


# --- tools ------------------------------------------------------------------

USED, STAND_IN, FILES_ONLY, DESCRIBED = "used", "stand-in", "files only", "described"
KINDS = (USED, STAND_IN, FILES_ONLY, DESCRIBED)


@dataclass(frozen=True)
class ToolUse:
    chapter: int
    kind: str     # one of KINDS
    how: str


# Every tool of the report's tools table, by its name there.
TOOL_MAP: dict[str, ToolUse] = {
    "TensorFlow": ToolUse(4, DESCRIBED, "deep learning rarely beats boosting on tabular data; discussed, not used"),
    "PyTorch": ToolUse(4, DESCRIBED, "as TensorFlow: the case study is tabular"),
    "scikit-learn": ToolUse(4, USED, "every model, pipeline and metric of the course"),
    "Keras": ToolUse(4, DESCRIBED, "as TensorFlow"),
    "XGBoost": ToolUse(4, STAND_IN, "scikit-learn's histogram gradient boosting, the same family"),
    "Hugging Face Transformers": ToolUse(10, DESCRIBED, "generative AI, in this chapter's outlook"),
    "AWS (SageMaker)": ToolUse(7, DESCRIBED, "the jobs it does (tracking, registry, pipelines, batch scoring) done locally in chapters 5 to 7"),
    "Azure (Azure ML)": ToolUse(7, DESCRIBED, "as SageMaker"),
    "GCP (Vertex AI)": ToolUse(7, DESCRIBED, "as SageMaker"),
    "Docker": ToolUse(5, FILES_ONLY, "a Dockerfile for the model service, written and explained"),
    "Kubernetes (EKS, AKS, GKE)": ToolUse(5, FILES_ONLY, "a deployment manifest, written and explained"),
    "Kubeflow": ToolUse(7, DESCRIBED, "the course's pipeline runs as Dagster assets in one process, not containers on Kubernetes"),
    "MLflow": ToolUse(7, USED, "tracking, model registry, aliases, promotion and rollback on a local SQLite file; the UI with make mlflow-ui"),
    "Airflow": ToolUse(7, STAND_IN, "Dagster runs the pipeline's steps in order, in-process; the CI workflow's schedule retrains weekly"),
    "TFX": ToolUse(7, DESCRIBED, "its validation and gating steps are lender.validation and lender.gates"),
    "SageMaker Pipelines": ToolUse(7, DESCRIBED, "as Kubeflow"),
    "Azure ML Pipelines": ToolUse(7, DESCRIBED, "as Kubeflow"),
    "Vertex AI Pipelines": ToolUse(7, DESCRIBED, "as Kubeflow"),
    "Neptune.ai": ToolUse(7, STAND_IN, "MLflow does the same job locally"),
    "Weights & Biases": ToolUse(7, STAND_IN, "MLflow does the same job locally"),
    "Comet ML": ToolUse(7, STAND_IN, "MLflow does the same job locally"),
    "Cloud Platform Registries": ToolUse(7, STAND_IN, "MLflow's model registry"),
    "Prometheus": ToolUse(6, USED, "the service's /metrics with prometheus_client; alert rules checked and unit-tested by promtool"),
    "Grafana": ToolUse(6, STAND_IN, "the chapter's matplotlib plots of the replay's metrics"),
    "ELK Stack": ToolUse(6, STAND_IN, "the SQLite prediction log, queried with SQL and pandas"),
    "CloudWatch": ToolUse(6, DESCRIBED, "a managed Prometheus and Grafana"),
    "Azure Monitor": ToolUse(6, DESCRIBED, "as CloudWatch"),
    "Google Cloud Monitoring": ToolUse(6, DESCRIBED, "as CloudWatch"),
    "SageMaker Monitor": ToolUse(6, STAND_IN, "drift statistics with scipy and by hand, and Evidently's default method on scipy"),
    "Pandas": ToolUse(2, USED, "every data chapter"),
    "NumPy": ToolUse(2, USED, "under pandas and scikit-learn throughout"),
    "SQL": ToolUse(3, STAND_IN, "the same filters, joins and group-bys in pandas"),
    "Spark": ToolUse(10, DESCRIBED, "61k loans fit in memory; needed at a larger scale"),
    "Hadoop": ToolUse(10, DESCRIBED, "as Spark"),
    "Cloud Storage (S3, GCS)": ToolUse(2, STAND_IN, "a local data file checked against its checksum"),
    "Databases (SQL/NoSQL)": ToolUse(7, STAND_IN, "the SQLite database behind the MLflow registry"),
    "Tecton": ToolUse(3, STAND_IN, "one fitted feature pipeline, saved inside the model, shared by training and serving"),
    "Featureform": ToolUse(3, STAND_IN, "as Tecton"),
    "Vertex AI Feature Store": ToolUse(3, STAND_IN, "as Tecton"),
    "Feast": ToolUse(3, STAND_IN, "as Tecton"),
}


def tool_map() -> pd.DataFrame:
    """The report's tools table, with where the course meets each tool."""
    tools = load_report_table("tools")
    missing = sorted(set(tools["tool"]) - set(TOOL_MAP))
    if missing:
        raise KeyError(f"tools without a place in the course: {', '.join(missing)}")
    uses = tools["tool"].map(TOOL_MAP)
    return pd.DataFrame({
        "category": tools["category"],
        "tool": tools["tool"],
        "chapter": [u.chapter for u in uses],
        "in the course": [u.kind for u in uses],
        "how": [u.how for u in uses],
    })


# --- interviews -------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    difficulty: str   # "warm-up", "core" or "senior"
    question: str
    chapter: int


DIFFICULTIES = ("warm-up", "core", "senior")

QUESTION_BANK: tuple[Question, ...] = (
    Question("warm-up", "What does an ML engineer do that a data scientist and a software engineer do not?", 1),
    Question("warm-up", "What is the base rate of a classification problem, and why must a model beat it?", 2),
    Question("warm-up", "What is label delay, and what does it stop you from measuring?", 2),
    Question("warm-up", "What is the difference between covariate drift and concept drift?", 6),
    Question("core", "How do you split time-ordered data for validation, and why not at random?", 4),
    Question("core", "What is target leakage? Give an example from a lending data set.", 3),
    Question("core", "How do you choose a decision threshold when a false approval costs more than a false rejection?", 4),
    Question("core", "How do you roll out a new model version so that a bad one harms few users?", 5),
    Question("core", "What must a model registry record so that a model can be rebuilt a year later?", 7),
    Question("core", "Outcomes arrive a year late: what do you monitor in the meantime?", 6),
    Question("senior", "Design a default-risk scoring system for a lender, end to end.", 9),
    Question("senior", "Approval rates differ between two groups of applicants: how do you measure it, and what are your options?", 8),
    Question("senior", "Retraining is costly: how do you decide when to retrain, and what do you check before the new model goes live?", 7),
    Question("senior", "Which regulations apply to a credit-scoring model in the EU, and what do they require of the engineering?", 8),
    Question("senior", "When would you advise a team not to use machine learning at all?", 1),
)


def question_table(bank: tuple[Question, ...] = QUESTION_BANK) -> pd.DataFrame:
    """The question bank as a table, easiest first, each with the chapter that answers it."""
    rank = {d: i for i, d in enumerate(DIFFICULTIES)}
    rows = sorted(bank, key=lambda q: (rank[q.difficulty], q.chapter))
    return pd.DataFrame({
        "difficulty": [q.difficulty for q in rows],
        "question": [q.question for q in rows],
        "answered in": [chapter_label(q.chapter) for q in rows],
    })


# The steps of an ML system-design answer, each with the question it settles.
DESIGN_TEMPLATE: tuple[tuple[str, str], ...] = (
    ("Requirements", "What decision does the model support, for whom, how fast, and how is success measured?"),
    ("Data", "Which data exist at decision time, how much, how clean, and when do labels arrive?"),
    ("Features", "Which inputs are allowed, available at decision time, and computed the same way in training and serving?"),
    ("Model", "Which baseline first, which model next, validated how, against which metric?"),
    ("Serving", "Batch or online, what latency and throughput, how is a new version rolled out?"),
    ("Monitoring", "What is watched before labels arrive, what after, and what triggers action?"),
    ("Fairness and compliance", "Which groups could be harmed, how is it measured, which rules apply?"),
)
