"""The model hand-off contract between a data scientist and an ML engineer.

A contract is a plain dict: one entry per field below, each a non-empty
answer. :func:`contract_problems` lists what is missing or empty, so a team
can refuse a hand-off that is not written down.
"""
from __future__ import annotations

# field -> the question it answers
CONTRACT_FIELDS = {
    "purpose": "What decision does the model support, for whom, and what is it not for?",
    "inputs": "Which inputs, with types, units, allowed ranges and how missing values arrive?",
    "output": "What does the output mean (a probability? of what, over what horizon)?",
    "metrics": "Which metrics, measured on which data (period, filters), with which values?",
    "limitations": "Where is the model known to be weak, biased or untested?",
    "owner": "Who answers questions and approves changes, on each side?",
    "retraining": "When and how is it retrained, and who decides to ship a new version?",
    "monitoring": "Which live signals say it is healthy, with which thresholds, and who is alerted?",
}


def contract_problems(contract: dict) -> list[str]:
    """What is missing or empty in ``contract`` (an empty list means complete)."""
    if not isinstance(contract, dict):
        return [f"a contract is a dict of fields, not {type(contract).__name__}"]
    problems = []
    for field in CONTRACT_FIELDS:
        value = contract.get(field)
        if value is None:
            problems.append(f"missing field {field!r}: {CONTRACT_FIELDS[field]}")
        elif not (str(value).strip() if not isinstance(value, (dict, list)) else value):
            problems.append(f"field {field!r} is empty: {CONTRACT_FIELDS[field]}")
    return problems
