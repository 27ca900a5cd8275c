"""The YAML loaders behind :func:`compliance.intake.yamlfile.parse_yaml`, in a module of their own
so that importing :mod:`compliance.intake.yamlfile` (as the config and waivers readers do) does not
import PyYAML: a review without a YAML file to read never pays for it.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from compliance.errors import ComplianceError
from compliance.intake.yamlfile import DEPTH_MAX, EXPANDED_MAX

_Parser: Any
try:  # libyaml parses about four times faster than the pure Python parser
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = None


class _Composer(Composer):
    """Composes nodes nested at most :data:`DEPTH_MAX` deep, counting what the document holds
    with its aliases expanded (at most :data:`EXPANDED_MAX`)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        events: Any = self  # the parser's events (check_event, peek_event) come from the mixin
        mark = events.peek_event().start_mark
        alias = events.check_event(yaml.AliasEvent)
        if not alias:
            self._depth += 1
        try:
            if self._depth > DEPTH_MAX:
                raise ComposerError(None, None, f"nested deeper than {DEPTH_MAX} levels", mark)
            node = super().compose_node(parent, index)
        finally:
            if not alias:
                self._depth -= 1
        return self._counted(node, mark)

    def _counted(self, node: Any, mark: Any) -> Any:
        sizes: dict[int, int] = self.__dict__.setdefault("_sizes", {})
        if id(node) not in sizes:
            if isinstance(node, yaml.SequenceNode):
                size = 1 + sum(sizes.get(id(child), 1) for child in node.value)
            elif isinstance(node, yaml.MappingNode):
                size = 1 + sum(sizes.get(id(k), 1) + sizes.get(id(v), 1) for k, v in node.value)
            else:
                size = 1
            if size > EXPANDED_MAX:
                raise ComposerError(
                    None,
                    None,
                    f"holds more than {EXPANDED_MAX:,} values once its aliases are expanded",
                    mark,
                )
            sizes[id(node)] = size
        return node


if _Parser is not None:

    class _StrictLoader(_Parser, _Composer, SafeConstructor, Resolver):  # type: ignore[misc]
        """Safe YAML that refuses duplicate keys instead of keeping the last one, and aliases
        and deep nesting (see :class:`_Composer`); parsed by libyaml, composed here."""

        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            _Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        get_single_node = _Composer.get_single_node
        compose_document = _Composer.compose_document

else:  # pragma: no cover - PyYAML built without libyaml

    class _StrictLoader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        _Composer,
        SafeConstructor,
        Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            _Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        try:
            out[key] = loader.construct_object(value_node, deep=deep)
        except yaml.constructor.ConstructorError as exc:
            if exc.problem_mark is not value_node.start_mark or exc.context is not None:
                raise
            raise yaml.constructor.ConstructorError(  # the key a bad day is given for
                f"{key}: {exc.problem}", None, None, exc.problem_mark
            ) from None
    return out


def _timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    """An unquoted date; one that does not exist (2027-02-29) is an error at its
    line, named by its key (see :func:`_mapping`)."""
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value} is not a real date", node.start_mark
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class _Slow(Exception):
    """The fast loader leaves the document to the position-aware one."""


def _limited_size(node: Any, depth: int, sizes: dict[int, int], open_: set[int]) -> int:
    """The number of values ``node`` holds with its aliases expanded, counted as
    :class:`_Composer` counts them; :class:`_Slow` if a limit is passed or an alias refers to a
    node that holds it (which :class:`_Composer` counts in its own way)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if id(node) in open_ or depth > DEPTH_MAX:
        raise _Slow
    open_.add(id(node))
    size = 1
    children: list[Any] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    for child in children:
        if type(child) is yaml.ScalarNode and depth < DEPTH_MAX:
            size += 1  # a scalar holds one value (most nodes are scalars)
        else:
            size += _limited_size(child, depth + 1, sizes, open_)
    if size > EXPANDED_MAX:
        raise _Slow
    open_.discard(id(node))
    sizes[id(node)] = size
    return size


_FastLoader: Any = None
if _Parser is not None:

    class _FastLoader(_Parser, SafeConstructor, Resolver):  # type: ignore[misc, no-redef]
        """libyaml parses and composes; the limits are checked on the composed nodes."""

        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@functools.cache
def _libyaml_bounds_nesting() -> bool:
    """Whether libyaml refuses deep nesting itself (it composes recursively, in C)."""
    try:
        _FastLoader("[" * 100_000).get_single_node()
    except yaml.YAMLError as exc:
        return "nesting" in str(exc)
    return False  # pragma: no cover - a libyaml without a nesting limit


def _fast_parse(text: str) -> Any:
    """What the position-aware loader gives for ``text``, about ten times faster; :class:`_Slow`
    (or any exception) when it may not, and that loader is to say what is wrong."""
    if _FastLoader is None or not _libyaml_bounds_nesting():
        raise _Slow
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _limited_size(node, 1, {}, set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse(text: str, label: str, error: type[ComplianceError]) -> Any:
    """The content of ``text``, safely: duplicate keys, nesting deeper than :data:`DEPTH_MAX`
    and more than :data:`EXPANDED_MAX` values are refused. libyaml composes the document; the
    position-aware loader reads it again only to report a problem (file, line, column)."""
    try:
        return _fast_parse(text)
    except Exception:  # reported below, as the position-aware loader sees it
        pass
    try:
        loader = _StrictLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise error(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise error(f"{label}: invalid YAML: {exc}") from None
    except ValueError as exc:  # an unquoted date that does not exist: 2027-02-29
        raise error(f"{label}: invalid YAML: {exc} (a date that does not exist?)") from None
