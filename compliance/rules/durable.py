"""The durable_rules engine, behind one class. The only module that imports durable_rules.

What this wrapper guarantees (each point answers a measured behaviour of durable_rules 2.0.28,
recorded in docs/ENGINE.md):

- a private host without the library's two background timer threads, independent of the
  module-level host in ``durable.lang``;
- one session per proposal, always deleted afterwards (live sessions are capped at 1024 and leak
  otherwise); a catch-all rule makes sure every session ran an action, so deleting it is safe;
- facts, not events, so every matching rule fires; firings are de-duplicated per rule;
- errors stored by the engine in the session state are raised, never ignored;
- after an engine error the engine refuses further work (touching a session after error 303 can
  crash the process) and the caller gets :class:`EngineError`;
- calls are serialised with a lock (the C extension is not thread-safe);
- ``close()`` deletes the compiled rulesets, freeing their memory;
- on Python 3.13 and later, durable_rules imports with the ``PyEval_CallObject`` the install
  compiled (hatch_build.py); where it cannot load at all, :func:`resolve` says so and ``auto``
  falls back to the reference evaluator.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import itertools
import json
import platform
import re
import sys
import threading
from typing import TYPE_CHECKING, Any, Literal

from compliance.errors import EngineError, RuleError
from compliance.rules.reference import TV

if TYPE_CHECKING:
    from compliance.rules.compiler import Plan

SHIM = "compliance._pyeval_shim"
"""The library that defines ``PyEval_CallObject`` for durable_rules on Python 3.13 and later,
compiled by the install (hatch_build.py)."""


def _load_shim() -> None:
    """Make ``PyEval_CallObject`` resolvable for the durable_rules extension: load the library
    that defines it into the global symbol scope (an extension imported the usual way is loaded
    ``RTLD_LOCAL``, where another library cannot see its symbols)."""
    spec = importlib.util.find_spec(SHIM)
    if spec is None or spec.origin is None:
        raise ImportError(
            "durable_rules 2.0.28 needs PyEval_CallObject, which Python 3.13 removed, and the "
            "library that supplies it was not built: reinstall compliance (pip install .) with "
            "a C compiler"
        )
    import ctypes  # noqa: PLC0415 - Python 3.13 and later only

    try:
        ctypes.CDLL(spec.origin, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise ImportError(
            f"the library that supplies PyEval_CallObject did not load: {exc}"
        ) from exc


def _import_native() -> tuple[Any, Any]:
    """durable_rules' C extension and its Python host; on 3.13 and later with the library that
    supplies ``PyEval_CallObject`` loaded first, only if the extension needs it."""
    try:
        import durable_rules_engine  # noqa: PLC0415 - imported once, here
    except ImportError as exc:
        if sys.version_info < (3, 13) or "PyEval_CallObject" not in str(exc):
            raise
        _load_shim()  # a failed import leaves nothing behind: it can be tried again
        import durable_rules_engine  # noqa: PLC0415
    from durable import engine  # noqa: PLC0415

    return durable_rules_engine, engine


try:  # pragma: no cover - exercised by whichever Python runs the tests
    _native, _durable = _import_native()
except ImportError as exc:  # pragma: no cover
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None


def unavailable() -> str | None:
    """Why the durable engine cannot run in this Python, in one line; ``None`` when it can."""
    if _IMPORT_ERROR is None:
        return None
    return f"durable_rules cannot be loaded on Python {platform.python_version()}: {_IMPORT_ERROR}"


def resolve(choice: str) -> tuple[Literal["durable", "reference"], str | None]:
    """The engine that runs for an ``--engine`` choice, and why it is not durable_rules when
    ``auto`` falls back to the reference evaluator (``None`` otherwise).

    ``auto`` is durable_rules where it loads, else the reference evaluator. An explicit
    ``durable`` that cannot load is an :class:`EngineError`, never a quiet switch.
    """
    reason = unavailable()
    if choice == "auto":
        return ("durable", None) if reason is None else ("reference", reason)
    if choice == "durable" and reason is not None:
        raise EngineError(f"--engine durable: {reason}; use --engine reference or --engine auto")
    if choice == "durable":
        return "durable", None
    if choice == "reference":
        return "reference", None
    raise ValueError(f"unknown engine {choice!r}")


def describe() -> str:
    """One line for ``--version``: the engine ``auto`` picks in this Python, and why."""
    reason = unavailable()
    if reason is None:
        return f"durable (durable_rules {_durable_version()}, Python {platform.python_version()})"
    return f"reference ({reason})"


def _durable_version() -> str:
    try:
        return importlib.metadata.version("durable_rules")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown version"


_FLOAT_MARK = "\x00f:"
_MARKED_FLOAT = re.compile(r'"\\u0000f:([^"\\]+)\\u0000"')


def _float_text(value: float) -> str:
    """A float as JSON that durable_rules parses: its parser rejects an exponent without a
    fraction (``1e+16``, ``5e-05``: error 204), which is how Python writes some floats."""
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def _mark_floats(value: Any) -> Any:
    if isinstance(value, float):
        return f"{_FLOAT_MARK}{_float_text(value)}\x00"
    if isinstance(value, dict):
        return {k: _mark_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_floats(v) for v in value]
    return value


def engine_json(fact: dict[str, Any]) -> str:
    """The fact as the JSON text handed to the engine, every number in a form it parses."""
    text = json.dumps(fact, ensure_ascii=False)
    if _EXPONENT.search(text) is None:
        return text  # no float written with an exponent: nothing to rewrite
    text = json.dumps(_mark_floats(fact), ensure_ascii=False)
    return _MARKED_FLOAT.sub(lambda m: m.group(1), text)


_EXPONENT = re.compile(r"[0-9][eE][-+]")
"""How Python writes every float with an exponent. Matching inside a string as well only costs
the exact path (:func:`_mark_floats`); a float never escapes it."""


def _with_session(text: str, sid: str) -> str:
    """``engine_json({**fact, "sid": sid})`` from ``text = engine_json(fact)``, byte for byte:
    the fact is serialised once per review, not once per ruleset."""
    if text == "{}":
        return f'{{"sid": "{sid}"}}'
    return f'{text[:-1]}, "sid": "{sid}"}}'


_ACTION_HEAD = re.compile(r'\{\s*"([^"\\]+)"\s*:')


def _action_name(message: str) -> str:
    """The action a message triggers: its first key. Rule names never need JSON escapes."""
    head = _ACTION_HEAD.match(message)
    if head is not None:
        return head.group(1)
    return str(next(iter(json.loads(message))))  # pragma: no cover - a form never sent


def _never_called(closure: Any) -> None:  # one parameter: a synchronous action
    raise AssertionError("durable_rules ran a Python action; DurableEngine._assert should")


class _QuietHost(_durable.Host if _IMPORT_ERROR is None else object):  # type: ignore[misc]
    """A host that never starts the dispatch and timer threads a synchronous checker needs not."""

    def _run(self) -> None:
        return None

    def _no_callbacks(self, func: Any) -> None:
        # The storage callbacks are the only callers of PyEval_CallObject, which the library
        # loaded on Python 3.13 defines as a fatal error (docs/ENGINE.md): never installed.
        raise EngineError("durable_rules storage callbacks are not used by compliance")

    set_store_message_callback = set_delete_message_callback = _no_callbacks
    set_queue_message_callback = set_get_queued_messages_callback = _no_callbacks
    set_get_stored_messages_callback = set_get_idle_state_callback = _no_callbacks


_keeping = False
KEPT_MAX = 4
"""At most this many engines are kept (one per distinct rule set); others are deleted."""
_KEPT: dict[str, tuple[_QuietHost, list[Any], itertools.count[int]]] = {}
"""Engines closed while :func:`keep_closed_engines` is on, by their compiled definitions, with
the counter of their session ids (never reused): the next engine made of the same definitions
takes one instead of building its own. The daemon turns this on and builds an engine in a
warm-up review; each command's child, forked from it, then starts with that engine already
built (about a third of a one-proposal review's work)."""


def keep_closed_engines() -> None:
    """Keep each engine that is closed for the next one of the same definitions (the daemon)."""
    global _keeping  # noqa: PLW0603 - one switch for the process
    _keeping = True


class DurableEngine:
    """A compiled rule set on durable_rules. Build once per rule set, reuse for every proposal."""

    name = "durable"

    def __init__(self, plan: Plan) -> None:
        reason = unavailable()
        if reason is not None:
            raise EngineError(
                f"--engine durable: {reason}; use --engine reference or --engine auto"
            )
        self._plan = plan
        self._lock = threading.Lock()
        self._fired: set[str] = set()
        self._sids = itertools.count(1)
        self._broken: str | None = None
        self._closed = False
        # Registering mutates the definitions: a copy, made by the C codec from JSON text (plain
        # JSON data; a deep copy in Python took longer than building the engine).
        texts = {shard.name: json.dumps(shard.definition()) for shard in plan.shards}
        self._key = json.dumps(texts)
        self._names = list(texts)
        kept = _KEPT.pop(self._key, None)
        if kept is not None:  # closed by its last user (the daemon's warm-up, a command before)
            self._host, self._rulesets, self._sids = kept
            return
        self._host = _QuietHost()
        definitions: dict[str, dict[str, Any]] = {}
        for name, text in texts.items():
            rules = json.loads(text)
            for rule in rules.values():
                # durable_rules requires an action per rule; _assert records the firing itself
                # and never calls it.
                rule["run"] = _never_called
            definitions[name] = rules
        try:
            self._host.register_rulesets(definitions)
        except Exception as exc:
            raise RuleError(f"the rule engine refused the compiled rules: {exc}") from exc
        self._rulesets = [self._host.get_ruleset(name) for name in self._names]

    def results(self, view: dict[str, Any]) -> dict[str, TV]:
        """Certain (TRUE) and possible (UNKNOWN) violations of every rule for one proposal.

        Rules absent from the result are not violated. ``view`` is the proposal as plain dicts.
        """
        text = engine_json(self._plan.fact(view))
        with self._lock:
            if self._closed:
                raise EngineError("the rule engine was closed")
            if self._broken is not None:
                raise EngineError(f"the rule engine failed earlier and was stopped: {self._broken}")
            self._fired.clear()
            for name, ruleset in zip(self._names, self._rulesets, strict=True):
                sid = str(next(self._sids))
                try:
                    self._assert(ruleset, _with_session(text, sid))
                except Exception as exc:
                    self._broken = f"{type(exc).__name__}: {exc}"
                    raise EngineError(f"the rule engine failed on a proposal: {exc}") from exc
                try:
                    self._host.delete_state(name, sid)
                except Exception as exc:
                    self._broken = f"{type(exc).__name__}: {exc}"
                    raise EngineError(f"the rule engine could not clean up: {exc}") from exc
            fired = set(self._fired)
            self._fired.clear()
        if "#catch-all" not in fired:
            raise EngineError("the rule engine did not run its catch-all rule")
        out: dict[str, TV] = {}
        for name in fired:
            rule_id, _, kind = name.rpartition("#")
            if not rule_id:
                continue
            value = TV.TRUE if kind == "T" else TV.UNKNOWN
            out[rule_id] = max(out.get(rule_id, TV.FALSE), value)
        return out

    def _assert(self, ruleset: Any, text: str) -> None:
        """Assert a fact given as JSON text and run the actions it triggers, recording the name
        of each rule that fires.

        This is ``Host.assert_fact`` with its action loop (``Ruleset.do_actions`` and
        ``_flush_actions``) inlined, minus what a checker does not need: durable_rules decodes
        the matched fact into Python and builds a closure for every firing, which cost most of
        the time of a review. The engine's calls and their order are the same; the action name
        is read from the head of the message text (``{"DS-003#T": {...}}``).
        """
        handle = ruleset._handle
        state_handle = ruleset._handle_result(_native.assert_fact(handle, text), text)
        result = _native.start_action_for_state(handle, state_handle)
        while result:
            state_text, message_text = result[0], result[1]
            self._fired.add(_action_name(message_text))
            _native.update_state(handle, state_text)
            following = _native.complete_and_start_action(handle, state_handle)
            result = (state_text, following) if following else None

    def close(self) -> None:
        """Delete the compiled rulesets from the C engine. The engine cannot be used after."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            room = len(_KEPT) < KEPT_MAX and self._key not in _KEPT
            if _keeping and self._broken is None and room:
                _KEPT[self._key] = (self._host, self._rulesets, self._sids)
                return
            for ruleset in self._rulesets:
                with contextlib.suppress(Exception):
                    _native.delete_ruleset(ruleset._handle)

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
