"""The LLM's routes in the model service: answers from the policies, whole or streamed.

:func:`router` returns a ``fastapi.APIRouter`` that an app factory mounts
beside the other routes; authentication, rate limits, body-size limits and
strict JSON are the app's, applied to every route, so none of that is here.
What is here is what only an LLM route needs:

* one model and a bounded queue: generation runs in a single worker thread
  (llama.cpp's context serves one request at a time), at most ``queue``
  requests wait, and one more is answered at once with 503 and ``Retry-After``;
* a cap on tokens (``max_tokens`` above ``MAX_TOKENS`` is a 422) and a deadline;
* a cache of identical requests: the model is deterministic, so the same
  question with the same settings gets the stored answer, at no cost;
* guardrails before and after the model (:mod:`guardrails`), and every call
  logged, redacted, with its prompt version and tokens (:mod:`monitoring`).

``POST /llm/answer`` sends a checked answer as JSON. ``POST /llm/answer/stream``
sends the tokens as they come (server-sent events), then the output check's
verdict: a streamed answer is seen before it can be checked, so a client
must withdraw it when the verdict says so.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from mlecourse.lender.llm import guardrails, prompts, tasks
from mlecourse.lender.llm.evaluation import REFUSAL, grounded
from mlecourse.lender.llm.runtime import Params
from mlecourse.lender.serving import api, auth

MAX_TOKENS = 128  # a longer answer is not an answer a customer reads
# What one answer costs in the service's rate limit, in predictions: a generation
# keeps one core busy for a second or more, a prediction for milliseconds.
ANSWER_COST = 100
DEFAULT_TOKENS = 60
TIMEOUT_S = 30.0


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=3, max_length=500, description="the customer's question")
    max_tokens: int = Field(DEFAULT_TOKENS, ge=1, le=MAX_TOKENS, description="most tokens the answer may use")


class Reply(BaseModel):
    answer: str
    passage: str = Field(description="id of the policy passage the answer rests on, or 'none'")
    refused: bool
    blocked: str | None = Field(None, description="the guardrail that stopped the request or the answer")
    prompt_version: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool


class _Slots:
    """At most ``capacity`` requests in the building: one generating, the rest queued."""

    def __init__(self, capacity: int):
        self.capacity, self.used, self.lock = capacity, 0, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.used >= self.capacity:
                return False
            self.used += 1
            return True

    def give(self) -> None:
        with self.lock:
            self.used -= 1


def router(model, index, *, prompt: prompts.Prompt | None = None, min_score: float | None = None, queue: int = 4,
           timeout_s: float = TIMEOUT_S, cache_size: int = 256, log=None, metrics: dict | None = None, clock=None,
           prefix: str = "/llm") -> APIRouter:
    """The LLM routes over ``model`` (a :class:`~runtime.LocalModel`) and a retrieval ``index``.

    ``min_score``: a question whose best passage scores under it is declined
    without calling the model (:func:`harness.choose_min_score` picks it).
    """
    prompt = prompt or prompts.get("answer")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")
    slots = _Slots(1 + queue)
    cache: OrderedDict[tuple, dict] = OrderedDict()
    cache_lock = threading.Lock()
    clock = clock or (lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    routes = APIRouter(prefix=prefix, tags=["llm"])

    def count(outcome: str) -> None:
        if metrics:
            metrics["requests"].labels(outcome=outcome).inc()

    def busy() -> JSONResponse:
        count("busy")
        # a generation takes about a second here: come back when the queue has moved
        return JSONResponse({"detail": "the model is busy; retry shortly"}, status_code=503,
                            headers={"Retry-After": str(max(1, queue))})

    def record(question: str, reply: dict, seconds: float) -> None:
        if metrics:
            metrics["tokens"].labels(kind="prompt").inc(reply["prompt_tokens"])
            metrics["tokens"].labels(kind="completion").inc(reply["completion_tokens"])
            if not reply["refused"]:
                metrics["answers"].labels(grounded=str(reply["passage"] != "none").lower()).inc()
        if log is not None:
            from mlecourse.lender.llm.monitoring import log_call
            log_call(log, at=clock(), task="answer", prompt_version=reply["prompt_version"], model=reply["model"],
                     text_in=question, text_out=reply["answer"], prompt_tokens=reply["prompt_tokens"],
                     completion_tokens=reply["completion_tokens"], latency_ms=1000 * seconds,
                     refused=reply["refused"], grounded=None if reply["refused"] else reply["passage"] != "none",
                     blocked=reply["blocked"])

    def blocked_reply(kind: str) -> dict:
        return {"answer": REFUSAL, "passage": "none", "refused": True, "blocked": kind, "prompt_version": prompt.label,
                "model": model.name, "prompt_tokens": 0, "completion_tokens": 0, "cached": False}

    def answer_now(question: str, max_tokens: int) -> dict:
        result = tasks.answer(model, index, question, prompt, k=2, max_tokens=max_tokens, min_score=min_score)
        g = result.generation
        problems = guardrails.check_output(result.text, prompt.system)
        # sent as written only if it declines, or passes the checks and rests on a passage it was given
        ok = result.refused or (not problems and grounded(result.text, result.cited, result.passages))
        return {"answer": result.text if ok else REFUSAL, "passage": result.cited if ok and not result.refused else "none",
                "refused": result.refused or not ok,
                "blocked": None if not problems else "output: " + ", ".join(problems),
                "prompt_version": prompt.label, "model": model.name,
                "prompt_tokens": g.prompt_tokens if g else 0, "completion_tokens": g.completion_tokens if g else 0,
                "cached": False}

    @routes.post("/answer", response_model=Reply, summary="Answer a customer's question from the lender's policies",
              openapi_extra={"x-rate-cost": ANSWER_COST}, responses={503: {"description": "the model is busy; Retry-After says when to try again"},
                         504: {"description": "the answer took longer than the route's deadline"}})
    async def answer(body: Question):
        started = time.perf_counter()
        if kind := guardrails.screen_request(body.question):
            reply = blocked_reply("request: " + kind)
            record(body.question, reply, time.perf_counter() - started)
            count("blocked")
            return reply
        key = (" ".join(body.question.lower().split()), body.max_tokens, prompt.label)
        with cache_lock:
            if key in cache:
                cache.move_to_end(key)
                count("cached")
                return {**cache[key], "cached": True}
        if not slots.take():
            return busy()
        future = pool.submit(answer_now, body.question, body.max_tokens)
        future.add_done_callback(lambda _: slots.give())  # the slot frees when the model does, not at the deadline
        try:
            reply = await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except asyncio.TimeoutError:
            count("timeout")
            return JSONResponse({"detail": f"no answer within {timeout_s:g} s"}, status_code=504)
        with cache_lock:
            cache[key] = reply
            while len(cache) > cache_size:
                cache.popitem(last=False)
        record(body.question, reply, time.perf_counter() - started)
        count("answered")
        return reply

    @routes.post("/answer/stream", summary="The same answer, token by token (server-sent events), then its check",
              openapi_extra={"x-rate-cost": ANSWER_COST}, responses={200: {"content": {"text/event-stream": {}}}, 503: {"description": "the model is busy"}})
    async def stream(body: Question):
        if kind := guardrails.screen_request(body.question):
            count("blocked")
            return JSONResponse(blocked_reply("request: " + kind))
        if not slots.take():
            return busy()
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue = asyncio.Queue()
        hits = index.search(body.question, 2)
        messages = prompt.messages(passages=tasks.format_passages([p for p, _ in hits], delimit=True),
                                   question=body.question)
        deadline = time.monotonic() + timeout_s
        started = time.perf_counter()

        def produce():
            try:
                for piece in model.stream(messages, Params(max_tokens=body.max_tokens), deadline=deadline):
                    loop.call_soon_threadsafe(pieces.put_nowait, piece)
            except Exception as error:  # the client hears of it as an event, not a dropped connection
                loop.call_soon_threadsafe(pieces.put_nowait, error)
            finally:
                slots.give()
                loop.call_soon_threadsafe(pieces.put_nowait, None)

        pool.submit(produce)

        async def events():
            said, first = [], None
            while (item := await pieces.get()) is not None:
                if isinstance(item, Exception):
                    yield f"event: error\ndata: {json.dumps(type(item).__name__)}\n\n"
                    continue
                if first is None:
                    first = time.perf_counter() - started
                    if metrics:
                        metrics["first_token"].observe(first)
                said.append(item)
                yield f"data: {json.dumps(item)}\n\n"
            problems = guardrails.check_output("".join(said), prompt.system)
            count("streamed")
            yield ("event: done\ndata: " + json.dumps({"withdraw": bool(problems), "problems": problems,
                                                       "prompt_version": prompt.label}) + "\n\n")

        return StreamingResponse(events(), media_type="text/event-stream")

    routes.pool = pool  # the app's shutdown closes it: see :func:`app`
    return routes


def app(model, index, *, api_keys=(), rate_limit: float | None = None, **kwargs) -> FastAPI:
    """A small app serving only the LLM routes and ``/health``, behind the service's own guard
    (:func:`mlecourse.lender.serving.api.harden`): for the chapter and the tests. The deployed
    service mounts :func:`router` beside /predict (``service.compose``)."""
    routes = router(model, index, **kwargs)
    service = FastAPI(title="Fernbank Lending: policy answers", docs_url=None, redoc_url=None)
    service.include_router(routes)
    service.add_api_route("/health", lambda: {"status": "ok"}, methods=["GET"])
    limiter = auth.RateLimiter(rate_limit, max(rate_limit, 10 * ANSWER_COST)) if rate_limit else None
    return api.harden(service, api_keys=api_keys, limiter=limiter)


def read_events(lines) -> tuple[list[str], dict, float | None]:
    """A client's side of the stream: the pieces, the final verdict, and when the first piece came."""
    pieces, verdict, first, started, event = [], {}, None, time.perf_counter(), "message"
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            if event == "done":
                verdict = data
            elif event == "message":
                first = first if first is not None else time.perf_counter() - started
                pieces.append(data)
        elif not line:
            event = "message"
    return pieces, verdict, first
