"""The rule-set cache: a loaded :class:`RuleSet` kept on disk as plain JSON, so that the next load
of the same rule files reads it back instead of parsing and validating every file again.

An entry is keyed by a sha256 over what the load depends on: every file it reads (its name
relative to its directory, and its bytes, in load order), the directories' names as shown in
messages, whether the built-in rules were loaded, the tool's version, the Python, durable_rules
and pydantic versions, and the size and modification time of PyYAML's module and of each module
of the tool. An entry for other files, another version or other code is never looked at: it has
another key.

Reading an entry never runs code from it: it is JSON, and the objects are rebuilt from a fixed
list of classes. An entry is used only when it is whole (a sha256 of its payload, checked on
every read), written for this key and this format, owned by the user reading it (or root) and
writable by no one else; anything else is ignored, as a missing entry is, and the rule set is
built again and stored in its place. An entry is written to a temporary file and renamed into
place, so a reader never sees half of one. A cache directory that cannot be created or written
means no cache, never an error.

Where: ``$COMPLIANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/compliance``, else
``~/.cache/compliance``. ``COMPLIANCE_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import stat
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance import __version__
from compliance.errors import ComplianceError, RuleError
from compliance.intake.boundedfile import read_limited
from compliance.rules import conditions as c
from compliance.rules import ruleset as rs
from compliance.rules.spec import Severity

if TYPE_CHECKING:
    from compliance.proposal.model import Proposal
    from compliance.rules.compiler import Form, Plan
    from compliance.rules.facts import _ListPlan

ENV = "COMPLIANCE_CACHE_DIR"
OFF = "off"
"""``COMPLIANCE_CACHE_DIR=off`` turns the cache off."""
FORMAT = 1
"""The layout of an entry; part of the key."""
FILE_MAX = 4 * 1024 * 1024
"""Rule files larger than this are not cached (the loader refuses them anyway)."""
ENTRY_MAX = 256 * 1024 * 1024
"""An entry larger than this is ignored."""
ENTRIES_KEPT = 32
"""After a write, the oldest entries beyond this many are deleted."""
TEMP_AGE_MAX = 3600
"""A temporary file older than this many seconds (a writer that died) is deleted."""
SUFFIX = ".ruleset.json"
PLAN_ATTRIBUTE = "_cached_plan"
"""A rule set read from the cache (or just stored) holds, under this attribute (not a field: a
rule set derived from it with ``dataclasses.replace``, as tuning does, has none), a function
giving its compiled durable_rules plan; :func:`compliance.rules.compiler.compile_ruleset` uses
it."""

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        rs.Reference,
        rs.Escalation,
        rs.SeverityOverride,
        rs.Example,
        rs.Rule,
        rs.Requirement,
        rs.Framework,
        rs.RuleSource,
        rs.DisabledRule,
        rs.NotInForce,
        rs.Tuning,
        rs.RuleSet,
        c.FieldRef,
        c.Compare,
        c.OneOf,
        c.Answered,
        c.Contains,
        c.Count,
        c.Quantified,
        c.All,
        c.AnyOf,
        c.Not,
    )
}
_ENUMS: dict[str, type[Enum]] = {"Severity": Severity, "CompareOp": c.CompareOp}
DECODED_KEPT = 4
_DECODED: dict[str, rs.RuleSet] = {}
"""The rule sets this process decoded from entries, by the sha256 of the entry's payload (the
last :data:`DECODED_KEPT`). A later load of the same entry reads and checks it as the first did,
then returns the same rule set instead of decoding it again: a library that loads the rules for
each batch, and each command the daemon runs (whose daemon read them before listening), skip the
decoding, most of a load. The rule set and its rules are frozen dataclasses; the tool changes
nothing reachable from them (an example's proposal is made once, on first use, and then only
read), and a caller must not either."""


class _Unstorable(Exception):
    """A value the cache has no form for, or an entry that does not decode."""


def directory() -> Path | None:
    """The cache directory, or None when the cache is off."""
    given = os.environ.get(ENV, "")
    if given.strip().lower() == OFF:
        return None
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "compliance"
    try:
        return Path.home() / ".cache" / "compliance"
    except RuntimeError:  # no home directory
        return None


def _code_identity() -> list[object]:
    """The tool's version, the Python, durable_rules and pydantic versions, PyYAML's module (size,
    modification time) and each module of the tool (name, size, modification time): a rule set
    built by other code is never reused."""
    import importlib.util  # noqa: PLC0415
    from importlib.metadata import version  # noqa: PLC0415

    import pydantic_core  # noqa: PLC0415
    from pydantic.version import VERSION as PYDANTIC  # noqa: PLC0415

    try:
        durable: str | None = version("durable_rules")
    except Exception:  # not installed: the key says so
        durable = None
    yaml = importlib.util.find_spec("yaml")
    parser = os.stat(yaml.origin) if yaml is not None and yaml.origin else None
    libraries: list[object] = [durable, PYDANTIC, pydantic_core.__version__]
    libraries += [parser.st_size, parser.st_mtime_ns] if parser is not None else [None]
    package = Path(__file__).parents[1]
    modules = sorted(
        (f"{folder.name}/{entry.name}", entry.stat().st_size, entry.stat().st_mtime_ns)
        for folder in (
            package,
            *(sub for sub in package.iterdir() if (sub / "__init__.py").is_file()),
        )
        for entry in os.scandir(folder)
        if entry.name.endswith(".py") and entry.is_file()
    )
    return [FORMAT, __version__, sys.version, sys.implementation.cache_tag, libraries, modules]


def key_of(dirs: list[tuple[str, list[Path] | None, Path]], builtin: bool) -> str | None:
    """The cache key of a load of ``dirs`` (name shown, the files read in load order, the
    directory), or None when a file cannot be read as the loader would (the load then runs
    uncached and reports the problem)."""
    if directory() is None:
        return None
    digest = hashlib.sha256()

    def add(part: bytes) -> None:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)

    try:
        add(json.dumps([_code_identity(), builtin]).encode("utf-8"))
        for display, files, root in dirs:
            if files is None:
                return None
            add(json.dumps([display, len(files)]).encode("utf-8"))
            for path in files:
                add(path.relative_to(root).as_posix().encode("utf-8", "surrogateescape"))
                add(read_limited(path, str(path), ComplianceError, FILE_MAX))
    except (ComplianceError, OSError, ValueError):
        return None
    return digest.hexdigest()


# --------------------------------------------------------------------------- plain data


def _encode(value: Any) -> Any:
    """``value`` as JSON data. A dataclass is ``{class: [its fields in order]}``, an enumeration
    ``{class: value}``, a date ``{"date": "YYYY-MM-DD"}``, a mapping ``{"map": [[key, value],
    ...]}``, a tuple a list; an example's proposal is its JSON text, validated when first used."""
    if isinstance(value, Enum):  # before str: Severity and CompareOp are str enumerations
        if _ENUMS.get(type(value).__name__) is not type(value):
            raise _Unstorable(f"no cached form for {type(value).__name__}")
        return {type(value).__name__: value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {"map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, rs.Example):
        proposal = value.proposal.model_dump_json(exclude_unset=True)
        fields = [value.kind, value.note, proposal, value.evidence, value.severity]
        return {"Example": [_encode(field) for field in fields]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _CLASSES.get(name) is type(value):
        return {name: [_encode(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    raise _Unstorable(f"no cached form for {name}")


def _example_proposal(text: str) -> Proposal:
    from compliance.proposal.model import Proposal  # noqa: PLC0415

    return Proposal.model_validate(json.loads(text))


def _decoded(obj: dict[str, Any]) -> Any:
    """One JSON object of an entry, rebuilt (its members already are); see :func:`_encode`."""
    ((name, value),) = obj.items()
    cls = _CLASSES.get(name)
    if cls is not None:
        args = [tuple(v) if type(v) is list else v for v in value]
        if cls is rs.Example:
            if not isinstance(args[2], str):
                raise _Unstorable("an example without its proposal")
            args[2] = functools.partial(_example_proposal, args[2])
        return cls(*args)
    if name in _ENUMS:
        return _ENUMS[name](value)
    if name == "date":
        return dt.date.fromisoformat(value)
    if name == "map":
        return {k: tuple(v) if type(v) is list else v for k, v in value}
    raise _Unstorable("an object of no known kind")


def _decode(payload: bytes) -> rs.RuleSet:
    """The rule set of an entry's payload (its rule set, a line break, its compiled plan or
    ``null``); the plan is decoded when the rule set is first compiled."""
    rules, _, plan = payload.partition(b"\n")
    ruleset = json.loads(rules, object_hook=_decoded)
    if not isinstance(ruleset, rs.RuleSet):
        raise _Unstorable("not a rule set")
    if plan != b"null":
        decoded = functools.cache(functools.partial(_plan_from, plan))
        object.__setattr__(ruleset, PLAN_ATTRIBUTE, decoded)
    return ruleset


# --------------------------------------------------------------------------- compiled plan


def _plan_data(plan: Plan) -> dict[str, Any]:
    """The durable_rules plan as JSON data (conditions are JSON already)."""

    def form(f: Form) -> list[Any]:
        return [f.cond, f.heads, f.peak, f.leftover, f.exprs]

    def lists(plans: dict[str, _ListPlan]) -> dict[str, list[dict[str, str]]]:
        return {path: [p.item_keys, p.root_copies] for path, p in plans.items()}

    return {
        "shards": [
            [
                s.name,
                [[[r.rule_id, form(r.certain), form(r.possible)] for r in g] for g in s.groups],
            ]
            for s in plan.shards
        ],
        "root": plan.facts.root,
        "quantified": lists(plan.facts.quantified),
        "each": lists(plan.facts.each),
        "groups": plan.groups,
    }


def _plan_from(text: bytes) -> Plan | None:
    """The plan stored as ``text`` (see :func:`_plan_data`); None if it does not decode."""
    from compliance.rules.compiler import CompiledRule, Form, Plan, Shard  # noqa: PLC0415
    from compliance.rules.facts import FactPlan, _ListPlan  # noqa: PLC0415

    def form(f: list[Any]) -> Form:
        return Form(*f)

    def lists(data: dict[str, list[dict[str, str]]]) -> dict[str, _ListPlan]:
        return {path: _ListPlan(items, copies) for path, (items, copies) in data.items()}

    try:
        data = json.loads(text)
        shards = tuple(
            Shard(
                name,
                tuple(
                    tuple(CompiledRule(rid, form(cert), form(poss)) for rid, cert, poss in group)
                    for group in groups
                ),
            )
            for name, groups in data["shards"]
        )
        facts = FactPlan(data["root"], lists(data["quantified"]), lists(data["each"]))
        return Plan(shards, facts, data["groups"])
    except Exception:  # compiled again instead
        return None


def _plan_text(ruleset: rs.RuleSet) -> bytes:
    """The compiled plan of ``ruleset`` as stored, ``null`` when it does not compile or does not
    read back equal; the plan is kept on ``ruleset`` for its first review."""
    from compliance.rules.compiler import compile_ruleset  # noqa: PLC0415

    try:
        plan = compile_ruleset(ruleset)
    except RuleError:
        return b"null"  # reported when a review compiles it
    object.__setattr__(ruleset, PLAN_ATTRIBUTE, lambda: plan)
    text = json.dumps(
        _plan_data(plan), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    return text if _plan_from(text) == plan else b"null"


def _entry(root: Path, key: str) -> Path:
    return root / f"{key}{SUFFIX}"


def load(key: str) -> rs.RuleSet | None:
    """The rule set stored under ``key``, or None when there is none to trust (see the module
    notes: anything unexpected is ignored)."""
    root = directory()
    if root is None:
        return None
    try:
        data = _read_own(_entry(root, key))
        if data is None:
            return None
        head, _, payload = data.partition(b"\n")
        header = json.loads(head)
        digest = hashlib.sha256(payload).hexdigest()
        if header != {"format": FORMAT, "key": key, "payload_sha256": digest}:
            return None
        ruleset = _DECODED.get(digest)
        if ruleset is None:
            ruleset = _decode(payload)
            while len(_DECODED) >= DECODED_KEPT:
                del _DECODED[next(iter(_DECODED))]
            _DECODED[digest] = ruleset
        return ruleset
    except Exception:  # a damaged entry is a missing one
        return None


def _read_own(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of this user (or root) that no one else
    can write, and not too large; None otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > ENTRY_MAX:
            return None
        if hasattr(os, "getuid") and (
            info.st_uid not in (0, os.getuid()) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return None
        return handle.read(ENTRY_MAX + 1)


def _payload(ruleset: rs.RuleSet) -> bytes:
    return json.dumps(
        _encode(ruleset), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


def store(key: str, ruleset: rs.RuleSet) -> None:
    """Keep ``ruleset`` under ``key``, if it can be stored and read back equal; any failure to
    write (a read-only or missing directory, a full disk) leaves the cache as it was."""
    root = directory()
    if root is None:
        return
    try:
        rules = _payload(ruleset)
        again = _decode(rules)
        if again != ruleset or _payload(again) != rules:
            return  # what does not come back equal, of the same types, is never cached
        payload = rules + b"\n" + _plan_text(ruleset)
    except Exception:  # what cannot be stored is not cached
        return
    header = {"format": FORMAT, "key": key, "payload_sha256": hashlib.sha256(payload).hexdigest()}
    import tempfile  # noqa: PLC0415  (only to write: a hit does not pay for importing it)

    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=root)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(header).encode("utf-8") + b"\n" + payload)
            os.replace(temp, _entry(root, key))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _prune(root)
    except OSError:
        return


def _prune(root: Path) -> None:
    """Delete the oldest entries beyond :data:`ENTRIES_KEPT` (stale ones, mostly), and
    temporary files a writer left behind."""
    entries = []
    doomed = []
    too_old = time.time_ns() - TEMP_AGE_MAX * 10**9
    for entry in os.scandir(root):
        if not entry.name.endswith(SUFFIX):
            continue
        try:
            modified = entry.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            continue
        if not entry.name.startswith("."):
            entries.append((modified, entry.path))
        elif modified < too_old:
            doomed.append(entry.path)
    doomed += [path for _, path in sorted(entries, reverse=True)[ENTRIES_KEPT:]]
    for path in doomed:
        try:
            os.unlink(path)
        except OSError:
            continue
