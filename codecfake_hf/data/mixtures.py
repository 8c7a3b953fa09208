"""Mixture configs of a built CodecFake folder: named configs that pool several codec subsets (and the
bona fide audio) by listing their shards, so ``load_dataset(folder, "all")`` trains on the union and a
leave-one-out config holds out a whole codec family or taxonomy class for testing. No audio is copied.

A mixture is written ``NAME=SELECTION`` (``codecfake build --mixture``):

- ``SELECTION := BASE { "-" TERM }``: the subsets ``BASE`` selects, minus those each ``TERM`` selects;
- ``BASE := "all" | TERM``: every built subset, or those ``TERM`` selects;
- ``TERM := FIELD ":" VALUE | SUBSET``: the built subsets whose taxonomy ``FIELD`` (``family``,
  ``quantizer``, ``auxiliary``, ``decoder_domain``; see :mod:`codecfake_hf.evaluation.taxonomy`) is ``VALUE``
  (any case; a family is also matched by its module name, e.g. ``funcodec``), or one subset id.
- ``all`` alone is short for ``all=all``.

Examples: ``all``; ``heldout-frequency=all-decoder_domain:frequency`` (trains on every time-domain
decoder; the frequency-domain subsets are the test); ``no-funcodec=all-family:funcodec``;
``mvq=quantizer:MVQ-E``. The mixture's held-out subsets are those ``BASE`` selects that a ``TERM``
removes: ``codecfake evaluate --subsets <held-out>`` on the same folder is the held-out test.

The selection is kept as written (``build_report.json``) and resolved again against the subsets of
each build, so ``all`` grows when a later build adds a subset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from codecfake_hf.codecs.registry import CODECS, TAXONOMY_FIELDS, TAXONOMY_VALUES
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.errors import CodecFakeError

#: The selection ``all`` (every built subset), and the config name ``all`` alone stands for.
ALL = "all"
#: Config names a mixture cannot take (the card's pooled configs).
RESERVED_NAMES = ("default", BONAFIDE_CONFIG)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: The taxonomy of configs that are no registered codec (an imported corpus's own codecs): config ->
#: {taxonomy field: value}. A config in neither this table nor the registry matches no term.
Taxonomy = Mapping[str, Mapping[str, str]]


class MixtureSpecError(CodecFakeError, ValueError):
    """A mixture spec does not parse, names an unknown taxonomy value, or selects no built subset."""


@dataclass(frozen=True)
class Term:
    """One selector of a mixture: ``field`` (a taxonomy field, or ``"subset"`` for one id) == ``value``."""

    field: str
    value: str

    def matches(self, codec_id: str, taxonomy: Taxonomy | None = None) -> bool:
        """Whether config ``codec_id`` is selected: by its labels in ``taxonomy`` when listed there,
        else by its registry spec (a registered family also by its module name, ``dac``)."""
        if self.field == "subset":
            return codec_id.lower() == self.value.lower()
        spec = CODECS.get(codec_id)
        values = set()
        if taxonomy is not None and codec_id in taxonomy:
            values.add(str(taxonomy[codec_id].get(self.field, "")).lower())
        elif spec is not None:
            values.add(str(getattr(spec, self.field)).lower())
        if self.field == "family" and spec is not None:
            values.add(spec.family_module.lower())
        return self.value.lower() in values

    def __str__(self) -> str:
        return self.value if self.field == "subset" else f"{self.field}:{self.value}"


@dataclass(frozen=True)
class Mixture:
    """A parsed mixture spec: config ``name``; ``base`` (None: every built subset) minus ``excluded``."""

    name: str
    base: Term | None
    excluded: tuple[Term, ...]

    @property
    def selection(self) -> str:
        """The selection as written back (``all-decoder_domain:frequency``)."""
        return "-".join([ALL if self.base is None else str(self.base), *map(str, self.excluded)])

    @property
    def spec(self) -> str:
        return f"{self.name}={self.selection}"

    def resolve(
        self, subsets: Sequence[str], taxonomy: Taxonomy | None = None
    ) -> tuple[list[str], list[str]]:
        """``(included, held_out)``: the subsets of ``subsets`` (built codec ids, or an import's configs,
        whose labels ``taxonomy`` gives, in that order) the mixture pools, and those its exclusions
        remove from the base."""
        base = [
            s
            for s in subsets
            if s != BONAFIDE_CONFIG and (self.base is None or self.base.matches(s, taxonomy))
        ]
        held_out = [s for s in base if any(term.matches(s, taxonomy) for term in self.excluded)]
        return [s for s in base if s not in held_out], held_out

    def check(self, subsets: Sequence[str], taxonomy: Taxonomy | None = None) -> None:
        """Raise :class:`MixtureSpecError` unless the mixture pools at least one of ``subsets`` and each
        of its terms selects one (a term that selects nothing is a typo or a subset not built)."""
        built = [s for s in subsets if s != BONAFIDE_CONFIG]
        where = f"built subsets: {', '.join(built) or 'none'}"
        for term in ([self.base] if self.base is not None else []) + list(self.excluded):
            if not any(term.matches(s, taxonomy) for s in built):
                raise MixtureSpecError(f"mixture {self.spec!r}: {term} selects no built subset ({where})")
        if not self.resolve(subsets, taxonomy)[0]:
            raise MixtureSpecError(f"mixture {self.spec!r}: selects no subset to train on ({where})")


def allowed_values(field: str) -> list[str]:
    """The values ``field`` takes: a family of the registry (also by module name), else the registry's
    vocabulary (:data:`~codecfake_hf.codecs.registry.TAXONOMY_VALUES`, which an imported corpus's
    codecs are labelled in too)."""
    if field == "family":
        values = [value for spec in CODECS.values() for value in (spec.family, spec.family_module)]
        return list(dict.fromkeys(values))
    return list(TAXONOMY_VALUES[field])


def _term(text: str, spec: str) -> Term:
    field, colon, value = text.partition(":")
    if not colon:
        if text.lower() not in {codec_id.lower() for codec_id in CODECS}:
            raise MixtureSpecError(
                f"mixture {spec!r}: {text!r} is no subset id and no FIELD:VALUE; fields are "
                f"{', '.join(TAXONOMY_FIELDS)}, subset ids {', '.join(CODECS)}"
            )
        return Term("subset", next(c for c in CODECS if c.lower() == text.lower()))
    if field not in TAXONOMY_FIELDS:
        raise MixtureSpecError(
            f"mixture {spec!r}: unknown taxonomy field {field!r}; fields are {', '.join(TAXONOMY_FIELDS)}"
        )
    allowed = allowed_values(field)
    if value.lower() not in {v.lower() for v in allowed}:
        raise MixtureSpecError(
            f"mixture {spec!r}: {field} {value!r} is not a value; allowed: {', '.join(allowed)}"
        )
    return Term(field, value)


def parse_mixture(spec: str) -> Mixture:
    """Parse ``NAME=SELECTION`` (or ``all``); see the module docstring for the grammar.

    Raises:
        MixtureSpecError: one line naming the problem and what is allowed (fields, values, ids).
    """
    name, equals, selection = spec.strip().partition("=")
    name, selection = name.strip(), selection.strip()
    if not equals:
        if name != ALL:
            raise MixtureSpecError(
                f"mixture {spec!r}: write NAME=SELECTION, e.g. heldout-frequency=all-decoder_domain:frequency"
            )
        selection = ALL
    if not _NAME.fullmatch(name):
        raise MixtureSpecError(f"mixture {spec!r}: the name must be letters, digits, '_', '.' or '-'")
    if name.lower() in {c.lower() for c in (*CODECS, *RESERVED_NAMES)}:
        raise MixtureSpecError(
            f"mixture {spec!r}: {name!r} is already a config (a subset, default or bonafide); choose another name"
        )
    # split at "-" only where a term starts, so values with dashes ("X-codec 2") stay whole
    starts = "|".join([r"\w+:"] + [rf"{re.escape(c)}(?=-|$)" for c in CODECS])
    parts = re.split(rf"-(?=(?:{starts}))", selection, flags=re.IGNORECASE)
    if not parts[0]:
        raise MixtureSpecError(f"mixture {spec!r}: the selection must start with 'all' or FIELD:VALUE")
    if parts[0].lower().startswith(f"{ALL}-"):  # "all-" and no term after it
        _term(parts[0][len(ALL) + 1 :], spec)
    base = None if parts[0].lower() == ALL else _term(parts[0], spec)
    return Mixture(name, base, tuple(_term(part, spec) for part in parts[1:]))
