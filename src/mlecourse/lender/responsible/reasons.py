"""Adverse-action reason codes: why an application was refused, in words the applicant can act on.

A lender that refuses credit must tell the applicant the principal reasons
(in the US, ECOA and Regulation B, 12 CFR 1002.9; the official model forms
list up to four). The reasons must be the ones the model actually used, and
say something the applicant can understand: "your debt payments are high for
your income", not "feature 17".

:func:`reason_codes` takes one applicant's contributions (log-odds per raw
input, from :func:`mlecourse.lender.responsible.explain.replacement_contributions`),
keeps the inputs that pushed towards refusal, strongest first, and words
them. :func:`router` serves them at ``POST /explain`` on the model service,
behind the service's guard and validated by its own application schema.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from mlecourse.lender import features
from mlecourse.lender.business import COSTS
from mlecourse.lender.modeling import openmp
from mlecourse.lender.responsible import explain
from mlecourse.lender.serving import api
from mlecourse.lender.serving.batcher import WorkPool

MAX_REASONS = 4  # Regulation B's sample notices give at most four principal reasons

# One code and one sentence per raw input. Worded as the applicant's
# situation, so that it says what would change the answer.
REASONS = {
    "credit_score": ("R01", "Your credit bureau score is lower than that of most applicants we approve."),
    "previous_defaults": ("R02", "Your credit history shows one or more previous defaults."),
    "monthly_debt": ("R03", "Your existing monthly debt payments are high for your income."),
    "annual_income": ("R04", "Your income is low for the amount and term requested."),
    "loan_amount": ("R05", "The amount requested is high for your income."),
    "interest_rate": ("R06", "The interest rate of the loan makes its repayments high for your income."),
    "loan_term_months": ("R07", "The repayment term requested carries more risk; a different term may change the decision."),
    "employment_years": ("R08", "Your time in your current job is short."),
    "employment_type": ("R09", "Your type of employment is associated with less regular income."),
    "num_credit_lines": ("R10", "Your credit history is short: few credit accounts on file."),
    "loan_purpose": ("R11", "The purpose of the loan carries more risk."),
    "home_ownership": ("R12", "Your housing situation carries more risk."),
    "channel": ("R13", "The channel of the application carries more risk."),
    "region": ("R14", "The region of the application carries more risk."),
    "age": ("R15", "Your age band carries more risk in our scoring model."),
}
# Inputs a refusal should not rest on without a person's review, and why. An
# input the fairness audit shows to carry the group (fairness.proxy_strength:
# it predicts the group with an AUC of PROXY_FLAG_AUC or more on its own), or
# one the law restricts, is flagged on every notice that cites it: the reason
# is still given (a notice must state the reasons the model used), and a
# person reviews the refusal before it goes out. :func:`review_table` states
# the review for each code; a test fails if a measured proxy is not in it.
REVIEW = {
    "interest_rate": "the lender's own legacy price: it charged the minority a premium, and it is the "
                     "input that reveals the group best; a model without it is the less "
                     "discriminatory alternative, which never cites it",
    "credit_score": "the bureau's score is recorded lower for the minority (measurement bias); keep the "
                    "reason, and ask the bureau for its validation by group",
    "region": "a proxy for the group: it summarises the districts where most minority applicants live",
    "age": "Regulation B lets a scoring system use age only if an applicant of 62 or over is never "
           "scored down for it (12 CFR 1002.6(b)(2)); the service makes sure they are not",
    "channel": "follows age (older applicants apply at the branch), so it can stand in for age",
}
PROXY_FLAG_AUC = 0.6


def review_table(proxy_auc: pd.Series | None = None) -> pd.DataFrame:
    """Every reason code, whether a person reviews it before it is given, and why.

    ``proxy_auc``: how well each input predicts the group on its own
    (:func:`mlecourse.lender.responsible.fairness.proxy_strength`), shown
    beside each code. Raises ``ValueError`` if an input at or above
    :data:`PROXY_FLAG_AUC` has no review: a proxy must never be cited unflagged.
    """
    proxy_auc = pd.Series(dtype=float) if proxy_auc is None else proxy_auc
    missing = sorted(unreviewed(proxy_auc))
    if missing:
        raise ValueError(f"{', '.join(missing)} predict(s) the group with an AUC of {PROXY_FLAG_AUC} or "
                         "more but have no review in reasons.REVIEW; add one")
    rows = [{"code": code, "input": name, "proxy_auc": proxy_auc.get(name, np.nan),
             "review": name in REVIEW, "why": REVIEW.get(name, "")}
            for name, (code, _) in REASONS.items()]
    return pd.DataFrame(rows).set_index("code")


def unreviewed(proxy_auc: pd.Series) -> set[str]:
    """Inputs that predict the group at least as well as PROXY_FLAG_AUC and have no review."""
    return {name for name, auc in proxy_auc.items() if auc >= PROXY_FLAG_AUC and name in REASONS
            and name not in REVIEW}


# A typical approved applicant of 2019-2020: the medians and commonest values
# of the raw inputs among the training applicants the course's model approves
# (explain.reference_applicant; a test checks these against it).
TYPICAL_APPROVED = {
    "age": 42.0, "annual_income": 47_400.0, "employment_years": 5.1, "loan_amount": 9_700.0,
    "loan_term_months": 36.0, "interest_rate": 10.7, "monthly_debt": 680.0, "credit_score": 689.0,
    "num_credit_lines": 5.0, "previous_defaults": 0.0, "employment_type": "salaried",
    "home_ownership": "rent", "region": "north", "channel": "online",
    "loan_purpose": "debt_consolidation",
}


def reason_codes(contributions: pd.Series, limit: int = MAX_REASONS) -> list[dict]:
    """The principal reasons of one refusal: inputs with a positive contribution, largest first."""
    unknown = set(contributions.index) - set(REASONS)
    if unknown:
        raise KeyError(f"no reason text for {', '.join(sorted(unknown))}; add it to reasons.REASONS")
    pushing = contributions[contributions > 0].sort_values(ascending=False, kind="stable")
    return [{"code": REASONS[name][0], "input": name, "text": REASONS[name][1],
             "log_odds": round(float(value), 4), "review": name in REVIEW}
            for name, value in pushing.iloc[:limit].items()]


def explain_applications(model, frame: pd.DataFrame, threshold: float = COSTS.threshold,
                         reference: dict | None = None) -> list[dict]:
    """Probability, decision and reasons (empty when approved) for each row of ``frame``."""
    reference = pd.Series(TYPICAL_APPROVED if reference is None else reference, dtype=object)
    X = frame[list(features.RAW_FEATURES)]
    probability = model.predict_proba(X)[:, 1]
    parts = explain.replacement_contributions(model, X, reference)
    out = []
    for p, (_, row) in zip(probability, parts.iterrows()):
        refused = bool(p > threshold)
        out.append({"probability_of_default": float(p), "decision": "refuse" if refused else "approve",
                    "reasons": reason_codes(row) if refused else []})
    return out


class PlainReason(BaseModel):
    """A reason as the applicant reads it; what a service that publishes decisions only gives."""
    code: str = Field(description="stable code of the reason, e.g. R03")
    input: str = Field(description="the application field the reason is about")
    text: str = Field(description="the sentence shown to the applicant")
    review: bool = Field(description="true when the input needs a compliance review before it is given")


class Reason(PlainReason):
    log_odds: float = Field(description="how far this input moved the score towards refusal")


class Explanation(BaseModel):
    model_version: str
    probability_of_default: float
    decision: str
    reasons: list[Reason] = Field(description="principal reasons of a refusal, at most four; empty if approved")


class PlainExplanation(BaseModel):
    """An explanation without numbers: what a service that publishes decisions only gives."""
    model_version: str
    decision: str
    reasons: list[PlainReason] = Field(description="principal reasons of a refusal, strongest first, at most "
                                                   "four; empty if approved")


# One explanation replaces each of the 15 inputs in turn: some twenty model
# calls. The rate limiter charges it as twenty predictions.
EXPLAIN_COST = 20


def router(model, metadata: dict, *, probability_decimals: int | None = 4, decisions_only: bool = False,
           workers: int = 1, max_waiting: int = 4) -> APIRouter:
    """``POST /explain`` (one application in, an :class:`Explanation` out), for the model service.

    Hand it to ``api.create_app(..., routers=[...])``: the service's guard
    (key, limits, strict JSON, rate) covers it like every route, and its
    body is validated by the service's own application schema, so /explain
    accepts exactly what /predict accepts. The probability is rounded as
    /predict rounds it (a precise score helps a model thief, not the
    applicant); with ``decisions_only`` the answer carries no number at all
    (:class:`PlainExplanation`). The work runs in a bounded pool of ``workers`` threads, with
    ``max_waiting`` more queued: past that, 503 with ``Retry-After``, so a
    storm of explanations never starves /health or /predict.
    """
    threshold = float((metadata or {}).get("threshold", COSTS.threshold))
    version = str((metadata or {}).get("version", "unknown"))
    application = api.application_model((metadata or {}).get("features"))
    pool = WorkPool(workers=workers, max_waiting=max_waiting, name="explain")
    limit = openmp.thread_limit(1)

    def explain_one(values: dict, columns) -> dict:
        with limit():  # in the worker thread, as the service's own model calls
            frame = api.applications_frame([values], columns)
            result = explain_applications(model, frame, threshold)[0]
        if decisions_only:
            return PlainExplanation(model_version=version, decision=result["decision"],
                                    reasons=result["reasons"]).model_dump()
        if probability_decimals is not None:
            result["probability_of_default"] = round(result["probability_of_default"], probability_decimals)
        return Explanation(model_version=version, **result).model_dump()

    routes = APIRouter()

    @routes.post("/explain", response_model=PlainExplanation if decisions_only else Explanation,
                 responses=api.shed_response(),
                 summary="Why this application is refused: up to four principal reasons",
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": application.model_json_schema()}}}, "x-rate-cost": EXPLAIN_COST})
    async def explain(request: Request) -> Response:
        items = await api.applications(request, batch=False)
        if isinstance(items, Response):
            return items
        body = await pool.run(explain_one, items[0].model_dump(), request.app.state.columns)
        return JSONResponse(body)

    routes.pool = pool  # for tests and the chapter: how busy it is
    return routes
