"""The rule-set cache: a hit gives the rule set a fresh load gives; a stale, damaged, foreign or
untrusted entry is ignored and rebuilt; no cache directory, or the cache off, still reviews; rule
errors are reported as without a cache."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance import Reviewer
from compliance.errors import RuleError
from compliance.intake.proposals import read_proposals
from compliance.intake.yamlfile import DEPTH_MAX, YAML_MAX_BYTES, parse_yaml
from compliance.intake.yamlparse import _fast_parse, _Slow, _StrictLoader
from compliance.proposal.sourcemap import column_letter
from compliance.rules import cache as rulecache
from compliance.rules.load import load_rules
from compliance.rules.ruleset import RuleSet

from .conftest import FIXTURES, ROOT
from .test_ruleload import one_file, rule

FIXTURE_FILES = [
    str(p) for p in sorted(FIXTURES.glob("*.json")) + sorted(FIXTURES.glob("workbooks/*.xlsx"))
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory, the only one loads in the test use."""
    where = tmp_path / "cache"
    monkeypatch.setenv(rulecache.ENV, str(where))
    return where


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a rule set was built from its files (a cache miss) in the test."""
    from compliance.rules import build as rulebuild

    real = rulebuild.build_rules
    calls: list[int] = []

    def counted(dirs: list[tuple[Path, str]]) -> RuleSet:
        calls.append(1)
        return real(dirs)

    monkeypatch.setattr(rulebuild, "build_rules", counted)
    return calls


def entries(where: Path) -> list[Path]:
    return sorted(where.glob(f"*{rulecache.SUFFIX}"))


def uncached() -> RuleSet:
    saved = os.environ.get(rulecache.ENV)
    os.environ[rulecache.ENV] = "off"
    try:
        return load_rules()
    finally:
        if saved is None:
            del os.environ[rulecache.ENV]
        else:
            os.environ[rulecache.ENV] = saved


def reviews_json(ruleset: RuleSet) -> list[str]:
    with Reviewer(ruleset) as reviewer:
        return [
            reviewer.review(item.proposal, item.source_map).model_dump_json()
            for path in FIXTURE_FILES
            for item in read_proposals([path])
        ]


def org_rules(tmp_path: Path, **changes: Any) -> Path:
    """A rule directory of one valid rule (``changes`` as in ``test_ruleload.rule``)."""
    directory = tmp_path / "org"
    directory.mkdir(exist_ok=True)
    for name, content in one_file(rule(**changes)).items():
        (directory / name).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return directory


# --------------------------------------------------------------------------- hits


def test_a_hit_gives_the_rule_set_and_the_reviews_of_a_fresh_load(
    cache: Path, builds: list[int]
) -> None:
    fresh = uncached()
    assert builds == [1]
    first = load_rules()
    assert (builds, len(entries(cache))) == ([1, 1], 1)
    hit = load_rules()
    assert builds == [1, 1]  # read from the cache, not built
    assert hit == fresh
    assert hit.hash == fresh.hash == first.hash
    assert [r.id for r in hit.rules] == [r.id for r in fresh.rules]
    reviews = reviews_json(hit)
    assert reviews == reviews_json(fresh)
    decisions = {json.loads(review)["decision"] for review in reviews}
    assert decisions == {"approve", "approve_with_conditions", "reject", "needs_information"}


def test_a_hit_brings_the_compiled_plan_and_a_tuned_rule_set_compiles_its_own(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.rules import compiler

    fresh = compiler.compile_ruleset(uncached())
    load_rules()
    hit = load_rules()
    compiled: list[int] = []
    real = compiler.compile_rule

    def counted(rule: Any) -> Any:
        compiled.append(1)
        return real(rule)

    monkeypatch.setattr(compiler, "compile_rule", counted)
    assert compiler.compile_ruleset(hit) == fresh
    assert compiled == []
    tuned = dataclasses.replace(hit, rules=hit.rules[:3])
    assert len(compiler.compile_ruleset(tuned).shards[0].groups[0]) == 3
    assert compiled == [1, 1, 1]


def test_a_plan_that_does_not_decode_is_compiled_again(cache: Path) -> None:
    from compliance.rules import compiler

    fresh = compiler.compile_ruleset(uncached())
    load_rules()
    (entry,) = entries(cache)
    head, _, payload = entry.read_bytes().partition(b"\n")
    rules, _, _ = payload.partition(b"\n")
    payload = rules + b"\n" + b'{"shards": 1}'
    header = json.loads(head)
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    entry.write_bytes(json.dumps(header).encode() + b"\n" + payload)
    assert compiler.compile_ruleset(load_rules()) == fresh


def test_extra_directories_are_part_of_the_key(
    tmp_path: Path, cache: Path, builds: list[int]
) -> None:
    org = org_rules(tmp_path)
    both = load_rules([org])
    builtin_only = load_rules()
    alone = load_rules([org], builtin=False)
    assert (len(builds), len(entries(cache))) == (3, 3)
    assert [len(r.rules) for r in (both, builtin_only, alone)] == [
        len(builtin_only.rules) + 1,
        len(builtin_only.rules),
        1,
    ]
    assert load_rules([org]) == both
    assert len(builds) == 3


def test_a_changed_rule_file_is_built_again(tmp_path: Path, cache: Path, builds: list[int]) -> None:
    org = org_rules(tmp_path)
    assert load_rules([org], builtin=False).rules[0].title == "Flows have a lawful basis"
    org_rules(tmp_path, title="Flows have a lawful basis, recorded")
    changed = load_rules([org], builtin=False)
    assert changed.rules[0].title == "Flows have a lawful basis, recorded"
    assert len(builds) == 2
    assert load_rules([org], builtin=False) == changed
    assert len(builds) == 2


def test_an_added_rule_file_is_built_again(tmp_path: Path, cache: Path) -> None:
    org = org_rules(tmp_path)
    assert len(load_rules([org], builtin=False).rules) == 1
    (org / "more.yaml").write_text(
        yaml.safe_dump({"domain": "data_sharing", "rules": [rule(id="ORG-002")]}),
        encoding="utf-8",
    )
    assert [r.id for r in load_rules([org], builtin=False).rules] == ["ORG-002", "ORG-001"]


def test_a_rule_set_whose_files_changed_while_it_was_built_is_not_stored(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.rules import build as rulebuild

    org = org_rules(tmp_path)
    real = rulebuild.build_rules

    def edited_meanwhile(dirs: list[tuple[Path, str]]) -> RuleSet:
        built = real(dirs)
        org_rules(tmp_path, title="Flows have a lawful basis, edited")
        return built

    monkeypatch.setattr(rulebuild, "build_rules", edited_meanwhile)
    assert load_rules([org], builtin=False).rules[0].title == "Flows have a lawful basis"
    assert entries(cache) == []


# --------------------------------------------------------------------------- damaged entries


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _bad_json(data: bytes) -> bytes:
    head, _, payload = data.partition(b"\n")
    return head + b"\n" + payload.replace(b'"Rule"', b'"Rule', 1)


def _wrong_hash(data: bytes) -> bytes:
    head, _, payload = data.partition(b"\n")
    return head + b"\n" + payload.replace(b"Flows have", b"Flows lack", 1)


def _rehashed(data: bytes) -> bytes:
    """A changed payload with its hash recomputed: whole, but not a rule set."""
    head, _, _ = data.partition(b"\n")
    header = json.loads(head)
    payload = json.dumps({"Compare": ["x"]}).encode()
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    return json.dumps(header).encode() + b"\n" + payload


def _other_format(data: bytes) -> bytes:
    head, _, payload = data.partition(b"\n")
    header = json.loads(head)
    header["format"] += 1
    return json.dumps(header).encode() + b"\n" + payload


def _empty(data: bytes) -> bytes:
    return b""


@pytest.mark.parametrize(
    "damage", [_truncate, _bad_json, _wrong_hash, _rehashed, _other_format, _empty]
)
def test_a_damaged_entry_is_ignored_and_rebuilt(
    tmp_path: Path, cache: Path, builds: list[int], damage: Callable[[bytes], bytes]
) -> None:
    org = org_rules(tmp_path)
    fresh = load_rules([org], builtin=False)
    (entry,) = entries(cache)
    entry.write_bytes(damage(entry.read_bytes()))
    assert load_rules([org], builtin=False) == fresh
    assert len(builds) == 2
    assert load_rules([org], builtin=False) == fresh  # the rebuilt entry is whole again
    assert len(builds) == 2


def test_an_entry_of_another_version_is_never_read(
    tmp_path: Path, cache: Path, builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    org = org_rules(tmp_path)
    fresh = load_rules([org], builtin=False)
    (ours,) = entries(cache)
    monkeypatch.setattr(rulecache, "__version__", "99.0.0")
    assert load_rules([org], builtin=False) == fresh
    assert len(builds) == 2  # another key: a miss
    (theirs,) = set(entries(cache)) - {ours}
    theirs.write_bytes(ours.read_bytes())  # an entry of 0.3.0 under 99.0.0's name
    assert load_rules([org], builtin=False) == fresh
    assert len(builds) == 3


def test_an_entry_others_can_write_is_not_trusted(
    tmp_path: Path, cache: Path, builds: list[int]
) -> None:
    org = org_rules(tmp_path)
    fresh = load_rules([org], builtin=False)
    (entry,) = entries(cache)
    entry.chmod(0o666)
    assert load_rules([org], builtin=False) == fresh
    assert len(builds) == 2
    assert entry.stat().st_mode & 0o777 == 0o600  # replaced by a trusted one


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_an_entry_of_another_user_is_not_trusted(
    tmp_path: Path, cache: Path, builds: list[int]
) -> None:
    org = org_rules(tmp_path)
    fresh = load_rules([org], builtin=False)
    (entry,) = entries(cache)
    os.chown(entry, 12345, 12345)
    assert load_rules([org], builtin=False) == fresh
    assert len(builds) == 2


def test_a_symbolic_link_is_not_followed(tmp_path: Path, cache: Path, builds: list[int]) -> None:
    org = org_rules(tmp_path)
    load_rules([org], builtin=False)
    (entry,) = entries(cache)
    target = tmp_path / "elsewhere.json"
    entry.rename(target)
    entry.symlink_to(target)
    load_rules([org], builtin=False)
    assert len(builds) == 2
    assert not entry.is_symlink()


def test_old_entries_are_pruned(tmp_path: Path, cache: Path) -> None:
    org = org_rules(tmp_path)
    for i in range(rulecache.ENTRIES_KEPT + 3):
        org_rules(tmp_path, title=f"Flows have a lawful basis ({i})")
        load_rules([org], builtin=False)
    assert len(entries(cache)) == rulecache.ENTRIES_KEPT


# --------------------------------------------------------------------------- no cache


def review_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    fixture = FIXTURES / "exemplary-community-policing.json"
    return subprocess.run(
        [sys.executable, "-m", "compliance", "review", "--format", "json", str(fixture)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", **env},
    )


def test_a_cache_directory_that_cannot_be_made_still_reviews(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    unusable = review_cli({rulecache.ENV: str(blocker / "cache")})
    usable = review_cli({rulecache.ENV: str(tmp_path / "cache")})
    assert (unusable.returncode, unusable.stderr) == (usable.returncode, "")
    assert unusable.stdout == usable.stdout
    assert '"decision": "approve"' in usable.stdout
    assert len(entries(tmp_path / "cache")) == 1


def test_a_read_only_cache_directory_still_reviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[int]
) -> None:
    where = tmp_path / "cache"
    where.mkdir()
    monkeypatch.setenv(rulecache.ENV, str(where))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    org = org_rules(tmp_path)
    assert len(load_rules([org], builtin=False).rules) == 1
    assert len(load_rules([org], builtin=False).rules) == 1
    assert (len(builds), entries(where)) == (2, [])


@pytest.mark.parametrize("value", ["off", "OFF", " off "])
def test_the_cache_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[int], value: str
) -> None:
    monkeypatch.setenv(rulecache.ENV, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    org = org_rules(tmp_path)
    assert load_rules([org], builtin=False) == load_rules([org], builtin=False)
    assert len(builds) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["org"]


def test_where_the_cache_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(rulecache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rulecache.directory() == tmp_path / "xdg" / "compliance"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert rulecache.directory() == tmp_path / "home" / ".cache" / "compliance"
    monkeypatch.setenv(rulecache.ENV, str(tmp_path / "mine"))
    assert rulecache.directory() == tmp_path / "mine"


# --------------------------------------------------------------------------- rule errors


def test_rule_errors_are_reported_on_a_miss_as_without_a_cache(tmp_path: Path, cache: Path) -> None:
    org = org_rules(tmp_path)
    load_rules([org], builtin=False)
    bad = rule(titel="typo")
    (org / "org.yaml").write_text(
        yaml.safe_dump({"domain": "data_sharing", "rules": [bad]}, sort_keys=False),
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as info:
        load_rules([org], builtin=False)
    assert info.value.problems == [
        f"{org}/org.yaml:29: rule ORG-001: titel: unknown key (did you mean 'title'?)"
    ]
    (org / "org.yaml").write_text("domain: data_sharing\ndomain: other\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules([org], builtin=False)
    assert info.value.problems == [f"{org}/org.yaml:2:1: invalid YAML: duplicate key 'domain'"]
    assert len(entries(cache)) == 1  # nothing stored for a failed load


def test_a_rule_file_too_large_is_reported_not_cached(tmp_path: Path, cache: Path) -> None:
    org = org_rules(tmp_path)
    (org / "big.yaml").write_bytes(b"#" * (YAML_MAX_BYTES + 1))
    with pytest.raises(RuleError) as info:
        load_rules([org], builtin=False)
    assert info.value.problems == [f"{org}/big.yaml: larger than 4 MiB"]
    assert entries(cache) == []


# --------------------------------------------------------------------------- YAML


def test_libyaml_gives_what_the_position_aware_loader_gives() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "rules").glob("*.yaml"))]
    texts.append("a: &x [1, 2, {b: 2026-02-28}]\nc: *x\nd: ~\ne: 1.5\n")
    for text in texts:
        assert _fast_parse(text) == _StrictLoader(text).get_single_data()


def nested(depth: int) -> str:
    return "[" * (depth - 1) + "1" + "]" * (depth - 1)


def test_libyaml_leaves_what_breaks_a_limit_to_the_position_aware_loader() -> None:
    assert _fast_parse(nested(DEPTH_MAX)) == parse_yaml(nested(DEPTH_MAX), "f.yaml")
    with pytest.raises(_Slow):
        _fast_parse(nested(DEPTH_MAX + 1))
    with pytest.raises(RuleError) as info:
        parse_yaml(nested(DEPTH_MAX + 1), "f.yaml")
    assert info.value.problems == [
        f"f.yaml:1:{DEPTH_MAX + 1}: invalid YAML: nested deeper than {DEPTH_MAX} levels"
    ]
    with pytest.raises(_Slow):
        _fast_parse("&a [*a]")  # an alias inside what it names


# --------------------------------------------------------------------------- imports


def test_column_letters_are_openpyxl_s() -> None:
    from openpyxl.utils import get_column_letter

    assert [column_letter(i) for i in range(1, 18279)] == [
        get_column_letter(i) for i in range(1, 18279)
    ]


def imported_by(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    return set(done.stdout.split())


def test_importing_the_package_imports_none_of_it() -> None:
    modules = imported_by("import compliance")
    assert sorted(m for m in modules if m.startswith("compliance.")) == []
    assert imported_by("from compliance import Reviewer") >= {"compliance.review.reviewer"}


def test_a_cached_load_parses_no_yaml_and_builds_no_rule_models(tmp_path: Path) -> None:
    env = {rulecache.ENV: str(tmp_path / "cache")}
    code = "from compliance import load_rules\nload_rules()"
    assert "yaml" not in imported_by("import compliance.intake.yamlfile, compliance.gate.config")
    first = imported_by(code, env)
    assert {"compliance.rules.build", "compliance.rules.spec_models", "yaml"} <= first
    again = imported_by(code, env)
    assert {"compliance.rules.build", "compliance.rules.spec_models", "yaml"} & again == set()
    assert {"openpyxl", "multiprocessing"} & again == set()
