"""The proposal workbook's layout, derived from the field catalogue (never written by hand).

Two layouts share the same building blocks:

- **single**: one proposal per workbook. A *form* sheet per section (``Proposal``, ``Lead``,
  ``Activities``, ... ``Monitoring``) with a row per question: column A the field key, B the
  question, C the answer, D guidance, E a required mark. A *table* sheet per list of objects
  (``Parties``, ``Security units``, ``Funding sources``, ``Data sharing flows``,
  ``Data sharing processors``, ``Human rights mitigations``) with a header row and a row per item.
  A folder of such workbooks is one way to review many proposals.
- **register**: many proposals per workbook. A ``Proposals`` sheet with a row per proposal and a
  column per question, and the same table sheets with a leading ``Proposal id`` column that keys
  each item to its proposal.

Both carry an ``Instructions`` sheet holding the template version, the layout and the contract
version, so intake knows what it reads, and a hidden ``Lists`` sheet feeding the drop-downs.

Each template version asks the fields of one contract version (:data:`TEMPLATE_CONTRACTS`):
version 2 asks contract v2 (new rows on form sheets, new columns on table sheets, the
``Technology`` form and the ``Subcontractors`` table); version 1, the layout of earlier templates,
is the same derivation from the fields that contract v1 has, so a workbook made by an earlier
``compliance template`` still reads.

A list of objects (a table) is also a question on its parent's form, answered ``Listed`` or
``None``: a proposal that shares no data (``flows: []``) must not read as one that did not say.
A list of choices or of texts held in one cell takes ``None`` for the empty list in the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache

from compliance.proposal.fields import FieldSpec, Kind, catalogue_of

TEMPLATE_VERSION = "2"
"""Version of the workbook layout this tool writes. Bump it when sheets, columns or conventions
change, and map the new version to its contract in :data:`TEMPLATE_CONTRACTS`."""
TEMPLATE_CONTRACTS = {"1": "1", "2": "2"}
"""Template version -> the contract version whose fields it asks (the versions intake reads)."""

INSTRUCTIONS_SHEET = "Instructions"
LISTS_SHEET = "Lists"
PROPOSALS_SHEET = "Proposals"
TOP_FORM = "Proposal"

TEMPLATE_VERSION_LABEL = "Template version"
LAYOUT_LABEL = "Layout"
CONTRACT_LABEL = "Contract version"

YES, NO, UNKNOWN = "Yes", "No", "Unknown"
LISTED, NONE = "Listed", "None"

FORM_HEADERS = ("Field", "Question", "Answer", "Guidance", "Required")
FORM_KEY_COLUMN, FORM_ANSWER_COLUMN = 1, 3
PROPOSAL_ID_LABEL = "Proposal id"

ROOT_ONLY = frozenset({"schema_version"})
"""Fields the workbook does not ask: the contract version comes from the Instructions sheet."""


class Layout(str, Enum):
    single = "single"
    register = "register"


@dataclass(frozen=True)
class Question:
    """One answer cell: a row of a form, a column of the register or of a table sheet."""

    path: str
    """Generic field path from the proposal root, e.g. ``data_sharing.flows[].categories``."""
    key: str
    """The field as a form's column A writes it, relative to its sheet's section
    (``impact_assessment.status``)."""
    label: str
    """Column header in the register and in table sheets."""
    spec: FieldSpec


@dataclass(frozen=True)
class Form:
    """A section's sheet in the single layout: a row per question."""

    title: str
    section: str
    """Top-level field of the section (``""`` for the proposal's own fields)."""
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Table:
    """A list of objects: a sheet with a row per item (and, in a register, a proposal id)."""

    title: str
    path: str
    columns: tuple[Question, ...]
    item: str = "item"
    """What one row is, in words (``data flow``), from the name of the item's model."""

    @property
    def naming(self) -> Question | None:
        """The column that names an item (``Recipient``, ``Name``, ``Risk``): the first free-text
        column."""
        return next((q for q in self.columns if q.spec.kind is Kind.TEXT), None)

    @property
    def free_text(self) -> frozenset[str]:
        """The paths of the columns that take free text (a note typed there reads as an answer)."""
        return frozenset(q.path for q in self.columns if q.spec.kind in _FREE_TEXT)

    @property
    def notes(self) -> frozenset[str]:
        """The columns whose answers alone make a row a note typed in an empty row, not an item:
        free text other than the column that names an item (``Purpose``, ``Measure``)."""
        naming = self.naming
        return frozenset(p for p in self.free_text if naming is None or p != naming.path)


_FREE_TEXT = frozenset({Kind.TEXT, Kind.TEXT_LIST})


def _words(name: str) -> str:
    """``DataFlow`` -> ``data flow``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def humanise(name: str) -> str:
    """``impact_assessment.status`` -> ``Impact assessment status``."""
    text = name.replace("[]", "").replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _section_of(path: str) -> str:
    return path.split(".", 1)[0] if "." in path else ""


@cache
def forms(version: str = TEMPLATE_VERSION) -> tuple[Form, ...]:
    """Every form sheet of template ``version``, in model order; each asks its section's scalar
    fields, its lists and (as ``Listed``/``None`` questions) its tables."""
    grouped: dict[str, list[Question]] = {}
    for path, spec in catalogue_of(TEMPLATE_CONTRACTS[version]).items():
        if spec.kind is Kind.OBJECT or spec.list_path is not None or path in ROOT_ONLY:
            continue
        section = _section_of(path)
        key = path[len(section) + 1 :] if section else path
        if section:
            label = f"{humanise(section)}: {humanise(key).lower()}"
        else:
            label = PROPOSAL_ID_LABEL if key == "id" else humanise(key)
        grouped.setdefault(section, []).append(Question(path, key, label, spec))
    out = [Form(TOP_FORM if not s else humanise(s), s, tuple(q)) for s, q in grouped.items()]
    return tuple(out)


@cache
def tables(version: str = TEMPLATE_VERSION) -> tuple[Table, ...]:
    """Every table sheet of template ``version``, in model order."""
    fields = catalogue_of(TEMPLATE_CONTRACTS[version])
    out: list[Table] = []
    for path, spec in fields.items():
        if spec.kind is not Kind.OBJECT_LIST:
            continue
        columns = tuple(
            Question(item_path, item_path[len(path) + 3 :], humanise(item_path[len(path) + 3 :]), s)
            for item_path, s in fields.items()
            if s.list_path == path
        )
        item = _words(spec.model.__name__) if spec.model is not None else "item"
        out.append(Table(humanise(path), path, columns, item))
    return tuple(out)


@cache
def register_columns(version: str = TEMPLATE_VERSION) -> tuple[Question, ...]:
    """The register's ``Proposals`` columns: every form question, proposal id first."""
    questions = [q for form in forms(version) for q in form.questions]
    questions.sort(key=lambda q: q.path != "id")
    return tuple(questions)


def sheet_names(layout: Layout, version: str = TEMPLATE_VERSION) -> tuple[str, ...]:
    """The sheets intake requires, in workbook order (the Lists sheet is optional)."""
    middle = [f.title for f in forms(version)] if layout is Layout.single else [PROPOSALS_SHEET]
    return (INSTRUCTIONS_SHEET, *middle, *(t.title for t in tables(version)))


def normalise_label(text: str) -> str:
    """How headers and keys are compared: case, spacing and underscores do not matter."""
    words = " ".join(text.replace("_", " ").split()).casefold()
    return words.replace(" .", ".").replace(". ", ".")


def guidance(spec: FieldSpec) -> str:
    """What to write in an answer cell of this kind."""
    kind = spec.kind
    if kind is Kind.BOOL:
        return f"{YES}, {NO} or {UNKNOWN} (blank: not answered)."
    if kind is Kind.ENUM:
        return "One of: " + ", ".join(spec.values) + "."
    if kind is Kind.ENUM_LIST:
        return (
            "Any of: "
            + ", ".join(spec.values)
            + f". Separate several with commas; write {NONE} for none."
        )
    if kind is Kind.TEXT_LIST:
        return f"One item per line (Alt+Enter starts a new line); write {NONE} for none."
    if kind is Kind.OBJECT_LIST:
        return (
            f"{LISTED} (give the items on sheet '{humanise(spec.path)}') or {NONE}; "
            "items listed there count as Listed."
        )
    if kind is Kind.NUMBER:
        return "A whole number." if spec.integer else "A number."
    if kind is Kind.DATE:
        return "A date (YYYY-MM-DD)."
    if kind is Kind.CODE:
        standard = "ISO 3166-1 alpha-2 country" if len(spec.values[0]) == 2 else "ISO 4217 currency"
        return f"A {standard} code, e.g. {spec.values[0]}."
    return "Free text."


@cache
def places() -> dict[str, str]:
    """Where each field is answered in a single-layout workbook (``Data sharing!C3``, or a table
    sheet's column), for the field reference."""
    out: dict[str, str] = {}
    for form in forms():
        for row, question in enumerate(form.questions, start=2):
            out[question.path] = f"{form.title}!C{row}"
    for table in tables():
        for column in table.columns:
            out[column.path] = f"{table.title}, column '{column.label}'"
    return out
