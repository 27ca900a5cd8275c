"""Loading rule directories into a :class:`RuleSet`, through the rule-set cache.

A rule set is built by :mod:`compliance.rules.build` (YAML -> schema check -> semantic check), which
reports every problem together, naming the file, the rule and the key. A rule set built once is
kept in the rule-set cache (:mod:`compliance.rules.cache`), keyed by the bytes of every rule file
read: the next load with the same files reads it back instead of building it again. Nothing is
skipped either way: a rule that would silently not run looks exactly like a pass.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from compliance.errors import RuleError
from compliance.rules import cache as rulecache
from compliance.rules.ruleset import RuleSet

MANIFEST = "ruleset.yaml"
CATALOGUE = "frameworks.yaml"
"""A rule directory's framework catalogue (see :mod:`compliance.rules.coverage`)."""


def builtin_rules_dir() -> Path:
    """The rule set shipped with the tool (inside the wheel, or ``rules/`` in a checkout)."""
    packaged = Path(str(resources.files("compliance"))) / "_builtin_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def rule_files(directory: Path) -> list[Path]:
    """Every rule file in ``directory`` and its subdirectories, in load order, hidden ones
    (``.git``, ``.github``) excepted."""
    found = []
    for path in sorted(directory.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(directory).parts)
        is_rules = path.suffix in (".yaml", ".yml") and path.name not in (MANIFEST, CATALOGUE)
        if is_rules and not hidden and path.is_file():
            found.append(path)
    return found


def files_read(directory: Path) -> list[Path] | None:
    """Every file a load of ``directory`` reads, in the order it reads them (manifest,
    catalogue, rule files); None when the directory is missing."""
    if not directory.is_dir():
        return None
    extras = [directory / MANIFEST, directory / CATALOGUE]
    return [path for path in extras if path.is_file()] + rule_files(directory)


def load_rules(directories: list[Path] | None = None, *, builtin: bool = True) -> RuleSet:
    """Load the built-in rule set (unless ``builtin`` is false) and every extra directory.

    Rule ids must be unique across everything loaded. The result comes from the rule-set cache
    when it holds an entry for exactly these files (see :mod:`compliance.rules.cache`).
    """
    dirs: list[tuple[Path, str]] = []
    if builtin:
        dirs.append((builtin_rules_dir(), "rules"))
    for d in directories or []:
        dirs.append((d, str(d)))
    if not dirs:
        raise RuleError("no rule directories to load")

    def key() -> str | None:
        return rulecache.key_of([(name, files_read(path), path) for path, name in dirs], builtin)

    before = key()
    cached = rulecache.load(before) if before is not None else None
    if cached is not None:
        return cached
    from compliance.rules.build import build_rules  # noqa: PLC0415  (only on a cache miss)

    ruleset = build_rules(dirs)
    if before is not None and key() == before:  # no file changed while it was built
        rulecache.store(before, ruleset)
    return ruleset
