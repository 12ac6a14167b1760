"""Evaluation without labels at generation time: property checks, intervals, and a judge checked against people.

An LLM's answer has no single right string. What an engineer can check by
code is a set of properties: the answer cites a passage it was given, every
number in it comes from that passage, the facts the question needs are there,
and it refuses when the documents do not answer. Each rate is reported with
its interval (Wilson's for a proportion, a bootstrap for anything else): an
evaluation set of a few dozen items cannot tell 70% from 80%.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

REFUSAL = "I can't answer that from our policies."
NUMBER = re.compile(r"\d+(?:[,.]\d+)*")


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion: sound at 0, at 1 and with few items."""
    if n <= 0:
        raise ValueError("an interval needs at least one item")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({n}), got {successes}")
    z = norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exactly 0 and 1 at the ends (the formula gives them up to rounding)
    return (0.0 if successes == 0 else max(0.0, centre - half)), (1.0 if successes == n else min(1.0, centre + half))


def rate(flags, confidence: float = 0.95) -> dict:
    """A proportion of True with its Wilson interval and the number of items."""
    flags = np.asarray(list(flags), dtype=bool)
    low, high = wilson(int(flags.sum()), len(flags), confidence)
    return {"rate": float(flags.mean()), "low": low, "high": high, "n": int(len(flags))}


def bootstrap(values, stat=np.mean, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95) -> dict:
    """A percentile bootstrap interval for ``stat`` of ``values`` (resampling items)."""
    values = np.asarray(list(values), dtype=float)
    if len(values) == 0:
        raise ValueError("an interval needs at least one item")
    rng = np.random.default_rng(seed)
    draws = np.array([stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n_boot)])
    tail = (1 - confidence) / 2
    return {"value": float(stat(values)), "low": float(np.quantile(draws, tail)),
            "high": float(np.quantile(draws, 1 - tail)), "n": int(len(values))}


def table(rows: dict[str, dict]) -> pd.DataFrame:
    """Rates with intervals as one frame, a row per measure."""
    return pd.DataFrame(rows).T[["rate", "low", "high", "n"]].astype({"n": int})


# --- properties of one answer ------------------------------------------------------------

def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def is_refusal(answer: str) -> bool:
    """The answer declines. Citing no passage is not declining: what the customer reads is the text."""
    text = answer.lower()
    return not text.strip() or "can't answer" in text or "cannot answer" in text


def grounded(answer: str, cited: str | None, passages: dict[str, str]) -> bool:
    """The answer cites a passage it was given, and every number in it appears in that passage."""
    if cited not in passages:
        return False
    return numbers_in(answer) <= numbers_in(passages[cited])


def has_facts(answer: str, facts: list[str]) -> bool:
    """Every required fact appears in the answer, as whole words, ignoring case and spacing."""
    text = " ".join(answer.lower().split())
    return all(re.search(rf"(?<![\w]){re.escape(' '.join(f.lower().split()))}(?![\w])", text) for f in facts)


@dataclass(frozen=True)
class Verdict:
    grounded: bool
    facts: bool
    refused: bool
    correct: bool  # what a person wants: the right facts, grounded; or a refusal when nothing answers


def judge_answer(answer: str, cited: str | None, passages: dict[str, str], facts: list[str],
                 answerable: bool) -> Verdict:
    refused = is_refusal(answer)
    ok_ground = not refused and grounded(answer, cited, passages)
    ok_facts = not refused and has_facts(answer, facts)
    correct = (ok_ground and ok_facts) if answerable else refused
    return Verdict(ok_ground, ok_facts, refused, correct)


def cohen_kappa(a, b) -> float:
    """Agreement between two raters beyond chance (1 perfect, 0 chance, below 0 worse than chance).

    Written out (it is four lines) because the bootstrap calls it thousands of
    times; ``sklearn.metrics.cohen_kappa_score`` gives the same value (a test says so).
    """
    a, b = np.asarray(list(a)), np.asarray(list(b))
    if len(a) != len(b) or len(a) == 0:
        raise ValueError("kappa needs two equally long, non-empty lists of labels")
    labels = np.union1d(a, b)
    observed = np.mean(a == b)
    expected = sum(np.mean(a == label) * np.mean(b == label) for label in labels)
    if expected == 1:
        return 1.0  # both raters gave one and the same label to everything
    return float((observed - expected) / (1 - expected))


def kappa_interval(a, b, n_boot: int = 1000, seed: int = 0) -> dict:
    """Kappa with a bootstrap interval over the rated items."""
    a, b = np.asarray(list(a)), np.asarray(list(b))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        i = rng.integers(0, len(a), len(a))
        draws.append(cohen_kappa(a[i], b[i]))
    return {"value": cohen_kappa(a, b), "low": float(np.quantile(draws, 0.025)),
            "high": float(np.quantile(draws, 0.975)), "n": int(len(a))}
