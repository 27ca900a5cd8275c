"""Every command of two source trees run alike, their outputs compared byte for byte.

    git worktree add --detach /tmp/before <commit>
    git worktree add --detach /tmp/after HEAD
    .venv/bin/python -m benchmarks.compare_trees /tmp/before /tmp/after
    git worktree remove /tmp/before; git worktree remove /tmp/after

A refactor that moves code must not change what a user sees. This runs the same commands with
each tree's code (this Python, ``PYTHONPATH`` set to the tree, ``python -m compliance``, a rule-set
cache of its own per tree) in two working directories laid out alike, so every relative path in
an output is the same: ``review`` of every fixture (JSON, workbooks, a JSON Lines register made
from them, standard input) to every format, with waivers, a project config, redaction, the
``--fail-on`` variants, ``--brief``, ``-q``, both engines, decision records and their check;
``validate``, ``schema``, ``template``, ``export``, ``upgrade``, the ``rules`` group (``impact``
with a baseline lacking a rule and with a rule regraded), ``config show``, ``docs`` (written and
``--check``), errors, ``--version`` and the help of every command found in either tree. It compares
standard output, standard error, the exit code and every file a command writes (workbooks part by
part, unzipped), and prints a unified diff of each difference.

Before comparing, it rewrites only what is documented to vary between the trees, and nothing
else (see ``NORMALISATIONS``). A difference the comparison should expect (a deliberate change of
behaviour) is named with ``--expect GLOB`` on the case names: still shown, but it does not fail
the run. Exit 0 when every case matches, 1 when one differs, 2 on a usage error.

It is a script, not a test: it needs a second tree (an earlier commit checked out beside this
one), which CI does not have, and it runs a few hundred commands per tree (minutes).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.tree_cases import Case, cases, command_paths, prepare

NORMALISATIONS = (
    (
        "paths",
        "each tree's working directory and source tree become <WORK> and <TREE>: they differ by "
        "construction, and a message that names an absolute path names a different one per tree",
    ),
    (
        "report_version",
        "the JSON report's report_version (1.4 -> 1.5 is a documented contract change): the value "
        "becomes <report_version> in JSON, JSON Lines, SARIF and records, and so does the version "
        "the HTML page ('report version 1.4') and the workbook's 'Report version' cell show, the "
        "same field rendered",
    ),
    (
        "item_names",
        "reviews[].item_names, added by report 1.5, is removed from each review (a JSON object "
        "with a proposal_id) before comparing; the names it holds are compared where text, "
        "Markdown, HTML and the workbook show them",
    ),
    (
        "impact_version",
        "the impact report's impact_version (1.0 -> 1.1) becomes <impact_version>, and its "
        "decision_log block, added by 1.1 (null without --decision-log), is removed",
    ),
    (
        "xlsx timestamps",
        "a workbook is compared part by part, unzipped (a zip entry holds its write time); in "
        "docProps/core.xml the dcterms:created and dcterms:modified values (the save time openpyxl "
        "writes) become <time>",
    ),
    (
        "record time",
        "a decision record's recorded_at (the wall-clock time of the review) becomes <time>; as "
        "each record's hash covers it, each record_hash becomes <record N> and the sha256 of each "
        "record file (the next record's previous, HEAD, the head line review prints) becomes "
        "<record N file>, wherever they appear",
    ),
)


@dataclass
class Outcome:
    """What one tree's run of a case produced, normalised: artifact name to bytes."""

    parts: dict[str, bytes]
    record_hashes: dict[str, str]


# -- running -----------------------------------------------------------------------------------


class Tree:
    """One source tree and the working directory its commands run in."""

    def __init__(self, label: str, root: Path, workspace: Path, python: str) -> None:
        self.label, self.root, self.workspace, self.python = label, root, workspace, python
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLIANCE_")}
        env.pop("PYTHONPATH", None)
        env.update(
            PYTHONPATH=str(root),
            COMPLIANCE_CACHE_DIR=str(workspace.parent / f"cache-{label}"),
            COLUMNS="80",
            TZ="UTC",
            LC_ALL="C.UTF-8",
            PYTHONHASHSEED="0",
        )
        env.pop("NO_COLOR", None)
        self.env = env

    def check_import(self) -> None:
        """Fail unless ``python -m compliance`` imports this tree's package."""
        done = subprocess.run(
            [self.python, "-c", "import compliance; print(compliance.__file__)"],
            env=self.env,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            check=True,
        )
        where = Path(done.stdout.strip()).resolve()
        if not where.is_relative_to(self.root.resolve()):
            raise SystemExit(f"{self.label}: compliance imports from {where}, not {self.root}")

    def help(self, command: list[str]) -> str:
        """The standard output of ``compliance COMMAND``, to find subcommands in."""
        return self.run(Case("help-scan", command))[0].stdout.decode()

    def run(self, case: Case) -> list[subprocess.CompletedProcess[bytes]]:
        """The case's command and those that follow it, in order."""
        out = f"out/{case.name}"
        (self.workspace / out).mkdir(parents=True, exist_ok=True)
        done = []
        for given in (case.args, *case.then):
            args = [a.replace("{out}", "../" * (case.cwd != ".") + out) for a in given]
            args = [a.replace("<TREE>", str(self.root)) for a in args]
            done.append(
                subprocess.run(
                    [self.python, "-m", "compliance", *args],
                    cwd=self.workspace / case.cwd,
                    env={**self.env, **case.env},
                    input=case.stdin.encode() if case.stdin is not None else None,
                    stdin=None if case.stdin is not None else subprocess.DEVNULL,
                    capture_output=True,
                    timeout=600,
                    check=False,
                )
            )
        return done


def _files(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        data = path.read_bytes()
        if data[:2] == b"PK":  # a workbook: its parts, in the order the zip holds them
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                members = book.namelist()
                yield f"{name} [zip members]", ("\n".join(members) + "\n").encode()
                for member in members:
                    yield f"{name} :: {member}", book.read(member)
        else:
            yield name, data


# -- normalising -------------------------------------------------------------------------------

_DUMPS: tuple[dict[str, Any], ...] = tuple(
    {"indent": indent, "ensure_ascii": ascii_, "separators": seps, "sort_keys": sort}
    for indent in (2, None)
    for ascii_ in (False, True)
    for seps in ((",", ": ") if indent else (", ", ": "), (",", ":"))
    for sort in (False, True)
)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            # a review, a report: their id and version are strings (a schema's are objects)
            if key == "item_names" and isinstance(value.get("proposal_id"), str):
                continue  # item_names: added by report 1.5
            if key == "decision_log" and isinstance(value.get("impact_version"), str):
                continue  # impact_version: 1.1's decision_log block
            if key in ("report_version", "impact_version") and isinstance(item, str):
                out[key] = f"<{key}>"
            elif key == "recorded_at" and "record_hash" in value:
                out[key] = "<time>"  # record time
            else:
                out[key] = _strip(item)
        return out
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _json_document(text: str) -> str | None:
    """``text`` with the documented JSON fields normalised, if it is JSON that re-serialises to
    exactly itself (so nothing but those fields can be hidden); else None."""
    body = text.rstrip("\n")
    tail = text[len(body) :]
    try:
        loaded = json.loads(body)
    except ValueError:
        return None
    if not isinstance(loaded, (dict, list)):
        return None
    for options in _DUMPS:
        if json.dumps(loaded, **options) == body:
            return json.dumps(_strip(loaded), **options) + tail
    return None


def normalise_json(data: bytes) -> bytes:
    """A JSON document, or JSON Lines, with the documented fields normalised; other bytes as
    they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    whole = _json_document(text)
    if whole is not None:
        return whole.encode()
    lines = text.split("\n")
    if len(lines) > 1 and lines[0].startswith("{"):
        done = [_json_document(line) if line else "" for line in lines]
        if all(line is not None for line in done):
            return "\n".join(line or "" for line in done).encode()
    return data


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:)")
_SHOWN_VERSION = (
    re.compile(rb"([Rr]eport version:?\**:?\s*)1\.[45]\b"),
    re.compile(rb"(<t>Report version</t></is></c><c [^>]*><is><t>)1\.[45](</t>)"),
)


def normalise(tree: Tree, name: str, data: bytes) -> bytes:
    for path in (tree.workspace, tree.root):  # paths
        for form in {str(path), str(path.resolve())}:
            data = data.replace(form.encode(), b"<WORK>" if path == tree.workspace else b"<TREE>")
    if name.endswith(":: docProps/core.xml"):  # xlsx timestamps
        data = _CORE_TIME.sub(rb"\1<time>\3", data)
    if not name.endswith("stderr"):  # report_version, as pages show it
        data = _SHOWN_VERSION[0].sub(rb"\1<report_version>", data)
        data = _SHOWN_VERSION[1].sub(rb"\1<report_version>\2", data)
    return normalise_json(data)


def outcome(tree: Tree, case: Case, runs: list[subprocess.CompletedProcess[bytes]]) -> Outcome:
    parts: dict[str, bytes] = {}
    for i, done in enumerate(runs):
        then = f"then {' '.join(case.then[i - 1])}: " if i else ""
        parts[then + "exit code"] = f"{done.returncode}\n".encode()
        parts[then + "stdout"] = done.stdout
        parts[then + "stderr"] = done.stderr
    parts.update(_files(tree.workspace / "out" / case.name))
    hashes: dict[str, str] = {}  # record time: each record's hashes, by its sequence number
    for name, data in parts.items():
        if name.endswith(".json") and "/records/" in f"/{name}":
            record = json.loads(data)
            sequence = record["sequence"]
            hashes[record["record_hash"]] = f"<record {sequence}>"
            hashes["sha256:" + hashlib.sha256(data).hexdigest()] = f"<record {sequence} file>"
    normalised: dict[str, bytes] = {}
    for name, data in parts.items():
        text = normalise(tree, name, data)
        for digest, placeholder in hashes.items():
            text = text.replace(digest.encode(), placeholder.encode())
            text = text.replace(digest.split(":", 1)[1].encode(), placeholder.encode())
        normalised[name] = text
    return Outcome(normalised, hashes)


# -- comparing ---------------------------------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    """Lines to show a diff of; an XML line of a workbook part split between its elements."""
    lines: list[str] = []
    for line in data.decode("utf-8", "backslashreplace").splitlines(keepends=True):
        lines += re.split(r"(?<=>)(?=<)", line) if len(line) > 400 else [line]
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def diff(
    name: str, old: bytes | None, new: bytes | None, labels: tuple[str, str], limit: int
) -> str:
    if old is None or new is None:
        return f"  {name}: only in {labels[old is None]}\n"
    a, b = (_lines(data) for data in (old, new))
    lines = list(difflib.unified_diff(a, b, f"{labels[0]}/{name}", f"{labels[1]}/{name}", n=1))
    if not lines:  # the same lines: line endings or a final newline differ
        return f"  {name}: {len(old)} bytes against {len(new)}, same lines (line ends differ)\n"
    shown = "".join(lines[:limit])
    more = f"    ... {len(lines) - limit} more diff lines\n" if len(lines) > limit else ""
    return "".join(f"    {line.rstrip(chr(10))}\n" for line in shown.splitlines()) + more


def compare(case: Case, old: Outcome, new: Outcome, labels: tuple[str, str], limit: int) -> str:
    report = []
    for name in sorted(set(old.parts) | set(new.parts)):
        a, b = old.parts.get(name), new.parts.get(name)
        if a != b:
            report.append(diff(name, a, b, labels, limit))
    return "".join(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the source tree before the change")
    parser.add_argument("new", type=Path, help="the source tree after it")
    parser.add_argument("--python", default=sys.executable, help="the Python both trees run on")
    parser.add_argument(
        "--inputs",
        choices=("old", "new"),
        default="old",
        help="the tree whose fixtures and rules make the inputs (default: old)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only the cases whose name matches (repeatable)",
    )
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="GLOB",
        help="a case expected to differ: shown, but not a failure (repeatable)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default: 2)")
    parser.add_argument("--diff-lines", type=int, default=60, help="diff lines shown per output")
    parser.add_argument("--keep", type=Path, help="keep the working directories here")
    parser.add_argument(
        "--verbose", action="store_true", help="a line for every case, with its old exit code"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="compare-trees-")) if args.keep is None else args.keep
    base.mkdir(parents=True, exist_ok=True)
    trees = []
    for label, root in (("old", args.old), ("new", args.new)):
        if not (root / "compliance" / "__init__.py").is_file():
            parser.error(f"{root}: not a source tree of compliance")
        workspace = base / label
        if workspace.exists():
            shutil.rmtree(workspace)
        workspace.mkdir()
        prepare(workspace, args.old if args.inputs == "old" else args.new)
        tree = Tree(label, root.resolve(), workspace, args.python)
        tree.check_import()
        trees.append(tree)
    old, new = trees
    labels = (f"old({args.old})", f"new({args.new})")
    commands: list[list[str]] = []
    for tree in trees:
        for command in command_paths(tree.help):
            if command not in commands:
                commands.append(command)
    every = cases(old.workspace, commands)
    chosen = [
        c for c in every if not args.only or any(fnmatch.fnmatch(c.name, g) for g in args.only)
    ]
    print("normalised before comparing:")
    for what, why in NORMALISATIONS:
        print(f"  - {what}: {why}")
    print(f"{len(chosen)} cases, each run with {args.old} and with {args.new}\n", flush=True)

    def both(case: Case) -> tuple[Case, str, bytes]:
        a = outcome(old, case, old.run(case))
        b = outcome(new, case, new.run(case))
        return case, compare(case, a, b, labels, args.diff_lines), a.parts["exit code"]

    differing: list[str] = []
    expected: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for case, found, code in pool.map(both, chosen):
            if args.verbose:
                print(
                    f"{'differs' if found else 'same'}, exit {code.decode().strip()}: {case.name}"
                )
            if not found:
                continue
            known = any(fnmatch.fnmatch(case.name, g) for g in args.expect)
            (expected if known else differing).append(case.name)
            tag = "EXPECTED DIFFERENCE" if known else "DIFFERENCE"
            print(
                f"{tag} {case.name}: compliance {' '.join(case.args)}  (in {case.cwd})\n{found}",
                flush=True,
            )
    same = len(chosen) - len(differing) - len(expected)
    print(
        f"{same} of {len(chosen)} cases identical; {len(expected)} differ as expected, "
        f"{len(differing)} differ otherwise"
    )
    for name in differing:
        print(f"  differs: {name}")
    if args.keep is None:
        shutil.rmtree(base)
    else:
        print(f"working directories kept in {base}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
