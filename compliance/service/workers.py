"""Reviews in worker processes, for the HTTP service: a crash costs one request, never the service.

The rule engine (durable_rules, a C extension) can take down the process it runs in. So the
service never reviews in its own process: each review is a :class:`ReviewJob` sent over a pipe
to one of a few worker processes, started with ``spawn`` (a clean interpreter, not a fork of the
threaded server). Each worker loads the rules and compiles the engine once, then reviews jobs one
at a time, keeping the compiled reviewers for the selections it has seen.

If a worker dies while it holds a job (a crash, the OOM killer, a ``kill -9``), the pipe breaks:
that job fails with :class:`WorkerCrashed` (the service answers 503 and approves nothing), and a
new worker is started in the background to take its place. A job that runs past the timeout gets
its worker killed and replaced, and fails with :class:`JobTimeout`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import queue
import signal
import tempfile
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal

from compliance.errors import ComplianceError, EngineError, InputError, UsageError
from compliance.exitcodes import ExitCode
from compliance.gate import settings
from compliance.gate.config import resolve_config
from compliance.intake.proposals import read_source, read_text_upload
from compliance.review.decision import exit_code, worst
from compliance.review.reviewer import Reviewer
from compliance.rules import tuning
from compliance.rules.load import load_rules
from compliance.service.decision_log import proposals_text

log = logging.getLogger("compliance.service.workers")

REVIEWERS_KEPT = 8
"""Compiled reviewers a worker keeps, one per selection and thresholds asked for (LRU)."""


@dataclass(frozen=True)
class ServiceConfig:
    """What every worker loads: the project config and extra rule directories."""

    config_path: Path | None = None
    no_config: bool = False
    rule_dirs: tuple[Path, ...] = ()
    engine: Literal["durable", "reference"] = "durable"
    max_proposals: int = 1000
    keep_proposals: bool = False
    """Send back the reviewed proposals, for the decision log to keep (personal data)."""


@dataclass(frozen=True)
class ReviewJob:
    body: bytes
    kind: Literal["json", "workbook"]
    name: str
    """How the input is named in messages and locations (``request.json`` or the upload's name)."""
    fail_on: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    as_of: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())
    """The judgment day: the day (UTC) the request came in, whenever a worker takes it."""


@dataclass(frozen=True)
class JobResult:
    """A finished job: a report, or the user-facing problems and their exit code."""

    report_json: str | None = None
    decision: str | None = None
    exit_code: int = int(ExitCode.INTERNAL_ERROR)
    proposals: list[dict[str, str]] = field(default_factory=list)
    kept_proposals: str | None = None
    """The proposals as validated JSON, when the service keeps them."""
    problems: list[str] = field(default_factory=list)
    usage: bool = False
    """The problems are with the request's options (as a UsageError), not its input."""


class WorkerCrashed(EngineError):
    """The worker reviewing the job died; nothing was judged."""


class JobTimeout(EngineError):
    """The job ran past its time; its worker was stopped."""


class NoWorker(EngineError):
    """No worker became free in time."""


# --------------------------------------------------------------------------- in the worker


class _Reviews:
    """The worker's side: rules loaded once, reviewers compiled once per selection."""

    def __init__(self, config: ServiceConfig) -> None:

        self.config = config
        self.project = resolve_config(config.config_path, use=not config.no_config)
        dirs = [*self.project.rule_dirs, *config.rule_dirs]
        self.loaded = load_rules(dirs, builtin=self.project.builtin)
        self._reviewers: OrderedDict[tuple[tuple[str, ...], ...], Reviewer] = OrderedDict()
        self._day = ReviewJob(b"", "json", "").as_of
        self.home = Path.cwd()
        self._reviewer((), (), (), (), self._day)  # compile the default selection now

    def _reviewer(
        self,
        domains: tuple[str, ...],
        rules: tuple[str, ...],
        skip: tuple[str, ...],
        fail_on: tuple[str, ...],
        day: dt.date,
    ) -> Any:
        # Reviewers are made for one judgment day: the rules in force and waiver expiry are
        # judged on it. The first review of another day makes its reviewers again (once per
        # selection: about 0.1 s each), so a service running across midnight starts and stops
        # applying the rules whose dates cross it.
        if day > self._day:
            for old in self._reviewers.values():
                old.close()
            self._reviewers.clear()
            self._day = day
        key = (domains, rules, skip, fail_on, (day.isoformat(),))
        found = self._reviewers.get(key)
        if found is not None:
            self._reviewers.move_to_end(key)
            return found
        ruleset = tuning.apply(self.loaded, self.project.selection(domains, rules, skip))
        run = settings.resolve(self.project, self.loaded, ruleset, fail_on=fail_on, as_of=day)
        ruleset = tuning.in_force(ruleset, day)
        reviewer = Reviewer(
            ruleset, engine=self.config.engine, threshold=run.thresholds.value, waivers=run.waivers
        )
        self._reviewers[key] = reviewer
        while len(self._reviewers) > REVIEWERS_KEPT:
            _, old = self._reviewers.popitem(last=False)
            old.close()
        return reviewer

    def run(self, job: ReviewJob) -> JobResult:

        reviewer = self._reviewer(job.domains, job.rules, job.skip, job.fail_on, job.as_of)
        if job.kind == "json":
            items = read_text_upload(job.body, job.name)
        else:
            # The workbook reader names the file in every message and location: read it from a
            # private directory under the upload's own name, so that is what users see.
            with tempfile.TemporaryDirectory(prefix="compliance-upload-") as directory:
                os.chdir(directory)
                try:
                    Path(job.name).write_bytes(job.body)
                    items = read_source(job.name)
                finally:
                    os.chdir(self.home)
        if len(items) > self.config.max_proposals:
            raise InputError(
                f"{job.name}: {len(items)} proposals; this service reviews at most "
                f"{self.config.max_proposals} per request"
            )
        reviews = [reviewer.review(i.proposal, i.source_map) for i in items]
        report = reviewer.report(reviews)
        code = exit_code(r.decision for r in reviews)
        overall = worst(r.decision for r in reviews)
        return JobResult(
            report_json=report.model_dump_json(),
            decision=overall.value,
            exit_code=int(code),
            proposals=[{"id": r.proposal_id, "decision": r.decision.value} for r in reviews],
            kept_proposals=(
                proposals_text([i.proposal for i in items]) if self.config.keep_proposals else None
            ),
        )


def _worker_main(conn: Connection, config: ServiceConfig) -> None:
    """A worker's life: load, say ready (or why not), then answer jobs until the pipe closes."""
    # Ctrl-C, or a SIGTERM to the process group (docker stop, systemd), stops the service, which
    # lets the reviews in flight finish and then stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        reviews = _Reviews(config)
    except ComplianceError as exc:
        conn.send(("failed", exc.problems, int(exc.exit_code)))
        return
    except Exception as exc:  # the service reports it and does not start
        conn.send(("failed", [f"{type(exc).__name__}: {exc}"], int(ExitCode.INTERNAL_ERROR)))
        return
    conn.send(("ready", os.getpid(), 0))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = reviews.run(job)
        except ComplianceError as exc:
            result = JobResult(
                problems=exc.problems,
                exit_code=int(exc.exit_code),
                usage=isinstance(exc, UsageError),
            )
        except Exception as exc:
            detail = traceback.format_exc(limit=5)
            log.error("review failed: %s", detail)
            result = JobResult(  # the detail is in the service's log, not in the answer
                problems=[f"internal error ({type(exc).__name__}); nothing was judged"],
                exit_code=int(ExitCode.INTERNAL_ERROR),
            )
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


# --------------------------------------------------------------------------- in the service


def _stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP, a debugger); False where /proc cannot tell."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return False
    try:
        stat = os.read(fd, 4096)
    except OSError:
        return False
    finally:
        os.close(fd)
    return stat.rpartition(b")")[2].split()[:1] in ([b"T"], [b"t"])


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection, pid: int) -> None:
        self.process = process
        self.conn = conn
        self.pid = pid

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class _Watchdog:
    """One thread that kills workers whose job ran past its deadline (cheaper than a timer
    thread per request). :meth:`arm` returns an event that is set if it fired."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._due: dict[int, tuple[float, _Worker, threading.Event]] = {}
        self._next = 0
        self._wakes_at = 0.0
        """When the watching thread wakes next (it is asleep until then)."""
        self._thread = threading.Thread(target=self._watch, name="compliance-watchdog", daemon=True)
        self._thread.start()

    def arm(self, worker: _Worker, timeout: float) -> tuple[int, threading.Event]:
        fired = threading.Event()
        deadline = time.monotonic() + timeout
        with self._lock:
            self._next += 1
            self._due[self._next] = (deadline, worker, fired)
            if deadline < self._wakes_at:  # else it wakes in time anyway: no thread switch
                self._lock.notify()
            return self._next, fired

    def disarm(self, ticket: int) -> None:
        with self._lock:
            self._due.pop(ticket, None)

    def _watch(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for ticket, (deadline, worker, fired) in list(self._due.items()):
                    if deadline <= now:
                        del self._due[ticket]
                        fired.set()
                        with contextlib.suppress(Exception):
                            worker.process.kill()
                soonest = min((d for d, _, _ in self._due.values()), default=now + 3600)
                self._wakes_at = max(now + 0.01, soonest)
                self._lock.wait(timeout=self._wakes_at - now)
                self._wakes_at = 0.0  # awake: arm() need not notify until it sleeps again


class WorkerPool:
    """``size`` worker processes; :meth:`run` sends a job to a free one and waits for the result.

    Thread-safe: the service calls :meth:`run` from its thread pool. A worker that dies or times
    out is replaced in the background while the other workers go on serving.
    """

    def __init__(
        self, config: ServiceConfig, size: int = 2, *, start_timeout: float = 120.0
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.config = config
        self.size = size
        self.start_timeout = start_timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: dict[int, _Worker] = {}
        self._closed = False
        self._watchdog = _Watchdog()
        self.replaced = 0
        """How many workers were replaced after a crash or a timeout."""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start every worker and wait until each has loaded the rules; a worker that cannot
        (an invalid config or rule file) fails the start with its problems."""
        for _ in range(self.size):
            self._add(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(child, self.config), daemon=True, name="compliance-worker"
        )
        process.start()
        child.close()
        if not parent.poll(self.start_timeout):
            process.kill()
            raise EngineError(f"a review worker did not start within {self.start_timeout:.0f} s")
        try:
            status, detail, code = parent.recv()
        except (EOFError, OSError):
            process.join(timeout=5)
            raise EngineError(
                f"a review worker died while starting (exit code {process.exitcode})"
            ) from None
        if status != "ready":
            process.join(timeout=5)
            error = ComplianceError(detail)
            error.exit_code = ExitCode(code)
            raise error
        return _Worker(process, parent, int(detail))

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                worker.stop()
                return
            self._workers[worker.pid] = worker
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Stop ``worker`` and start another in the background."""
        worker.stop()
        with self._lock:
            self._workers.pop(worker.pid, None)
            self.replaced += 1
            if self._closed:
                return

        def respawn() -> None:
            delay = 0.5
            while not self._closed:
                try:
                    self._add(self._spawn())
                    return
                except Exception as exc:  # keep trying: the service must get its worker back
                    log.error("could not start a review worker: %s", exc)
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)

        threading.Thread(target=respawn, name="compliance-respawn", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()

    # ---------------------------------------------------------------- use

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(self._workers)

    def alive(self) -> int:
        """Workers that are running (not dead, and not stopped by a signal)."""
        with self._lock:
            return sum(w.process.is_alive() and not _stopped(w.pid) for w in self._workers.values())

    def run(self, job: ReviewJob, timeout: float, wait: float | None = None) -> JobResult:
        """The result of ``job``. Raises :class:`NoWorker` when no worker is free within
        ``wait`` (default: ``timeout``), :class:`JobTimeout` when the review runs past
        ``timeout``, and :class:`WorkerCrashed` when the worker dies; in every case nothing was
        judged."""
        wait = timeout if wait is None else wait
        give_up = time.monotonic() + wait
        while True:  # a worker that died while idle is replaced, and the job waits for another
            try:
                worker = self._idle.get(timeout=max(0.0, give_up - time.monotonic()))
            except queue.Empty:
                raise NoWorker(f"no review worker was free within {wait:.0f} s") from None
            if worker.process.is_alive() and not _stopped(worker.pid):
                break
            self._replace(worker)  # dead, or stopped by a signal: it would never answer
        # The deadline holds for the whole exchange, sending the job and reading the result
        # included: a worker stopped (SIGSTOP) or wedged half-way through a pipe write would
        # otherwise hold the request forever. At the deadline the worker is killed, which
        # breaks the pipe under whichever call is blocked.
        ticket, expired = self._watchdog.arm(worker, timeout)
        try:
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                expired.set()
                raise EOFError
            result = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._watchdog.disarm(ticket)
            code = worker.process.exitcode
            self._replace(worker)
            if expired.is_set():
                raise JobTimeout(
                    f"the review took longer than {timeout:.0f} s and was stopped; nothing was "
                    "judged"
                ) from None
            raise WorkerCrashed(
                "the review worker stopped during the review"
                + (f" (exit code {code})" if code is not None else "")
                + "; nothing was judged"
            ) from None
        self._watchdog.disarm(ticket)
        if expired.is_set():  # the result came in as the deadline passed: it is not used
            self._replace(worker)
            raise JobTimeout(
                f"the review took longer than {timeout:.0f} s and was stopped; nothing was judged"
            )
        self._idle.put(worker)
        if not isinstance(result, JobResult):
            raise EngineError("a review worker answered with something that is not a result")
        return result


def started(config: ServiceConfig, size: int) -> WorkerPool:
    pool = WorkerPool(config, size)
    try:
        pool.start()
    except BaseException:
        pool.close()
        raise
    return pool
