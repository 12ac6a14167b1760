"""Three jobs a lender gives an LLM, each beside the baseline it must beat.

* :func:`route`: which team should answer a customer's message, the model's
  output held to a JSON schema; the baseline is TF-IDF and logistic regression.
* :func:`answer`: a question answered from retrieved policy passages, with
  the passage cited; the baseline is to show the best passage itself.
* :func:`letter`: the middle paragraph of a refusal letter from the reason
  codes of chapter 8, checked by :mod:`letters` before anyone sees it.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import numpy as np

from mlecourse.lender.llm import prompts
from mlecourse.lender.llm.evaluation import REFUSAL, is_refusal
from mlecourse.lender.llm.runtime import Generation, Params

ROUTE_SCHEMA = {"type": "object", "properties": {"intent": {"type": "string", "enum": list(prompts.INTENTS)}},
                "required": ["intent"]}


def route(model, message: str, prompt: prompts.Prompt | None = None) -> tuple[str, Generation]:
    """The team for ``message``; the schema makes any other answer impossible to generate."""
    prompt = prompt or prompts.get("route")
    values = {"message": message}
    if "intents" in prompt.fields:
        values["intents"] = ", ".join(prompts.INTENTS)
    out = model.chat(prompt.messages(**values), Params(max_tokens=24), schema=ROUTE_SCHEMA)
    try:
        intent = json.loads(out.text)["intent"]
    except (ValueError, KeyError, TypeError):
        intent = "unparsed"  # only a model without the grammar (an endpoint that ignores it) gets here
    return intent, out


def route_free(model, message: str) -> tuple[str, Generation]:
    """The same question without the schema: what the model says when nothing holds it."""
    prompt = prompts.get("route", 1)
    out = model.chat(prompt.messages(message=message, intents=", ".join(prompts.INTENTS)), Params(max_tokens=24))
    words = out.text.lower().replace("`", " ").replace('"', " ").split()
    found = [i for i in prompts.INTENTS if i in words or i in out.text.lower()]
    return (found[0] if len(found) == 1 else "unparsed"), out


class BaselineRouter:
    """TF-IDF on words and word pairs, then logistic regression: trained in milliseconds."""

    def __init__(self, messages, intents, seed: int = 0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                                      LogisticRegression(C=10, max_iter=2000, random_state=seed))
        self.pipeline.fit(list(messages), list(intents))

    def predict(self, messages) -> np.ndarray:
        return self.pipeline.predict(list(messages))

    def timed(self, messages) -> tuple[np.ndarray, float]:
        """Predictions and the seconds per message, one message at a time as a service sees them."""
        started = time.perf_counter()
        labels = np.array([self.pipeline.predict([m])[0] for m in messages])
        return labels, (time.perf_counter() - started) / max(len(messages), 1)


# --- answering from the policies ---------------------------------------------------------

ANSWER_CHARS = 120  # one sentence; the letter and policy routes need no more


def answer_schema(ids: list[str]) -> dict:
    """The answer, then the id of the passage it rests on: one of those given, or "none".

    The answer comes first: a model writes the id after the words it chose, not before.
    The answer's length is held by the grammar too: a small model left free rambles
    until ``max_tokens`` cuts the JSON in half.
    """
    return {"type": "object",
            "properties": {"answer": {"type": "string", "maxLength": ANSWER_CHARS},
                           "passage": {"type": "string", "enum": [*ids, "none"]}},
            "required": ["answer", "passage"]}


def format_passages(passages, delimit: bool) -> str:
    if delimit:
        return "\n".join(f'<passage id="{p.id}">{p.text}</passage>' for p in passages)
    return "\n".join(f"[{p.id}] {p.text}" for p in passages)


@dataclass
class Answer:
    question: str
    text: str
    cited: str
    passages: dict[str, str]
    generation: Generation | None
    prompt: str

    @property
    def refused(self) -> bool:
        return is_refusal(self.text)


def answer(model, index, question: str, prompt: prompts.Prompt | None = None, k: int = 3,
           max_tokens: int = 48, min_score: float | None = None, passages=None) -> Answer:
    """Retrieve ``k`` passages, then ask the model for an answer citing one of them.

    ``min_score``: refuse without calling the model when the best passage's
    score is below it (nothing in the documents is close to the question).
    ``passages`` replaces retrieval (to test what a planted document does).
    """
    prompt = prompt or prompts.get("answer")
    hits = index.search(question, k) if passages is None else [(p, np.inf) for p in passages]
    given = {p.id: p.text for p, _ in hits}
    if min_score is not None and hits and hits[0][1] < min_score:
        return Answer(question, REFUSAL, "none", given, None, prompt.label)
    text = prompt.messages(passages=format_passages([p for p, _ in hits], delimit="<question>" in prompt.user),
                           question=question)
    out = model.chat(text, Params(max_tokens=max_tokens), schema=answer_schema(list(given)))
    try:
        parsed = json.loads(out.text)
        cited, said = str(parsed.get("passage", "none")), str(parsed.get("answer", ""))
    except ValueError:  # cut off by max_tokens: the grammar guarantees a valid prefix, so the answer starts it
        found = re.match(r'\s*\{\s*"answer"\s*:\s*"((?:[^"\\]|\\.)*)', out.text)
        cited, said = "none", (found.group(1) if found else out.text)
    return Answer(question, said, cited, given, out, prompt.label)


def best_passage(index, question: str) -> str:
    """The baseline: no model, the top passage shown as it is (what a search box does)."""
    return index.search(question, 1)[0][0].id


# --- refusal letters ---------------------------------------------------------------------

def letter(model, reasons: list[dict], prompt: prompts.Prompt | None = None, max_tokens: int = 90) -> Generation:
    """The model's draft of a refusal letter's middle paragraph, from chapter 8's reason codes.

    Only the reasons' texts reach the prompt: nothing about the applicant, so
    nothing about a protected attribute can reach the letter through it.
    """
    prompt = prompt or prompts.get("letter")
    lines = "\n".join(f"- {r['text']}" for r in reasons)
    return model.chat(prompt.messages(reasons=lines), Params(max_tokens=max_tokens))


# --- a judge -----------------------------------------------------------------------------

JUDGE_SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
                "required": ["verdict"]}


def judge(model, question: str, answer_text: str, passage: str, prompt: prompts.Prompt | None = None) -> bool:
    """The model's yes or no: is this answer correct and supported by the passage?"""
    prompt = prompt or prompts.get("judge")
    out = model.chat(prompt.messages(passage=passage or "(none)", question=question, answer=answer_text),
                     Params(max_tokens=16), schema=JUDGE_SCHEMA)
    return json.loads(out.text)["verdict"] == "yes"
