"""This course's own project, scored on the ML Test Score (Breck et al., 2017).

The rubric has 28 tests in four sections (data, model, infrastructure,
monitoring). Each scores 0 (not done), 0.5 (done by hand and documented)
or 1 (automated, run on every change). A section's score is the sum of its
tests; the final score is the *minimum* over the sections, so a strong
section cannot hide a weak one.

Every score below names its evidence: a test file that `make test` runs
(for 1) or a chapter that does it by hand (for 0.5). ``tests/test_mltestscore.py``
checks that each named file exists, so the audit cannot claim what the
repository does not hold.
"""
from __future__ import annotations

import pandas as pd

# (section, test, score, evidence, comment)
AUDIT = [
    ("data", "feature expectations are captured in a schema", 1.0, "tests/test_validation.py",
     "pandera schema and ranges of lender.validation"),
    ("data", "all features are beneficial", 0.5, "chapters/04_model_development.ipynb",
     "permutation importance read by hand; no automated ablation"),
    ("data", "no feature's cost is too much", 0.0, "", "latency and upkeep per feature never measured"),
    ("data", "features meet meta-level requirements", 1.0, "tests/test_model_behaviour.py",
     "the sensitive attribute and ids are not model inputs: tested"),
    ("data", "the data pipeline has privacy controls", 0.0, "", "synthetic data; no access control to test"),
    ("data", "new features can be added quickly", 0.5, "src/mlecourse/lender/features.py",
     "one pipeline object; no measured lead time"),
    ("data", "all input feature code is tested", 1.0, "tests/test_features.py", "unit tests of features"),
    ("model", "model specs are reviewed and versioned", 1.0, "tests/test_tracking.py",
     "code, data fingerprint and lock hash on every run"),
    ("model", "offline and online metrics correlate", 0.0, "", "no live outcomes: defaults arrive a year late"),
    ("model", "all hyperparameters have been tuned", 0.5, "chapters/04_model_development.ipynb",
     "a budgeted search, run by hand"),
    ("model", "the impact of model staleness is known", 1.0, "tests/test_model_behaviour.py",
     "staleness test on the model card's training window"),
    ("model", "a simpler model is not better", 1.0, "tests/test_gates.py",
     "the gate compares every candidate with the champion; chapter 4 beats the business rule"),
    ("model", "model quality is sufficient on important slices", 1.0, "tests/test_model_behaviour.py",
     "refusal-rate gap by age group, bounded"),
    ("model", "the model is tested for inclusion", 0.5, "tests/test_model_behaviour.py",
     "one attribute (age) automated; the ethics chapter's audit is manual"),
    ("infrastructure", "training is reproducible", 1.0, "tests/test_reproducibility.py",
     "same data, code and seed give the same model digest"),
    ("infrastructure", "model specs are unit tested", 1.0, "tests/test_artifact.py",
     "the artifact, its card and its checks"),
    ("infrastructure", "the ML pipeline is integration tested", 1.0, "tests/test_pipeline.py",
     "validate to promote, end to end, on a temporary store"),
    ("infrastructure", "model quality is validated before serving", 1.0, "tests/test_gates.py",
     "the promotion gate"),
    ("infrastructure", "a single example can be stepped through", 0.5, "chapters/05_deployment.ipynb",
     "one application scored by hand through the service"),
    ("infrastructure", "models are canaried before serving", 1.0, "tests/test_rollout.py",
     "canary with guards and automatic rollback"),
    ("infrastructure", "serving models can be rolled back", 1.0, "tests/test_registry.py",
     "registry rollback moves the champion alias back"),
    ("monitoring", "dependency changes result in notification", 0.5, "tests/test_tracking.py",
     "the lock's hash is recorded; nobody is notified"),
    ("monitoring", "data invariants hold in training and serving inputs", 1.0, "tests/test_serving.py",
     "the service validates every request against the card's schema"),
    ("monitoring", "training and serving features compute the same values", 1.0, "tests/test_serving.py",
     "one pipeline object, served as trained"),
    ("monitoring", "models are not too stale", 0.5, "tests/test_model_behaviour.py",
     "tested at training time only; nothing watches the served model's age"),
    ("monitoring", "the model is numerically stable", 0.5, "tests/test_rollout.py",
     "NaN scores refused by the rollout router; no alert"),
    ("monitoring", "computing performance has not regressed", 0.5, "tests/test_loadtest.py",
     "a benchmark exists; no alert on regression"),
    ("monitoring", "prediction quality has not regressed", 0.0, "",
     "needs production outcomes; the monitoring chapter's work"),
]
SECTIONS = ("data", "model", "infrastructure", "monitoring")


def audit() -> pd.DataFrame:
    return pd.DataFrame(AUDIT, columns=["section", "test", "score", "evidence", "comment"])


def section_scores(table: pd.DataFrame | None = None) -> pd.Series:
    table = audit() if table is None else table
    return table.groupby("section")["score"].sum().reindex(SECTIONS)


def final_score(table: pd.DataFrame | None = None) -> float:
    """The rubric's final score: the weakest section's."""
    return float(section_scores(table).min())
