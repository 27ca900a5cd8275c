"""Words as people write them: counts ("1 rule", "2 rules") and the name a typo was meant to be."""

from __future__ import annotations

from collections.abc import Sequence


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural (``noun + "s"`` unless given) unless ``n`` is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name``, compared without regard to case, or ``None`` when none
    is close enough."""
    by_folded = {k.casefold(): k for k in known}
    import difflib  # noqa: PLC0415 - only when a name is not known

    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """`` (did you mean X?)`` for the closest known name, or nothing."""
    close = closest(name, known)
    return f" (did you mean {close}?)" if close else ""
