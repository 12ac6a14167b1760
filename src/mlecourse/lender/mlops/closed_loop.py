"""The loop that closes: monitor, trigger, train, gate, promote, redeploy, replay, month by month.

What a lender's system does once a month, in order, as one object (:class:`Loop`):

1. **monitor**, with what is known at the start of the month: the largest
   input drift (PSI) of last month's applications against the serving
   model's own training window, and how many months of outcomes have matured
   since the serving model was last trained or judged;
2. **trigger** (:func:`retraining.should_retrain`): a calendar floor and the
   drift rule; a retraining with no newer matured cohort than the champion's
   is skipped, since the gate would have nothing new to judge on;
3. **train, gate, register, promote**: :func:`pipeline.run` as of the day
   before the month, on the lender's *labelled* history: the legacy book
   (every loan of 2019-2021 was funded, so every outcome is known) and the
   funded loans of the prediction log whose outcome has matured;
4. **deploy**: after every run, the deploy job restarts the service from the
   registry's ``champion`` alias (the same model if nothing was promoted) and
   checks that its ``/version`` names the registry's champion;
5. **replay** the month through the service (:func:`replay.replay_month`):
   validate, score, fund (approvals and the random holdout), log.

The service runs for real (uvicorn on loopback); the registry is MLflow on
SQLite; nothing is simulated but time.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import httpx
import pandas as pd

from mlecourse.lender import features
from mlecourse.lender.data import validation
from mlecourse.lender.mlops import gates, pipeline, registry, retraining, windows
from mlecourse.lender.monitoring import alerting, drift, outcomes, predlog, replay
from mlecourse.lender.serving import api, metrics


class LoopError(RuntimeError):
    """The service did not come back with the champion the registry names."""


@dataclass
class Settings:
    holdout: float = outcomes.HOLDOUT_SHARE  # of the refusals, funded at random
    kind: str = "boosting"
    rules: gates.Rules = field(default_factory=gates.Rules)
    every_months: int = 3  # the calendar floor: a retraining at least this often
    cooldown: int = 3  # months between two runs the drift rule may start
    eval_months: int = windows.EVAL_MONTHS
    train_months: int | None = windows.TRAIN_MONTHS


class Loop:
    """Month by month through ``raw`` (the applications as they arrive), starting from ``legacy``
    (the cleaned loans made before the model, every outcome known), with the registry in
    ``store`` and the prediction log in ``conn``."""

    def __init__(self, raw: pd.DataFrame, legacy: pd.DataFrame, store, conn, *,
                 settings: Settings | None = None):
        self.raw, self.store, self.conn = raw, store, conn
        self.legacy = legacy.assign(propensity=1.0)
        self.settings = settings or Settings()
        self.events: list[dict] = []
        self.reports: list[pipeline.Report] = []
        self.scrapes: list[dict] = []  # each service's /metrics totals, read just before it stops
        self._service: contextlib.ExitStack | None = None
        self.client: httpx.Client | None = None
        self.champion: pipeline.Champion | None = None
        self._months = raw[features.DATE].dt.strftime("%Y-%m")
        self._last_run: str | None = None

    # --- the service -------------------------------------------------------------------

    def _stop_service(self) -> None:
        """Scrape the running service's /metrics one last time, as Prometheus would have, then stop it."""
        if self._service is None:
            return
        self.scrapes.append({"version": self.champion.card["version"],
                             **metrics.read(self.client.get("/metrics").text)})
        self._service.close()
        self._service = None

    def deploy(self) -> str:
        """(Re)start the service from the registry's champion; returns the version it answers with."""
        self._stop_service()
        self._service = contextlib.ExitStack()
        url = self._service.enter_context(api.serve(registry.create_app(registry.CHAMPION)))
        self.client = self._service.enter_context(httpx.Client(base_url=url, timeout=60))
        self.champion = pipeline.current_champion()
        served = self.client.get("/version").json()["version"]
        if served != self.champion.card["version"]:
            raise LoopError(f"the service answers as {served}, the registry's champion is "
                            f"{self.champion.card['version']}")
        self._reference_window()
        return served

    def _reference_window(self) -> None:
        """The serving model's training rows: what its input drift is measured against, and what
        each month's batch is validated against."""
        data = self.champion.card["training_data"]
        history = self.labelled(pd.Timestamp(data["last_date"]) + pd.DateOffset(months=windows.LABEL_DELAY + 1))
        dates = history[features.DATE]
        train = history[(dates >= data["first_date"]) & (dates <= data["last_date"])]
        self.reference = validation.Reference.from_frame(train)
        self.profiles = {name: drift.Profile(train[name], name in features.CATEGORICAL)
                         for name in features.RAW_FEATURES}

    def close(self) -> None:
        self._stop_service()

    # --- what the lender knows -----------------------------------------------------------

    def labelled(self, as_of) -> pd.DataFrame:
        """The loans whose outcome had matured by ``as_of``: the legacy book and the funded loans
        of the log, each with its propensity of being funded."""
        logged = predlog.labelled(self.conn, as_of)
        book = windows.matured(self.legacy, as_of)
        return book if logged.empty else pd.concat([book, logged], ignore_index=True)

    def max_psi(self, month: str) -> float | None:
        """The largest PSI of ``month``'s logged inputs against the serving model's training window."""
        rows = predlog.inputs_frame(self.conn, month)
        if rows.empty:
            return None
        return max(self.profiles[name].compare(rows[name])["psi"] for name in features.RAW_FEATURES)

    def new_months(self, as_of) -> int:
        """Months of outcomes matured by ``as_of`` that are newer than all the champion has seen."""
        seen = pd.Timestamp(self.champion.last_seen).to_period("M")
        legacy = windows.matured(self.legacy, as_of)[features.DATE].dt.to_period("M")
        months = set(legacy[legacy > seen].astype(str)) | {
            m for m in predlog.outcome_months(self.conn, as_of) if pd.Period(m, "M") > seen}
        return len(months)

    # --- one month ---------------------------------------------------------------------

    def start(self, psi_threshold: float) -> pipeline.Report:
        """The first model (the teaching split on the legacy book), registered, promoted, served."""
        self.psi_threshold = psi_threshold
        report = pipeline.run(reason="the first model", store=self.store, kind=self.settings.kind,
                              clean=self.legacy, rules=self.settings.rules)
        self.reports.append(report)
        self.deploy()
        return report

    def month(self, month: str) -> dict:
        """Monitor, maybe retrain and redeploy, then replay ``month``; returns what happened."""
        s = self.settings
        as_of = pd.Period(month, "M").start_time - pd.Timedelta(days=1)
        self._last_run = self._last_run or month  # going live counts as the first run
        since_run = (pd.Period(month, "M") - pd.Period(self._last_run, "M")).n
        psi = self.max_psi(str(pd.Period(month, "M") - 1))
        trigger = retraining.should_retrain(months_since_training=since_run, max_psi=psi,
                                            psi_threshold=self.psi_threshold, cooldown=s.cooldown,
                                            every_months=s.every_months)
        event = {"month": month, "serving": self.champion.version, "max_psi": psi, "new_months": None,
                 "trigger": "; ".join(trigger.reasons), "run": "", "promoted": False}
        if trigger:
            self._last_run = month
            event["new_months"] = new = self.new_months(as_of)
            if new >= s.eval_months:
                event.update(self._retrain(as_of, trigger))
            else:  # the scheduled job ran, and found nothing new to judge on
                event["run"] = f"nothing new: {new} month(s) of new outcomes, {s.eval_months} needed"
        result = replay.replay_month(self.client, self.raw[self._months == month], self.conn, month,
                                     self.reference, holdout=s.holdout)
        event.update(scored=result.scored, rejected=result.rejected)
        self.events.append(event)
        return event

    def _retrain(self, as_of, trigger) -> dict:
        s = self.settings
        try:
            report = pipeline.run(reason=f"monitoring: {trigger.reasons[0]}", store=self.store, kind=s.kind,
                                  clean=self.labelled(as_of), as_of=as_of, rules=s.rules,
                                  train_months=s.train_months, eval_months=s.eval_months)
        except pipeline.NothingNew as quiet:
            return {"run": str(quiet)}
        self.reports.append(report)
        before = self.champion.version
        served = self.deploy()  # what the alias names now: a new champion, or the same one again
        return {"run": f"version {report.version}: {report.decision}", "promoted": self.champion.version != before,
                "deployed": served, "train_last": report.windows["train_last"],
                "evaluated": report.windows["evaluate_first"]}

    def run(self, first: str, last: str) -> pd.DataFrame:
        """Every month from ``first`` to ``last`` (YYYY-MM); the events of those months."""
        done = [self.month(m) for m in replay.months_of(self.raw, first, last)]
        return pd.DataFrame(done).set_index("month")

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.events).set_index("month")


def psi_threshold(legacy: pd.DataFrame, train_end: str, quiet: list[str], budget: int = 0) -> float:
    """The drift rule's threshold, set before going live: the largest PSI (of any feature) in the
    ``quiet`` months after ``train_end``, against the training window."""
    train = legacy[legacy[features.DATE] <= train_end]
    months = legacy[features.DATE].dt.strftime("%Y-%m")
    table = drift.drift_table(train, legacy[months.isin(quiet)], features.RAW_FEATURES,
                              categorical=features.CATEGORICAL)
    return alerting.threshold_for_budget(table.groupby("month")["psi"].max(), budget)
