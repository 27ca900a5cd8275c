"""Load test of the HTTP service on loopback: reviews beside a trivial endpoint of the same server.

    .venv/bin/python -m benchmarks.bench_service              # 3 rounds of 1,000 each, 16 clients
    .venv/bin/python -m benchmarks.bench_service --requests 200 --rounds 1     # a smoke run
    .venv/bin/python -m benchmarks.bench_service --decision-log postgresql://...

Starts ``compliance serve`` as a real process on a free loopback port (with a fresh decision
log), then runs ``--rounds`` rounds, each from ``--clients`` concurrent client threads each
holding one keep-alive connection:

1. ``--requests`` GET /healthz (the trivial endpoint: the HTTP stack alone), then
2. ``--requests`` POST /v1/reviews, cycling through the bundled fixtures (one proposal each).

Rounds alternate the two, so both see the same machine (it may be shared). It reports
throughput and p50/p90/p99/max latency for both over all rounds, each round's p99 and the
ratio of the review p99 to the /healthz p99 by round (its median and range: the spread), then
checks the decision log: it
must hold exactly one record per successful review, each with the id the response gave. Exits 1
if any review failed or the log does not match. The client runs in this process (threads and
http.client), so client overhead is included in the latencies and shared by both endpoints.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from compliance import __version__
from compliance.service.decision_log import open_log

from .synth import FIXTURES

TOKEN = "bench-" + "t" * 32


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    seconds: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, log: str, workers: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, COMPLIANCE_API_TOKENS=f"bench={TOKEN}")
    process = subprocess.Popen(
        [sys.executable, "-m", "compliance", "serve", "--port", str(port), "--no-config",
         "--workers", str(workers), "--decision-log", log],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not get ready")


def load(
    port: int, method: str, path: str, bodies: list[bytes], requests: int, clients: int
) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            body = bodies[n % len(bodies)] if bodies else None
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                record = response.getheader("X-Compliance-Decision-Id")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status, record = 0, None
            elapsed = time.perf_counter() - t0
            with lock:
                outcome.latencies.append(elapsed)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if status == 200 and record:
                    outcome.ids.append(record)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome.seconds = time.perf_counter() - t0
    return outcome


def merged(outcomes: list[Outcome]) -> Outcome:
    whole = Outcome()
    for o in outcomes:
        whole.latencies += o.latencies
        whole.ids += o.ids
        whole.seconds += o.seconds
        for status, n in o.statuses.items():
            whole.statuses[status] = whole.statuses.get(status, 0) + n
    return whole


def percentile(ms: list[float], p: float) -> float:
    """The ``p``-th percentile of sorted ``ms`` (nearest rank)."""
    return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))]


def p99(o: Outcome) -> float:
    return percentile(sorted(x * 1000 for x in o.latencies), 99)


def summary(name: str, o: Outcome) -> str:
    ms = sorted(x * 1000 for x in o.latencies)

    def pct(p: float) -> float:
        return percentile(ms, p)

    return (
        f"| {name} | {len(ms):,} | {dict(sorted(o.statuses.items()))} | {len(ms) / o.seconds:,.0f} "
        f"| {statistics.median(ms):.1f} | {pct(90):.1f} | {pct(99):.1f} | {ms[-1]:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--decision-log", help="a postgresql:// URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    bodies = [p.read_bytes() for p in sorted(FIXTURES.glob("*.json"))]
    with tempfile.TemporaryDirectory(prefix="bench-service-") as directory:
        tmp = Path(directory)
        target = args.decision_log or str(tmp / "decisions.sqlite")
        before = 0
        if args.decision_log:
            existing = open_log(target)
            before = existing.count()
            existing.close()
        port = free_port()
        server = start(port, target, args.workers, tmp)
        try:
            load(port, "GET", "/healthz", [], 200, args.clients)  # warm up connections
            load(port, "POST", "/v1/reviews", bodies, 100, args.clients)  # warm up workers
            warm = 100
            rounds: list[tuple[Outcome, Outcome]] = []
            for _ in range(args.rounds):
                rounds.append(
                    (
                        load(port, "GET", "/healthz", [], args.requests, args.clients),
                        load(port, "POST", "/v1/reviews", bodies, args.requests, args.clients),
                    )
                )
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        health, reviews = merged([h for h, _ in rounds]), merged([r for _, r in rounds])
        log = open_log(target)
        try:
            count = log.count() - before
            missing = [i for i in reviews.ids if log.get(i) is None]
        finally:
            log.close()
    ok = reviews.statuses.get(200, 0)
    print(f"compliance {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{args.workers} workers, {args.clients} clients, decision log "
          f"{'PostgreSQL' if args.decision_log else 'SQLite'}")  # fmt: skip
    print()
    print("| endpoint | requests | statuses | requests/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    print(summary("GET /healthz", health))
    print(summary("POST /v1/reviews", reviews))
    print()
    by_round = [(p99(h), p99(r)) for h, r in rounds]
    ratios = sorted(r / h for h, r in by_round)
    print("p99 by round (ms): /healthz " + ", ".join(f"{h:.1f}" for h, _ in by_round)
          + "; reviews " + ", ".join(f"{r:.1f}" for _, r in by_round))  # fmt: skip
    print(f"review p99 / healthz p99: median {statistics.median(ratios):.1f}x "
          f"(rounds {', '.join(f'{x:.1f}x' for x in ratios)})")  # fmt: skip
    print()
    expected = ok + warm
    print(f"decision log: {count} records for {ok} successful reviews (+{warm} warm-up); "
          f"records missing for a returned id: {len(missing)}; "
          f"distinct ids: {len(set(reviews.ids))}")  # fmt: skip
    good = (
        ok == args.requests * args.rounds
        and count == expected
        and not missing
        and len(set(reviews.ids)) == ok
    )
    print("OK: exactly one record per successful response" if good else "MISMATCH")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
