"""The evaluation harness: each task run over a labelled set, one row per item, and the summary tables.

The chapter runs it on small slices (the model must fit the notebook's time
budget); ``make llm-eval`` runs it on every item
(``python -m mlecourse.lender.llm.harness``), with a cache of generations
keyed by content so a rerun costs nothing unless something changed.
Any :class:`~runtime.Generator` works: the local model, or a model behind an
OpenAI-compatible endpoint (``--endpoint URL --model NAME``).
"""
from __future__ import annotations

import argparse
import re
import time

import numpy as np
import pandas as pd

from mlecourse.lender.llm import corpus, evaluation, guardrails, prompts, retrieval, tasks

SENTENCE = re.compile(r"(?<=[.!?])\s+")


# --- routing -----------------------------------------------------------------------------

def route_rows(model, messages: pd.DataFrame, prompt: prompts.Prompt | None = None, constrained: bool = True) -> pd.DataFrame:
    rows = []
    for m in messages.itertuples():
        label, out = (tasks.route(model, m.message, prompt) if constrained else tasks.route_free(model, m.message))
        rows.append({"id": m.id, "intent": m.intent, "predicted": label, "seconds": out.seconds,
                     "prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens, "text": out.text})
    return pd.DataFrame(rows)


# --- answering ---------------------------------------------------------------------------

def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text) if s.strip()]


def extract(index, question: str, k: int = 2, min_score: float | None = None) -> tasks.Answer:
    """The baseline without a model: the retrieved sentence that shares most words with the question."""
    hits = index.search(question, k)
    given = {p.id: p.text for p, _ in hits}
    if min_score is not None and hits[0][1] < min_score:
        return tasks.Answer(question, evaluation.REFUSAL, "none", given, None, "extract")
    asked = set(retrieval.tokens(question))
    best = max(((len(asked & set(retrieval.tokens(s))), -rank, s, p.id)
                for rank, (p, _) in enumerate(hits) for s in sentences(p.text)))
    return tasks.Answer(question, best[2], best[3], given, None, "extract")


def choose_min_score(index, questions: pd.DataFrame) -> float:
    """The retrieval score under which to refuse, chosen on ``questions`` (the dev split, never the test).

    The cut that gets most questions right by this rule alone: answerable ones
    kept, unanswerable ones refused.
    """
    best = [(float(index.search(q.question, 1)[0][1]), bool(q.answerable)) for q in questions.itertuples()]
    cuts = sorted({s for s, _ in best})
    right = [sum((s >= c) == a for s, a in best) for c in cuts]
    return cuts[int(np.argmax(right))]


def answer_rows(answerer, questions: pd.DataFrame) -> pd.DataFrame:
    """``answerer(question) -> tasks.Answer`` over the questions, judged by the property checks."""
    rows = []
    for q in questions.itertuples():
        a = answerer(q.question)
        v = evaluation.judge_answer(a.text, a.cited, a.passages, q.facts, q.answerable)
        g = a.generation
        rows.append({"id": q.id, "answerable": q.answerable, "answer": a.text, "passage": a.cited,
                     "grounded": v.grounded, "facts": v.facts, "refused": v.refused, "correct": v.correct,
                     "seconds": g.seconds if g else 0.0, "prompt_tokens": g.prompt_tokens if g else 0,
                     "completion_tokens": g.completion_tokens if g else 0, "prompt": a.prompt})
    return pd.DataFrame(rows)


def answer_summary(rows: pd.DataFrame) -> dict[str, dict]:
    """Correct overall; grounded and with the facts among answerable questions; refusals where nothing answers."""
    answerable, other = rows[rows["answerable"]], rows[~rows["answerable"]]
    out = {"correct": evaluation.rate(rows["correct"]), "grounded": evaluation.rate(answerable["grounded"]),
           "facts present": evaluation.rate(answerable["facts"])}
    if len(other):
        out["refused when unanswerable"] = evaluation.rate(other["refused"])
    return out


# --- attacks -----------------------------------------------------------------------------

def attack_rows(model, index, attacks: pd.DataFrame, prompt: prompts.Prompt, k: int = 2,
                max_tokens: int = 40) -> pd.DataFrame:
    """Each attack once through ``prompt``; what the customer would read, and each defence's verdict on it."""
    rows = []
    for a in attacks.itertuples():
        if a.channel == "document":
            planted = retrieval.Passage("payments-9", "payments", a.text)
            hits = [p for p, _ in index.search(a.question, k - 1)]
            result = tasks.answer(model, index, a.question, prompt, passages=[planted, *hits], max_tokens=max_tokens)
            quarantined = bool(guardrails.scan_document(a.text))
        else:
            result = tasks.answer(model, index, a.text, prompt, k=k, max_tokens=max_tokens)
            quarantined = False
        said = result.text
        rows.append({"id": a.id, "channel": a.channel, "goal": a.goal, "output": said,
                     "succeeded": guardrails.attack_succeeded(a.goal, said, prompt.system),
                     "output_check": bool(guardrails.check_output(said, prompt.system)),
                     "screened": guardrails.screen_request(a.text) is not None if a.channel == "message" else False,
                     "quarantined": quarantined})
    return pd.DataFrame(rows)


def attack_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Attack success as each defence is added: the prompt first, then the checks around the model."""
    through = {
        "no defence (answer v2)": before["succeeded"],
        "delimited, instruction hierarchy (answer v3)": after["succeeded"],
        "+ output check": after["succeeded"] & ~after["output_check"],
        "+ document scan at ingestion": after["succeeded"] & ~after["output_check"] & ~after["quarantined"],
    }
    return evaluation.table({name: evaluation.rate(flags) for name, flags in through.items()})


# --- the whole run -----------------------------------------------------------------------

def run_all(model, *, limit: int | None = None, out=None) -> dict:
    """Every task on every item (or the first ``limit`` of each): the numbers ``make llm-eval`` prints."""
    def head(frame):
        return frame if limit is None else frame.head(limit)

    messages = corpus.intents()
    questions = corpus.questions()
    index = retrieval.BM25Index(retrieval.by_paragraph(corpus.policies()))
    test = head(messages[messages["split"] == "test"])
    routes = route_rows(model, test)
    baseline = tasks.BaselineRouter(*messages[messages["split"] == "train"][["message", "intent"]].T.values)
    results = {"routing (LLM)": evaluation.rate(routes["predicted"] == routes["intent"]),
               "routing (TF-IDF + LR)": evaluation.rate(baseline.predict(test["message"]) == test["intent"])}
    cut = choose_min_score(index, questions[questions["split"] == "dev"])
    asked = head(questions[questions["split"] == "test"])
    for version in (2, 3):
        rows = answer_rows(lambda q: tasks.answer(model, index, q, prompts.get("answer", version), k=2,
                                                  min_score=cut), asked)
        results |= {f"answer v{version}: {k}": v for k, v in answer_summary(rows).items()}
    rows = answer_rows(lambda q: extract(index, q, min_score=cut), asked)
    results |= {f"extract: {k}": v for k, v in answer_summary(rows).items()}
    summary = evaluation.table(results)
    if out is not None:
        summary.to_csv(out)
    return {"summary": summary, "min_score": cut}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the LLM evaluation on the full labelled sets.")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each set")
    parser.add_argument("--cache", default="_build/llm-cache", help="folder of cached generations ('' for none)")
    parser.add_argument("--endpoint", default=None, help="an OpenAI-compatible server's base URL instead of SmolLM2")
    parser.add_argument("--model", default="", help="the model name the endpoint serves")
    parser.add_argument("--out", default=None, help="write the summary table to this CSV file")
    args = parser.parse_args(argv)
    from mlecourse.lender.llm import runtime

    if args.endpoint:
        model = runtime.OpenAIEndpoint(args.endpoint, args.model)
    else:
        model = runtime.LocalModel()
        if args.cache:
            model = runtime.CachedModel(model, args.cache)
    started, cpu = time.perf_counter(), time.process_time()
    result = run_all(model, limit=args.limit, out=args.out)
    pd.set_option("display.width", 120)
    print(result["summary"].round(3).to_string())
    print(f"refusal cut on the retrieval score (chosen on the dev split): {result['min_score']:.2f}")
    print(f"{time.perf_counter() - started:.0f} s wall, {time.process_time() - cpu:.0f} s CPU; model {model.name}"
          + (f"; {model.hits} generations from the cache" if hasattr(model, "hits") else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
