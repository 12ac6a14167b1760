"""Checks for the workbook of chapter 5, "Deployment".

The timings of 5.1 are made here from a fixed seed (the workbook loads them
with ``recorded_timings``), so the check and the learner see the same numbers
on every machine. The A/B references come from ``mlecourse.lender.rollout.abtest``.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import stats

from mlecourse.lender.data import loans as spec
from mlecourse.lender.rollout.abtest import sample_size_per_arm, two_proportion_test
from . import compare
from .blank import is_blank
from .core import exercise
from .result import Unanswered, Wrong

WORKBOOK = "05_deployment.ipynb"


def _dict(answer, keys: tuple[str, ...], what: str) -> dict:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict with the keys {', '.join(map(repr, keys))}, "
                    f"got {compare.describe(answer)}")
    if any(is_blank(v) for v in answer.values()):
        raise Unanswered()
    missing = [k for k in keys if k not in answer]
    if missing:
        raise Wrong(f"{what} lacks the key {missing[0]!r}")
    return answer


# 5.1 ----------------------------------------------------------------------

@cache
def _timings() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(505)
    raw = 6.0 + rng.gamma(2.0, 0.4, 400)
    service = 6.0 + rng.gamma(2.0, 0.4, 400) + 2.0 + rng.gamma(1.5, 0.6, 400)
    slow = rng.random(400) < 0.07  # a few requests wait (a garbage collection, a busy core)
    service[slow] += rng.uniform(20, 60, slow.sum())
    return np.round(raw, 3), np.round(service, 3)


def recorded_timings() -> dict[str, np.ndarray]:
    """Exercise 5.1's measurements, in milliseconds: 400 calls of each kind.

    ``service``: one application sent to the service over HTTP, answer received.
    ``raw``: ``model.predict_proba`` on the same application, in process.
    """
    raw, service = _timings()
    return {"service": service.copy(), "raw": raw.copy()}


def ref_latency() -> dict[str, float]:
    raw, service = _timings()
    return {"p95_ms": float(np.percentile(service, 95)),
            "overhead_ms": float(np.median(service) - np.median(raw))}


@exercise("5.1", "Tail latency and the service's overhead", workbook=WORKBOOK,
          hints=["`np.percentile(values, q)` takes q in percent, from 0 to 100.",
                 "The overhead is what the service adds to the model's own time: compare the "
                 "two medians (the 50th percentiles), in milliseconds."],
          reference=ref_latency,
          mistakes=[(lambda: {**ref_latency(), "p95_ms": float(_timings()[1].mean())}, "mean"),
                    (lambda: {**ref_latency(), "p95_ms": float(np.percentile(_timings()[1], 0.95))},
                     "percent"),
                    (lambda: {**ref_latency(), "overhead_ms": float(
                        np.median(_timings()[1]) / np.median(_timings()[0]))}, "ratio"),
                    (lambda: {**ref_latency(), "p95_ms": float(np.percentile(_timings()[0], 95))},
                     "raw"),
                    (lambda: {**ref_latency(), "overhead_ms": float(np.median(_timings()[1] - _timings()[0]))},
                     "pairs"),
                    (lambda: {**ref_latency(), "p95_ms": round(ref_latency()["p95_ms"])}, "whole number")],
          rounded=[lambda: {k: round(v, 2) for k, v in ref_latency().items()},
                   lambda: {"p95_ms": round(ref_latency()["p95_ms"], 1),
                            "overhead_ms": round(ref_latency()["overhead_ms"], 2)}])
def check_latency(answer) -> str:
    answer = _dict(answer, ("p95_ms", "overhead_ms"), "your answer")
    raw, service = _timings()
    p95 = compare.as_number(answer["p95_ms"], "p95_ms")
    if math.isclose(p95, service.mean(), rel_tol=1e-6):
        raise Wrong("your p95_ms is the mean latency; the 95th percentile is the time that 95% of "
                    "requests beat")
    if math.isclose(p95, np.percentile(service, 0.95), rel_tol=1e-6):
        raise Wrong("your p95_ms is the 0.95th percentile, near the fastest request: np.percentile "
                    "takes q in percent (95), not as a fraction")
    if math.isclose(p95, np.percentile(raw, 95), rel_tol=1e-6):
        raise Wrong("your p95_ms is computed on the raw model timings; the question is about what "
                    "users of the service wait")
    compare.number(p95, ref_latency()["p95_ms"], what="your p95_ms", rel=0, abs_tol=0.01, places=1)
    overhead = compare.as_number(answer["overhead_ms"], "overhead_ms")
    if math.isclose(overhead, np.median(service) / np.median(raw), rel_tol=1e-6):
        raise Wrong("your overhead_ms is a ratio; give the difference in milliseconds")
    if math.isclose(overhead, service.mean() - raw.mean(), rel_tol=1e-6):
        raise Wrong("your overhead_ms compares means, which the slow requests pull up; compare medians")
    if math.isclose(overhead, np.median(service - raw), rel_tol=1e-9):
        raise Wrong("your overhead_ms is the median of row-by-row differences, but the two sets "
                    "were measured separately and are not pairs: take each set's median first")
    compare.number(overhead, ref_latency()["overhead_ms"], what="your overhead_ms", rel=0,
                   abs_tol=0.005, places=2)
    return ("The median barely moves, the tail is many times the median: report p95 and p99, "
            "never only the mean.")


# 5.2 ----------------------------------------------------------------------

def _valid() -> dict:
    return {"loan_amount": 12_000.0, "loan_term_months": 36, "channel": "online",
            "credit_score": 640.0}


def _without(key: str) -> dict:
    payload = _valid()
    del payload[key]
    return payload


# (payload, must it be accepted, what it is, for messages)
PAYLOADS = [
    (_valid(), True, "a complete, valid application"),
    (_without("credit_score"), True, "a valid application without a credit score"),
    ({**_valid(), "credit_score": None}, True, "a credit score sent as null"),
    ({**_valid(), "loan_amount": 100}, True, "the smallest loan (100, a whole number)"),
    ({**_valid(), "loan_amount": float(spec.MAX_LOAN_AMOUNT)}, True, "the largest loan allowed"),
    ({**_valid(), "loan_amount": 1234.5}, True, "a loan of 1234.5 (amounts are not whole numbers)"),
    ({**_valid(), "credit_score": 300.0}, True, "the lowest credit score, 300"),
    ({**_valid(), "credit_score": 850.0}, True, "the highest credit score, 850"),
    ({**_valid(), "loan_term_months": 60}, True, "a 60-month term"),
    ({**_valid(), "loan_term_months": 12, "channel": "broker"}, True, "a 12-month broker loan"),
    (_without("loan_amount"), False, "an application without a loan amount"),
    (_without("channel"), False, "an application without a channel"),
    ({**_valid(), "loan_amount": 99.0}, False, "a loan of 99"),
    ({**_valid(), "loan_amount": spec.MAX_LOAN_AMOUNT + 1.0}, False, "a loan above the product's limit"),
    ({**_valid(), "loan_amount": "a lot"}, False, "a loan amount given as words"),
    ({**_valid(), "loan_term_months": 18}, False, "an 18-month term"),
    ({**_valid(), "channel": "phone"}, False, "the channel 'phone'"),
    ({**_valid(), "channel": "Online"}, False, "the channel 'Online' (capitalised)"),
    ({**_valid(), "credit_score": 900.0}, False, "a credit score of 900"),
    ({**_valid(), "credit_score": 250.0}, False, "a credit score of 250"),
    ({**_valid(), "ethnicity": "minority"}, False, "an application with an extra field 'ethnicity'"),
]


def reference_schema():
    """The reference answer: the request schema the service needs."""
    from typing import Literal, Optional

    from pydantic import BaseModel, ConfigDict, Field

    class LoanRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        loan_amount: float = Field(ge=100, le=spec.MAX_LOAN_AMOUNT)
        loan_term_months: Literal[12, 24, 36, 60]
        channel: Literal["branch", "online", "broker"]
        credit_score: Optional[float] = Field(default=None, ge=300, le=850)

    return LoanRequest


def _normalising_schema():
    """The reference with a convenience that hides dirty data: ' Online' passes."""
    from pydantic import field_validator

    class Normalising(reference_schema()):
        @field_validator("channel", mode="before")
        @classmethod
        def tidy(cls, value):
            return value.strip().lower() if isinstance(value, str) else value

    return Normalising


def _schemas() -> dict:
    """The reference schema and plausible wrong ones, built once."""
    from typing import Literal, Optional

    from pydantic import BaseModel, ConfigDict, Field

    LoanRequest = reference_schema()

    class AllowsExtra(BaseModel):
        loan_amount: float = Field(ge=100, le=spec.MAX_LOAN_AMOUNT)
        loan_term_months: Literal[12, 24, 36, 60]
        channel: Literal["branch", "online", "broker"]
        credit_score: Optional[float] = Field(default=None, ge=300, le=850)

    class ScoreRequired(BaseModel):
        model_config = ConfigDict(extra="forbid")
        loan_amount: float = Field(ge=100, le=spec.MAX_LOAN_AMOUNT)
        loan_term_months: Literal[12, 24, 36, 60]
        channel: Literal["branch", "online", "broker"]
        credit_score: float = Field(ge=300, le=850)

    class AnyTerm(BaseModel):
        model_config = ConfigDict(extra="forbid")
        loan_amount: float = Field(ge=100, le=spec.MAX_LOAN_AMOUNT)
        loan_term_months: int = Field(ge=12, le=60)
        channel: Literal["branch", "online", "broker"]
        credit_score: Optional[float] = Field(default=None, ge=300, le=850)

    return {"reference": LoanRequest, "extra": AllowsExtra, "score": ScoreRequired, "term": AnyTerm}


_SCHEMAS: dict = {}


def schema(name: str):
    if not _SCHEMAS:
        _SCHEMAS.update(_schemas())
    return _SCHEMAS[name]


@exercise("5.2", "A request schema that refuses bad applications", workbook=WORKBOOK,
          hints=["Types and `Literal[...]` decide what kind of value is allowed; `Field(ge=..., "
                 "le=...)` decides the range.",
                 "An optional field needs a type that allows None AND a default: "
                 "`credit_score: float | None = Field(default=None, ge=300, le=850)`.",
                 "Unknown fields are accepted and silently dropped unless the model says "
                 "`model_config = ConfigDict(extra=\"forbid\")`."],
          reference=lambda: schema("reference"),
          mistakes=[(lambda: schema("extra"), "extra field"),
                    (lambda: schema("score"), "without a credit score"),
                    (lambda: schema("term"), "18-month")],
          mutate=reference_schema, mutate_call=True,
          mutants=[(_normalising_schema, "strips and lower-cases the channel before checking it")])
def check_schema(answer) -> str:
    from pydantic import BaseModel, ValidationError

    if is_blank(answer):
        raise Unanswered()
    if not (isinstance(answer, type) and issubclass(answer, BaseModel)):
        raise Wrong(f"expected a class derived from pydantic's BaseModel, got {compare.describe(answer)}")
    if not answer.model_fields:
        raise Unanswered()
    for payload, accept, what in PAYLOADS:
        try:
            with compare.time_limit(2):
                answer.model_validate(dict(payload))
            accepted = True
        except ValidationError:
            accepted = False
        except Exception as err:  # a learner's validator that crashes: report, do not raise
            raise Wrong(f"validating {what} raised {type(err).__name__} instead of a "
                        "ValidationError") from None
        if accepted and not accept:
            raise Wrong(f"your schema accepts {what}: it should refuse it")
        if accept and not accepted:
            raise Wrong(f"your schema refuses {what}: it should accept it")
    return ("The service answers each refused payload with a 422 naming the field, before "
            "the model ever sees it.")


# 5.3 ----------------------------------------------------------------------
AB_RATE_A, AB_RATE_B = 0.10, 0.09


def ref_sample_size() -> int:
    return sample_size_per_arm(AB_RATE_A, AB_RATE_B, alpha=0.05, power=0.8)


def _spread(p_a: float, p_b: float, z_alpha: float, z_power: float, pooled: bool = True) -> float:
    p = (p_a + p_b) / 2
    first = math.sqrt(2 * p * (1 - p)) if pooled else math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return z_alpha * first + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))


def _exact_size(p_a, p_b, alpha=0.05, power=0.8, *, sides=2, pooled=True) -> float:
    """The formula before rounding up (``sides=1``: a one-sided test)."""
    z_alpha, z_power = stats.norm.ppf(1 - alpha / sides), stats.norm.ppf(power)
    return _spread(p_a, p_b, z_alpha, z_power, pooled) ** 2 / (p_a - p_b) ** 2


# (rate of A, rate of B, alpha, power, what the case is about)
SIZE_CASES = [
    (0.10, 0.09, 0.05, 0.8, "the workbook's test: 10% against 9%"),
    (0.20, 0.25, 0.05, 0.8, "a rise from 20% to 25%"),
    (0.10, 0.09, 0.01, 0.8, "a stricter level, alpha = 0.01"),
    (0.50, 0.52, 0.05, 0.9, "more power, 90%, on rates near a half"),
    (0.03, 0.02, 0.10, 0.8, "rare events, at alpha = 0.10"),
]


def _size_case(p_a, p_b, alpha, power, name) -> compare.Case:
    n = sample_size_per_arm(p_a, p_b, alpha=alpha, power=power)
    exact = _exact_size(p_a, p_b, alpha, power)

    def verify(result):
        value = compare.as_number(result, "the number per arm")
        if value == n:
            if not float(value).is_integer():
                raise Wrong("the right size, but as a fraction of a loan: return a whole number")
            return
        if value == 2 * n:
            raise Wrong("that is both arms together; return the number for each arm")
        if value == math.ceil(_exact_size(p_a, p_b, alpha, power, sides=1)):
            raise Wrong("that uses a one-sided z: the test asks whether B differs from A in either "
                        "direction, so it is two-sided (alpha / 2 on each side)")
        if value == math.ceil(_exact_size(p_a, p_b, alpha, power, pooled=False)):
            raise Wrong("close: that is the unpooled variant of the formula; the chapter's puts the "
                        "average rate p(1 - p), twice, under the z of the significance level")
        if math.isclose(value, exact, rel_tol=1e-9) or value == math.floor(exact):
            raise Wrong("almost: round up to a whole loan, since rounding down leaves the test "
                        "short of its power")
        if alpha != 0.05 or power != 0.8:
            raise Wrong(f"{value:g} is not the size for alpha = {alpha:g} and power = {power:g}: "
                        "use the alpha and power you are given, not 5% and 80%")
        compare.integer(value, n, what="the number per arm")
    shown = f"p_a={p_a:g}, p_b={p_b:g}, alpha={alpha:g}, power={power:g}"
    return compare.Case(f"{name} ({shown})", (p_a, p_b), verify, kwargs={"alpha": alpha, "power": power})


def ref_size_function(p_a: float, p_b: float, alpha: float = 0.05, power: float = 0.8) -> int:
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_power = stats.norm.ppf(power)
    pooled = (p_a + p_b) / 2
    spread = (z_alpha * math.sqrt(2 * pooled * (1 - pooled))
              + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b)))
    return math.ceil(spread**2 / (p_a - p_b) ** 2)


@exercise("5.3", "How many loans does the A/B test need?", workbook=WORKBOOK,
          hints=["z for a two-sided test at level alpha is `norm.ppf(1 - alpha / 2)`; z for the "
                 "power is `norm.ppf(power)`.",
                 "n = (z_alpha * sqrt(2 p (1 - p)) + z_power * sqrt(pA (1 - pA) + pB (1 - pB)))**2 "
                 "/ (pA - pB)**2, with p the average of pA and pB.",
                 "The answer is per arm, and a fraction of a loan rounds up: `math.ceil`."],
          reference=lambda: ref_size_function,
          mistakes=[(lambda: (lambda a, b, alpha=0.05, power=0.8: 2 * ref_size_function(a, b, alpha, power)),
                     "both arms"),
                    (lambda: (lambda a, b, alpha=0.05, power=0.8: math.ceil(
                        _exact_size(a, b, alpha, power, sides=1))), "one-sided"),
                    (lambda: (lambda a, b, alpha=0.05, power=0.8: math.floor(_exact_size(a, b, alpha, power))),
                     "round up"),
                    (lambda: (lambda a, b, alpha=0.05, power=0.8: math.ceil(
                        _exact_size(a, b, alpha, power, pooled=False))), "average rate"),
                    (lambda: (lambda a, b, alpha=0.05, power=0.8: ref_size_function(a, b)),
                     "the alpha and power you are given")])
def check_sample_size(answer) -> str:
    compare.function(answer, [_size_case(*case) for case in SIZE_CASES], what="your function")
    months = 2 * ref_sample_size() / 1000
    return (f"A lender approving 1,000 loans a month would need {months:.0f} months to collect "
            "both arms of the workbook's test, and each outcome takes 12 more months to arrive.")


# 5.4 ----------------------------------------------------------------------
AB_RESULT = {"A": (4_000, 5_000), "B": (4_070, 5_000)}  # (approved, applications)


def ref_ab_decision() -> dict:
    (xa, na), (xb, nb) = AB_RESULT["A"], AB_RESULT["B"]
    p = two_proportion_test(xa, na, xb, nb)["p_value"]
    return {"p_value": p, "significant": bool(p < 0.05)}


def _fisher() -> float:
    (xa, na), (xb, nb) = AB_RESULT["A"], AB_RESULT["B"]
    return float(stats.fisher_exact([[xa, na - xa], [xb, nb - xb]])[1])


def _yates() -> float:
    (xa, na), (xb, nb) = AB_RESULT["A"], AB_RESULT["B"]
    return float(stats.chi2_contingency([[xa, na - xa], [xb, nb - xb]], correction=True)[1])


@exercise("5.4", "Is the difference in approval rates real?", workbook=WORKBOOK,
          hints=["The z-test uses the pooled approval rate p = (4000 + 4070) / 10000: the standard "
                 "error of the difference is sqrt(p (1 - p) (1/5000 + 1/5000)), and z is the "
                 "difference of the two rates divided by it.",
                 "Two-sided: p_value = 2 * stats.norm.sf(abs(z)). Or, in one line: "
                 "`stats.chi2_contingency(table, correction=False)` on [[approved, refused] per arm].",
                 "Significant means p < 0.05, decided before looking at the data."],
          reference=ref_ab_decision,
          mistakes=[(lambda: {"p_value": ref_ab_decision()["p_value"] / 2, "significant": True},
                     "one-sided"),
                    (lambda: {"p_value": _yates(), "significant": False}, "continuity"),
                    (lambda: {"p_value": _fisher(), "significant": False}, "Fisher"),
                    (lambda: {**ref_ab_decision(), "significant": True}, "compare the p-value"),
                    (lambda: {**ref_ab_decision(), "p_value": 0.08}, "looks rounded to 2 decimals")],
          rounded=[lambda: {**ref_ab_decision(), "p_value": round(ref_ab_decision()["p_value"], 3)},
                   lambda: {**ref_ab_decision(), "p_value": round(ref_ab_decision()["p_value"], 4)}])
def check_ab_decision(answer) -> str:
    answer = _dict(answer, ("p_value", "significant"), "your answer")
    expected = ref_ab_decision()
    p = compare.as_number(answer["p_value"], "p_value")
    if p > 1:
        raise Wrong("a p-value is a probability, between 0 and 1; give it as a fraction, not in percent")
    close = lambda x: compare.agrees(p, x, rel=1e-5, sig=2)   # a p-value rounded as reported
    if close(expected["p_value"] / 2):
        raise Wrong("that is a one-sided p-value; B could have been worse as well as better, "
                    "so the test is two-sided")
    if close(_yates()) and not close(expected["p_value"]):
        raise Wrong("that p-value has Yates' continuity correction; use correction=False "
                    "(the z-test's p-value)")
    if close(_fisher()) and not close(expected["p_value"]):
        raise Wrong("that is Fisher's exact test; the exercise asks for the two-proportion z-test")
    compare.number(p, expected["p_value"], what="your p_value", rel=1e-3, sig=2)
    significant = answer["significant"]
    if not isinstance(significant, (bool, np.bool_)):
        raise Wrong(f"significant should be True or False, got {compare.describe(significant)}")
    if bool(significant) != expected["significant"]:
        raise Wrong("the p-value is right, but the decision is not: compare the p-value with 0.05")
    return ("Not significant: B may well be better, but this test cannot tell. Stopping now and "
            "calling it a win is how false discoveries are made.")


# 5.5 ----------------------------------------------------------------------
STEPS = (0.05, 0.25, 0.5, 1.0)


def ref_next_weight(weight: float, step: dict) -> float:
    requests = step["requests"]
    error_rate = step["errors"] / requests if requests else 0.0
    if error_rate > 0.01 or step["p95_ms"] > 300 or step["shift"] > 0.1:
        return 0.0
    if requests < 200:
        return weight
    later = [s for s in STEPS if s > weight]
    return later[0] if later else 1.0


def _step(requests=500, errors=0, p95_ms=80.0, shift=0.02) -> dict:
    return {"requests": requests, "errors": errors, "p95_ms": p95_ms, "shift": shift}


# (weight, step, why the expected answer is what it is)
CANARY_CASES = [
    (0.05, _step(), "a clean step with enough requests moves to the next step"),
    (0.25, _step(1000), "a clean step with enough requests moves to the next step"),
    (0.5, _step(2000), "a clean step with enough requests moves to the next step"),
    (1.0, _step(4000), "at 100% a clean step stays at 100%"),
    (0.05, _step(150), "fewer than 200 requests and no breach: hold at the same weight"),
    (0.05, _step(199), "199 requests is fewer than 200: hold at the same weight"),
    (0.25, _step(200), "exactly 200 requests is enough (hold only with fewer than 200): promote"),
    (0.05, _step(0, 0, 0.0, 0.0), "a step with no requests yet: hold at the same weight"),
    (0.25, _step(1000, 11), "an error rate above 1% rolls back (to weight 0)"),
    (0.25, _step(1000, 10), "exactly 1% errors is allowed (the limit is 'above 1%')"),
    (0.5, _step(2000, p95_ms=301.0), "a p95 above 300 ms rolls back (to weight 0)"),
    (0.5, _step(2000, p95_ms=300.0), "a p95 of exactly 300 ms is allowed"),
    (0.05, _step(500, shift=0.25), "a prediction shift above 0.1 rolls back (to weight 0)"),
    (0.25, _step(1000, shift=0.1), "a shift of exactly 0.1 is allowed"),
    (0.05, _step(40, errors=2), "a breached guard rolls back even when the step saw few requests"),
    (1.0, _step(4000, shift=0.3), "a breach at 100% still rolls back, to 0"),
    (0.5, _step(2000, errors=50), "a rollback sends all traffic to the stable version (weight 0)"),
]


def _canary_cases() -> list[compare.Case]:
    cases = []
    for weight, step, why in CANARY_CASES:
        expected = ref_next_weight(weight, step)

        def verify(result, expected=expected, why=why):
            if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, float, np.integer, np.floating)):
                raise Wrong(f"expected the next weight as a number, got {compare.describe(result)}")
            if not math.isclose(float(result), expected, abs_tol=1e-9):
                raise Wrong(f"your function returned {float(result):g}, but {why}")

        shown = ", ".join(f"{k}={v:g}" for k, v in step.items())
        cases.append(compare.Case(f"weight {weight:g} with {shown}", (weight, dict(step)), verify))
    return cases


def _hold_first(weight, step):
    if step["requests"] < 200:
        return weight
    return ref_next_weight(weight, step)


def _inclusive(weight, step):
    requests = step["requests"]
    rate = step["errors"] / requests if requests else 0.0
    if rate >= 0.01 or step["p95_ms"] >= 300 or step["shift"] >= 0.1:
        return 0.0
    return ref_next_weight(weight, step)


def _previous_step(weight, step):
    result = ref_next_weight(weight, step)
    if result == 0.0:
        earlier = [s for s in STEPS if s < weight]
        return earlier[-1] if earlier else 0.0
    return result


@exercise("5.5", "A canary step controller", workbook=WORKBOOK,
          hints=["Order matters: check the guards first, then the number of requests, then promote.",
                 "Each limit is 'above': 1% errors exactly, 300 ms exactly or a shift of exactly "
                 "0.1 are still fine.",
                 "A rollback returns 0.0; a promotion returns the first step of STEPS larger than "
                 "the current weight; at 1.0 there is none, so stay at 1.0. With 0 requests the "
                 "error rate is 0, not a division by zero."],
          reference=lambda: ref_next_weight,
          mistakes=[(lambda: _hold_first, "even when the step saw few requests"),
                    (lambda: _inclusive, "exactly"),
                    (lambda: _previous_step, "weight 0")],
          mutate=ref_next_weight)
def check_canary(answer) -> str:
    compare.function(answer, _canary_cases(), what="your controller")
    return ("That is the decision a canary controller makes after every step; "
            "mlecourse.lender.rollout.strategies.run_canary makes the same one with a sampling margin on the shift.")


# 5.6 ----------------------------------------------------------------------
STRATEGIES = ("canary", "blue-green", "shadow", "ab")

SCENARIOS = {
    "a": ("shadow", {
        "canary": "a canary lets real customers get the new model's decisions; here no customer "
                  "may be affected until the team has seen how it would decide",
        "blue-green": "blue-green switches every customer to the new version at once",
        "ab": "an A/B test gives part of the customers the new model's decisions; here no "
              "customer may be affected yet"}),
    "b": ("blue-green", {
        "canary": "the old and the new service cannot share traffic here (one database schema at "
                  "a time): there is no small share to start with",
        "shadow": "mirroring does not move anyone to the new service; the point here is to switch "
                  "everything at once and be able to switch back",
        "ab": "there is no question about customers to answer, only a safe switch"}),
    "c": ("canary", {
        "blue-green": "switching everyone at once exposes every customer to a bug that a small "
                      "share would have revealed",
        "shadow": "mirroring never measures the new version while it really serves; the team "
                  "wants it serving, with limited exposure",
        "ab": "nobody asked for a business comparison; the question is whether the new version "
              "is healthy"}),
    "d": ("ab", {
        "canary": "a canary checks health, then moves everyone; it is not designed to compare a "
                  "business outcome between two groups with a significance test",
        "blue-green": "blue-green compares nothing: everyone is on one version at a time",
        "shadow": "in a shadow, customers never receive the new offer, so their response to it "
                  "cannot be measured"}),
    "e": ("canary", {
        "blue-green": "blue-green moves all traffic at once; the team wants to find the problem "
                      "on a few percent of requests",
        "shadow": "the candidate's answers must reach the broker's system for its errors to "
                  "show; a shadow never sends them",
        "ab": "the question is operational (errors and latency with real callers), not a "
              "business comparison"}),
}


def ref_strategies() -> dict[str, str]:
    return {k: v[0] for k, v in SCENARIOS.items()}


@exercise("5.6", "Which rollout for which change?", workbook=WORKBOOK,
          hints=["For each scenario ask: may customers see the new version's answers yet? Must "
                 "everyone move at once? Is there a business question to answer with statistics?",
                 "No customer affected: shadow. All at once with a way back: blue-green. A small "
                 "share, then more, watching health: canary. Two groups compared on an outcome: "
                 "A/B test."],
          reference=ref_strategies,
          mistakes=[(lambda: {**ref_strategies(), "a": "canary"}, "no customer"),
                    (lambda: {**ref_strategies(), "d": "shadow"}, "cannot be measured"),
                    (lambda: {**ref_strategies(), "b": "canary"}, "cannot share traffic"),
                    (lambda: {**ref_strategies(), "f": "ab"}, "no scenario")])
def check_strategies(answer) -> str:
    if is_blank(answer):
        raise Unanswered()
    if not isinstance(answer, dict):
        raise Wrong(f"expected a dict of scenario letter -> strategy, got {compare.describe(answer)}")
    if any(is_blank(v) for v in answer.values()):
        raise Unanswered()
    extra = sorted(map(str, set(answer) - set(SCENARIOS)))
    if extra:
        raise Wrong(f"there is no scenario {extra[0]!r}; the scenarios are {', '.join(SCENARIOS)}")
    missing = sorted(set(SCENARIOS) - set(answer))
    if missing:
        raise Wrong(f"scenario {missing[0]!r} has no strategy yet")
    for letter, (correct, explanations) in SCENARIOS.items():
        try:
            compare.choice(answer[letter], correct, {correct: "", **explanations},
                           what=f"the strategy for scenario {letter}")
        except Wrong as err:
            raise Wrong(f"scenario {letter}: {err}") from None
    return "In practice they combine: shadow first, then a canary, with an A/B test on top."
