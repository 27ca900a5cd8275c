"""The CLI as a user runs it: one-proposal latency, batch throughput and memory, byte identity.

    .venv/bin/python -m benchmarks.bench_cli                # full run (as in docs/BENCHMARKS.md)
    .venv/bin/python -m benchmarks.bench_cli --quick        # a smoke run (under a minute)
    .venv/bin/python -m benchmarks.bench_cli --baseline-tree ../old --json results.json

Measured in one run, through the installed ``compliance`` command (default engine), each command
in a fresh process:

1. **Latency**: ``compliance review`` of one proposal, as JSON and as a workbook made from it by
   ``compliance export``, each alone (``COMPLIANCE_DAEMON=off``) and with a daemon of the
   benchmark's own running (``compliance daemon start``, untimed, before the first round),
   beside ``python -c pass`` and beside Checkov on a ten-line Kubernetes
   manifest (``checkov -f``, as a user types it, its update check turned off), interleaved in
   rounds (A, B, C, D, A, B, ...) after an untimed warm-up round, so load affects them alike.
   Checkov is no dependency: it is installed on demand from the package index into its own
   virtualenv outside the repository (``--checkov-venv``), and left out with a note if it cannot.
2. **Batches**: synthetic proposals (:mod:`benchmarks.synth`; a pool repeated with distinct ids)
   written as JSON Lines, at most ``--per-file`` proposals and 63 MiB per file (the CLI's limits
   per input), reviewed to one JSON report and to JSON Lines, with each ``--jobs`` setting. Each
   run is started by ``benchmarks/launch.py``, which counts the report's bytes from a pipe (never
   storing it) and gives wall and CPU time and peak RSS (``os.wait4``: the largest process,
   forked workers included) and the sampled peak PSS of the process tree; capped by
   ``--max-memory-gb`` of address space and ``--timeout``.
3. **Byte identity** (``--baseline-tree``): one batch reviewed to JSON and text by
   ``PYTHONPATH=TREE python -m compliance review`` and by the current CLI, both in TREE, each on
   its own rule files (the report's rule-set hash shows if those differ), compared byte for byte;
   the first differing line is printed.

The results are printed as Markdown tables for docs/BENCHMARKS.md (with the machine and the load
average at start and end), and with ``--json FILE`` as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.cli_results import Batch, Identity, Latency, markdown

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "exemplary-community-policing.json"
MAX_FILE_BYTES = 63 * 1024 * 1024
DEFAULT_CHECKOV_VENV = Path.home() / ".cache" / "compliance-bench" / "checkov-venv"
MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: web
      image: nginx:1.25.3
      ports:
        - containerPort: 80
"""
_ID = "@@BENCH-ID@@"

LAUNCHER = Path(__file__).resolve().parent / "launch.py"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_launched(
    cmd: list[str],
    cwd: Path,
    args: argparse.Namespace,
    gb: float,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """Run ``cmd`` through the launcher, capped at ``gb`` GiB of address space: its measurements
    and the last line of its standard error."""
    with tempfile.NamedTemporaryFile(prefix="bench-err-", delete=False) as err:
        err_path = Path(err.name)
    spec = {
        "cmd": cmd,
        "cwd": str(cwd),
        "env": env or dict(os.environ),
        "stderr": str(err_path),
        "timeout": args.timeout,
        "max_bytes": int(gb * 1024**3),
    }
    try:
        out = subprocess.run(
            [sys.executable, str(LAUNCHER), json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = err_path.read_bytes()[-2000:].decode("utf-8", "replace")
        tail = [line.strip() for line in text.splitlines() if line.strip()]
    finally:
        err_path.unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(out)
    return result, tail[-1] if tail else ""


def output(cmd: list[str], **kwargs: Any) -> str:
    """What ``cmd`` printed (stripped), whatever its exit code."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    return str(done.stdout).strip()


def machine() -> dict[str, Any]:
    version = output([str(cli_path()), "--version"]).replace("compliance, version", "compliance")
    git = output(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "system": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "compliance": version,
        "git": git,
        "load_start": os.getloadavg(),
    }


def cli_path() -> Path:
    return Path(sys.executable).parent / "compliance"


# -- 1. latency ---------------------------------------------------------------------------------


def checkov(venv: Path) -> tuple[Path | None, str]:
    """The checkov command in ``venv``, installed from the package index if missing."""
    exe = venv / "bin" / "checkov"
    if exe.exists():
        return exe, ""
    log(f"installing checkov into {venv} (once; a few minutes) ...")
    created = not venv.exists()
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True
        )
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "checkov"],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        if created:
            shutil.rmtree(venv, ignore_errors=True)
        last = detail.strip().splitlines()[-1] if detail.strip() else type(exc).__name__
        return None, f"Checkov left out: it could not be installed into {venv}: {last}"
    return (exe, "") if exe.exists() else (None, f"Checkov left out: no {exe} after install")


def latency(tmp: Path, args: argparse.Namespace) -> list[Latency]:
    cli = str(cli_path())
    workbook = tmp / "proposal.xlsx"
    subprocess.run(
        [cli, "export", str(FIXTURE), str(workbook)], check=True, capture_output=True, cwd=tmp
    )
    manifest = tmp / "deploy.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    # Each review alone (no daemon, whatever the caller runs) and with a daemon of its own
    # started in the same directory (`compliance daemon start`), as a user would keep one.
    home = tmp / "daemon"
    home.mkdir(mode=0o700)
    alone = dict(os.environ, COMPLIANCE_DAEMON="off")
    warm = dict(os.environ, COMPLIANCE_DAEMON=str(home / "d.sock"))
    subprocess.run([cli, "daemon", "start"], check=True, capture_output=True, cwd=tmp, env=warm)
    commands: list[tuple[Latency, list[str], dict[str, str]]] = [
        (
            Latency("review, JSON", f"compliance review {FIXTURE.name}"),
            [cli, "review", str(FIXTURE)],
            alone,
        ),
        (
            Latency("review, workbook", "compliance review proposal.xlsx"),
            [cli, "review", str(workbook)],
            alone,
        ),
        (
            Latency("review, JSON, daemon running", f"compliance review {FIXTURE.name}"),
            [cli, "review", str(FIXTURE)],
            warm,
        ),
        (
            Latency("review, workbook, daemon running", "compliance review proposal.xlsx"),
            [cli, "review", str(workbook)],
            warm,
        ),
        (Latency("python -c pass", "python -c pass"), [sys.executable, "-c", "pass"], alone),
    ]
    cmd_checkov = ["-f", str(manifest), "--quiet", "--compact", "--skip-download"]
    note = "Checkov left out (--no-checkov)"
    if not args.no_checkov:
        exe, note = checkov(args.checkov_venv)
        if exe is not None:
            version = output([str(exe), "--version"])
            shown = f"checkov {' '.join(cmd_checkov).replace(str(manifest), 'deploy.yaml')}"
            # CKV_SKIP_PACKAGE_UPDATE_CHECK: no look-up on the package index
            checkov_env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true")
            commands.append(
                (Latency(f"Checkov {version}", shown), [str(exe), *cmd_checkov], checkov_env)
            )
    if note:
        log(note)
    try:
        _time_rounds(commands, tmp, args)
    finally:
        subprocess.run([cli, "daemon", "stop"], check=False, capture_output=True, env=warm)
    results = [entry for entry, _, _ in commands]
    if note:
        results.append(Latency("Checkov", "", note=note))
    return results


def _time_rounds(
    commands: list[tuple[Latency, list[str], dict[str, str]]], tmp: Path, args: argparse.Namespace
) -> None:
    ok_codes = {0, 1}  # checkov exits 1 when a check fails, as on this manifest
    for round_no in range(args.rounds + 1):
        for entry, cmd, env in commands:
            start = time.perf_counter()
            done = subprocess.run(
                cmd,
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
            )
            took = time.perf_counter() - start
            if done.returncode not in ok_codes:
                tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                raise SystemExit(f"{entry.name}: exit {done.returncode}: {' '.join(tail)}")
            if round_no == 0:
                entry.warmup = took
            else:
                entry.times.append(took)
        if round_no:
            log(f"  latency round {round_no}/{args.rounds}")


# -- 2. batches ---------------------------------------------------------------------------------


def pool(size: int) -> list[tuple[str, str]]:
    """``size`` distinct synthetic proposals as JSON Lines, each split around its id (made 2,000
    at a time, seeds 2026, 2027, ..., so that a large pool does not hold its models at once)."""
    from benchmarks.synth import generate  # noqa: PLC0415 (imports the package: not for --help)

    log(f"generating a pool of {size:,} synthetic proposals ...")
    out = []
    for start in range(0, size, 2_000):
        for proposal in generate(min(2_000, size - start), seed=2026 + start // 2_000):
            data = proposal.model_dump(mode="json", exclude_none=True)
            data["id"] = _ID
            line = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            before, after = line.split(json.dumps(_ID), 1)
            out.append((before, after))
    return out


def write_batch(
    folder: Path, count: int, proposals: list[tuple[str, str]], per_file: int
) -> list[Path]:
    """``count`` proposals from the pool (distinct ids) as JSON Lines files, streamed."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    handle = None
    in_file = size = 0
    try:
        for number in range(count):
            before, after = proposals[number % len(proposals)]
            line = f'{before}"BENCH-{number:07d}"{after}\n'.encode()
            if handle is None or in_file == per_file or size + len(line) > MAX_FILE_BYTES:
                if handle is not None:
                    handle.close()
                paths.append(folder / f"batch-{len(paths):04d}.jsonl")
                handle = paths[-1].open("wb", buffering=1 << 20)
                in_file = size = 0
            handle.write(line)
            in_file += 1
            size += len(line)
    finally:
        if handle is not None:
            handle.close()
    return paths


def job_settings(text: str) -> list[str]:
    settings = [s.strip() for s in text.split(",") if s.strip()]
    for s in settings:
        if s != "default" and not (s.isdigit() and int(s) >= 1):
            raise argparse.ArgumentTypeError(f"--jobs: {s!r} is neither 'default' nor a count")
    return settings


def sizes(text: str) -> list[int]:
    try:
        return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text!r}") from None


def short_of_space(tmp: Path, need: float, args: argparse.Namespace) -> str:
    """Why ``need`` bytes may not fit in ``tmp`` with 2 GB to spare (the disk is shared), or ''."""
    free = shutil.disk_usage(tmp).free
    if args.no_space_check or free > need + 2e9:
        return ""
    return f"skipped: may need {need / 1e9:.1f} GB of temporary space, {free / 1e9:.1f} GB free"


def batches(tmp: Path, args: argparse.Namespace) -> list[Batch]:
    plan = [(n, "json") for n in args.sizes] + [(n, "jsonl") for n in args.jsonl_sizes]
    if not plan:
        return []
    proposals = pool(min(args.pool, max(n for n, _ in plan)))
    results: list[Batch] = []
    for count in sorted({n for n, _ in plan}):
        runs = [(f, jobs) for (n, f), jobs in itertools.product(plan, args.jobs) if n == count]
        if problem := short_of_space(tmp, count * 7e3, args):
            log(f"{count:,} proposals: {problem}")
            results += [Batch(count, f, jobs, 0, 0, problem) for f, jobs in runs]
            continue
        log(f"writing {count:,} proposals as JSON Lines ...")
        folder = tmp / f"batch-{count}"
        paths = write_batch(folder, count, proposals, args.per_file)
        in_bytes = sum(p.stat().st_size for p in paths)
        for fmt, jobs in runs:
            row = Batch(count, fmt, jobs, len(paths), in_bytes)
            results.append(row)
            # A text or JSON report is spooled to a temporary file before it is written (JSON
            # Lines go straight out): its size at the bytes per proposal of the largest run so far
            seen = [r.out_bytes / r.proposals for r in results if r.output == fmt and r.out_bytes]
            spooled = 0.0 if fmt == "jsonl" else count * max(seen, default=100e3)
            if problem := short_of_space(tmp, spooled, args):
                row.status = problem
                log(f"  {count:,} proposals to {fmt}: {problem}")
                continue
            cmd = [str(cli_path()), "review", *map(str, paths), "--format", fmt, "--no-fail"]
            cmd += ["--no-config"] + ([] if jobs == "default" else ["--jobs", jobs])
            log(f"  {count:,} proposals to {fmt}, --jobs {jobs} ...")
            got, err = run_launched(cmd, tmp, args, args.max_memory_gb)
            row.wall, row.cpu = got["wall"], got["cpu"]
            row.maxrss_mib, row.tree_pss_mib = got["maxrss_kb"] / 1024, got["tree_kb"] / 1024
            row.out_bytes, row.out_lines = got["out_bytes"], got["out_lines"]
            if got["timed_out"]:
                row.status = f"killed after {args.timeout:g} s (--timeout)"
            elif got["code"] != 0:
                row.status = f"failed, exit {got['code']}: {err}"
            log(f"    {row.status}, {row.wall:.1f} s, {row.maxrss_mib:.0f} MiB")
        shutil.rmtree(folder)
    return results


# -- 3. byte identity ---------------------------------------------------------------------------


def first_difference(a: Path, b: Path) -> str:
    with a.open("rb") as fa, b.open("rb") as fb:
        for number, (la, lb) in enumerate(itertools.zip_longest(fa, fb), start=1):
            if la != lb:
                shown = [repr((x or b"<end of file>")[:200])[1:] for x in (la, lb)]
                return f"line {number}: baseline {shown[0]} / current {shown[1]}"
    return ""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def identity(tmp: Path, args: argparse.Namespace) -> Identity:
    tree = args.baseline_tree.resolve()
    result = Identity(args.identity_proposals, str(tree))
    env = dict(os.environ, PYTHONPATH=str(tree))
    where = output([sys.executable, "-c", "import compliance; print(compliance.__file__)"],
                   cwd=tree, env=env)  # fmt: skip
    if not where.startswith(str(tree) + os.sep):
        result.note = f"left out: PYTHONPATH={tree} imports compliance from {where or 'nowhere'}"
        return result
    proposals = pool(args.identity_proposals)  # all distinct
    paths = write_batch(tmp / "identity", args.identity_proposals, proposals, args.per_file)
    runs = {
        "baseline": [sys.executable, "-m", "compliance"],
        "current": [str(cli_path())],
    }
    outputs: dict[str, dict[str, Path]] = {}
    for name, prefix in runs.items():
        outputs[name] = {fmt: tmp / f"{name}.{fmt}" for fmt in ("json", "text")}
        cmd = [*prefix, "review", *map(str, paths), "--no-fail", "--no-config"]
        for fmt, path in outputs[name].items():
            cmd += ["--format", fmt, "-o", str(path)]
        log(f"identity: {args.identity_proposals:,} proposals through the {name} code ...")
        gb = args.identity_memory_gb
        got, err = run_launched(cmd, tree, args, gb, env if name == "baseline" else None)
        got["status"] = "ok" if got["code"] == 0 and not got["timed_out"] else f"failed: {err}"
        result.runs[name] = got
        log(f"    {got['status']}, {got['wall']:.1f} s, {got['maxrss_kb'] / 1024:.0f} MiB")
    for fmt in ("json", "text"):
        a, b = outputs["baseline"][fmt], outputs["current"][fmt]
        if not (a.exists() and b.exists()):
            result.formats[fmt] = {"identical": False, "difference": "a report is missing"}
            continue
        same = sha256(a) == sha256(b)
        result.formats[fmt] = {
            "baseline_bytes": a.stat().st_size,
            "current_bytes": b.stat().st_size,
            "identical": same,
            "difference": "" if same else first_difference(a, b),
        }
        a.unlink()
        b.unlink()
    shutil.rmtree(tmp / "identity")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        epilog="Progress goes to standard error; the Markdown tables to standard output.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="a smoke run: 1 round, 200 and 1,000 proposals")
    add("--rounds", type=int, default=10, help="timed latency rounds (default: 10)")
    add(
        "--sizes",
        type=sizes,
        default=[1_000, 10_000, 20_000, 100_000],
        help="batch sizes to one JSON report (default: 1000,10000,20000,100000)",
    )
    add(
        "--jsonl-sizes",
        type=sizes,
        default=[1_000_000],
        help="batch sizes to JSON Lines (default: 1000000)",
    )
    add(
        "--jobs",
        type=job_settings,
        default=["default", "1"],
        help="--jobs settings for batches (default: default,1)",
    )
    add("--pool", type=int, default=2_000, help="distinct synthetic proposals (default: 2000)")
    add("--per-file", type=int, default=10_000, help="proposals per input file (default: 10000)")
    add(
        "--parts",
        default="latency,batch,identity",
        help="parts to run (default: all; identity needs --baseline-tree)",
    )
    add(
        "--checkov-venv",
        type=Path,
        default=DEFAULT_CHECKOV_VENV,
        help=f"Checkov's virtualenv, made if missing (default: {DEFAULT_CHECKOV_VENV})",
    )
    add("--no-checkov", action="store_true", help="leave Checkov out of the latency table")
    add("--baseline-tree", type=Path, help="a source tree of earlier code, for byte identity")
    add("--identity-proposals", type=int, default=20_000, help="(default: 20000, all distinct)")
    add(
        "--identity-memory-gb",
        type=float,
        default=16.0,
        help="address-space cap for each identity run (default: 16; the baseline held 0.27 MB "
        "a proposal)",
    )
    add(
        "--max-memory-gb",
        type=float,
        default=10.0,
        help="address-space cap for each batch run (default: 10)",
    )
    add(
        "--no-space-check",
        action="store_true",
        help="run a batch even if its input or report may not fit in the free temporary space",
    )
    add("--timeout", type=float, default=3600.0, help="seconds per batch run (default: 3600)")
    add("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    shown_argv = sys.argv[1:] if argv is None else argv
    if args.quick:  # smaller defaults; options given still count
        parser.set_defaults(rounds=1, sizes=[200], jsonl_sizes=[1_000], pool=200)
        parser.set_defaults(identity_proposals=200)
        args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",")}
    if unknown := parts - {"latency", "batch", "identity"}:
        parser.error(f"--parts: unknown {', '.join(sorted(unknown))}")
    if not cli_path().exists():
        parser.error(f"no compliance command next to this interpreter: {cli_path()}")
    started = time.perf_counter()
    facts = machine()
    lat: list[Latency] = []
    rows: list[Batch] = []
    ident = None
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as name:
        tmp = Path(name)
        if "latency" in parts:
            lat = latency(tmp, args)
        if "batch" in parts:
            rows = batches(tmp, args)
        if "identity" in parts and args.baseline_tree is not None:
            ident = identity(tmp, args)
    facts["load_end"] = os.getloadavg()
    facts["seconds"] = time.perf_counter() - started
    for line in markdown(facts, lat, rows, ident, shown_argv):
        print(line)
    if args.json is not None:
        document = {
            "machine": facts,
            "latency": [
                dataclasses.asdict(x) | {"median": x.median() if x.times else None} for x in lat
            ],
            "batches": [dataclasses.asdict(r) for r in rows],
            "identity": dataclasses.asdict(ident) if ident else None,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    failed = any(r.status != "ok" for r in rows) or (
        ident is not None and not all(c["identical"] for c in ident.formats.values())
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
