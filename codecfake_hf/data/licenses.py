"""Every licence fact of this project, in one table that both cards read (the dataset card,
:mod:`codecfake_hf.data.dataset_card`, and the detector's model card, :mod:`codecfake_hf.publishing.detector_card`).

- :data:`HUB_LICENSES`: the Hub's licence ids (what a card's ``license:`` may hold), each with its full
  name and its restrictiveness class, and so whether it forbids commercial use. The ids and names are
  the Hub's table, "License identifier (to use in repo card)" -> "Fullname"
  (https://huggingface.co/docs/hub/repositories-licenses; ``huggingface/hub-docs``,
  ``docs/hub/repositories-licenses.md`` at ``fd6cf1f``, 2026-06-06, 83 ids). huggingface_hub does not
  ship this list, so it is kept here; a licence the Hub adds later is written ``other`` with its name
  until it is added.
- The licences of what this package itself builds from and converts, with the link to where each is
  stated: VCTK's audio (:data:`VCTK_LICENSE`), the official AASIST weights
  (:data:`AASIST_WEIGHTS_LICENSE`). A codec's weights carry the licence its registry entry states
  (:func:`config_license`); an imported corpus, the licence its module states.
- How the licence of something made of several parts is derived (:func:`combined_license`) and written
  into a card (:func:`license_fields`).

Restrictiveness classes, from least to most restrictive: permissive (public domain, MIT, Apache, BSD,
...), attribution (CC BY, ODC-By), share-alike or no-derivatives (CC BY-SA, CC BY-ND, GPL family, ODbL,
...), use-restricted model licences (OpenRAIL, Llama, Gemma, research-only agreements), non-commercial
(CC BY-NC*, FAIR noncommercial research). The first two nest (each adds conditions to the one before),
so of several the most restrictive one covers the others; the last three do not (a GPL part and a CC
BY-SA part each keep their own terms). ``other`` and ``unknown`` tell nothing about the terms and rank
after every class.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from codecfake_hf.data.labels import BONAFIDE_CONFIG

#: Where the Hub lists its licence ids.
HUB_LICENSES_URL = "https://huggingface.co/docs/hub/repositories-licenses"
#: The class of the licences that forbid commercial use.
NONCOMMERCIAL = "non-commercial"
#: Classes whose licences nest: of several, the most restrictive one stands for all.
NESTED_CLASSES = ("permissive", "attribution")


@dataclass(frozen=True)
class HubLicense:
    """One of the Hub's licence ids: ``id`` ("cc-by-nc-4.0"), ``name`` (the Hub's full name) and
    ``restrictiveness`` (its class; ``"other"`` and ``"unknown"`` for those two ids)."""

    id: str
    name: str
    restrictiveness: str

    @property
    def noncommercial(self) -> bool:
        """Whether it forbids commercial use."""
        return self.restrictiveness == NONCOMMERCIAL


#: Restrictiveness class -> {Hub id: the Hub's full name}, from the least to the most restrictive class;
#: within the first two classes an id later in the table adds conditions to the ones before (Apache's
#: patent and notice terms to MIT's, a CC BY version to the one before).
_BY_CLASS: dict[str, dict[str, str]] = {
    "permissive": {
        "cc0-1.0": "Creative Commons Zero v1.0 Universal",
        "pddl": "Open Data Commons Public Domain Dedication and License",
        "unlicense": "The Unlicense",
        "wtfpl": "Do What The F*ck You Want To Public License",
        "mit": "MIT",
        "isc": "ISC",
        "zlib": "zLib License",
        "postgresql": "PostgreSQL License",
        "ncsa": "University of Illinois/NCSA Open Source License",
        "bsd": "BSD license family",
        "bsd-2-clause": 'BSD 2-clause "Simplified" license',
        "bsd-3-clause": 'BSD 3-clause "New" or "Revised" license',
        "bsd-3-clause-clear": "BSD 3-clause Clear license",
        "bsl-1.0": "Boost Software License 1.0",
        "apple-ascl": "Apple Sample Code license",
        "afl-3.0": "Academic Free License v3.0",
        "artistic-2.0": "Artistic license 2.0",
        "ms-pl": "Microsoft Public License",
        "ecl-2.0": "Educational Community License v2.0",
        "apache-2.0": "Apache license 2.0",
        "cdla-permissive-1.0": "Community Data License Agreement – Permissive, Version 1.0",
        "cdla-permissive-2.0": "Community Data License Agreement – Permissive, Version 2.0",
        "etalab-2.0": "Etalab Open License 2.0",
        "c-uda": "Computational Use of Data Agreement",
        "openmdw-1.0": "Open Model, Data & Weights License Agreement",
        "openmdw-1.1": "Open Model, Data & Weights License Agreement v1.1",
        "lppl-1.3c": "LaTeX Project Public License v1.3c",
    },
    "attribution": {
        "cc": "Creative Commons license family",
        "cc-by-2.0": "Creative Commons Attribution 2.0",
        "cc-by-2.5": "Creative Commons Attribution 2.5",
        "cc-by-3.0": "Creative Commons Attribution 3.0",
        "cc-by-4.0": "Creative Commons Attribution 4.0",
        "odc-by": "Open Data Commons License Attribution family",
    },
    "share-alike or no-derivatives": {
        "cc-by-sa-3.0": "Creative Commons Attribution Share Alike 3.0",
        "cc-by-sa-4.0": "Creative Commons Attribution Share Alike 4.0",
        "cc-by-nd-4.0": "Creative Commons Attribution No Derivatives 4.0",
        "odbl": "Open Database License family",
        "cdla-sharing-1.0": "Community Data License Agreement – Sharing, Version 1.0",
        "gfdl": "GNU Free Documentation License family",
        "ofl-1.1": "SIL Open Font License 1.1",
        "mpl-2.0": "Mozilla Public License 2.0",
        "epl-1.0": "Eclipse Public License 1.0",
        "epl-2.0": "Eclipse Public License 2.0",
        "eupl-1.1": "European Union Public License 1.1",
        "eupl-1.2": "European Union Public License 1.2",
        "lgpl": "GNU Lesser General Public License family",
        "lgpl-2.1": "GNU Lesser General Public License v2.1",
        "lgpl-3.0": "GNU Lesser General Public License v3.0",
        "lgpl-lr": "Lesser General Public License For Linguistic Resources",
        "gpl": "GNU General Public License family",
        "gpl-2.0": "GNU General Public License v2.0",
        "gpl-3.0": "GNU General Public License v3.0",
        "agpl-3.0": "GNU Affero General Public License v3.0",
        "osl-3.0": "Open Software License 3.0",
    },
    "use-restricted": {
        "openrail": "OpenRAIL license family",
        "openrail++": "Open Rail++-M License",
        "bigscience-openrail-m": "BigScience OpenRAIL-M",
        "creativeml-openrail-m": "CreativeML OpenRAIL-M",
        "bigscience-bloom-rail-1.0": "BigScience BLOOM RAIL 1.0",
        "bigcode-openrail-m": "BigCode Open RAIL-M v1",
        "llama2": "Llama 2 Community License Agreement",
        "llama3": "Llama 3 Community License Agreement",
        "llama3.1": "Llama 3.1 Community License Agreement",
        "llama3.2": "Llama 3.2 Community License Agreement",
        "llama3.3": "Llama 3.3 Community License Agreement",
        "llama4": "Llama 4 Community License Agreement",
        "gemma": "Gemma Terms of Use",
        "grok2-community": "Grok 2 Community License Agreement",
        "intel-research": "Intel Research Use License Agreement",
        "h-research": "H Research License",
        "apple-amlr": "Apple Model License for Research",
        "deepfloyd-if-license": "DeepFloyd IF Research License Agreement",
    },
    "non-commercial": {
        "cc-by-nc-2.0": "Creative Commons Attribution Non Commercial 2.0",
        "cc-by-nc-3.0": "Creative Commons Attribution Non Commercial 3.0",
        "cc-by-nc-4.0": "Creative Commons Attribution Non Commercial 4.0",
        "cc-by-nc-sa-2.0": "Creative Commons Attribution Non Commercial Share Alike 2.0",
        "cc-by-nc-sa-3.0": "Creative Commons Attribution Non Commercial Share Alike 3.0",
        "cc-by-nc-sa-4.0": "Creative Commons Attribution Non Commercial Share Alike 4.0",
        "cc-by-nc-nd-3.0": "Creative Commons Attribution Non Commercial No Derivatives 3.0",
        "cc-by-nc-nd-4.0": "Creative Commons Attribution Non Commercial No Derivatives 4.0",
        "fair-noncommercial-research-license": "FAIR Noncommercial Research License",
    },
    "other": {"other": "Other"},
    "unknown": {"unknown": "Unknown"},
}
#: Every Hub licence id -> its row of the table.
HUB_LICENSES: dict[str, HubLicense] = {
    license_id: HubLicense(license_id, name, restrictiveness)
    for restrictiveness, licenses in _BY_CLASS.items()
    for license_id, name in licenses.items()
}
_RANK = {
    license_id: (class_index, position)
    for class_index, licenses in enumerate(_BY_CLASS.values())
    for position, license_id in enumerate(licenses)
}
_BY_NAME = {row.name.lower(): license_id for license_id, row in HUB_LICENSES.items()}


def _spelled(text: str) -> str:
    """``text`` before any parenthesis, lower case, runs of spaces and underscores as one hyphen."""
    return re.sub(r"[\s_]+", "-", text.split("(")[0].strip().lower())


def hub_license_id(text: str) -> str:
    """The Hub licence id of a stated licence, or ``"other"`` when the Hub has none for it.

    Accepted: an id in any case ("GPL-3.0"), the Hub's full name ("GNU General Public License v3.0"),
    and the usual written forms, with a remark in parentheses ("CC BY-NC 4.0 (non-commercial)" ->
    "cc-by-nc-4.0", "MIT (README statement)" -> "mit").
    """
    stated = text.split("(")[0].strip().lower()
    if stated in _BY_NAME:
        return _BY_NAME[stated]
    candidate = _spelled(text)
    return candidate if candidate in HUB_LICENSES else "other"


def closest_license_id(text: str) -> str | None:
    """The Hub id closest to ``text`` when ``text`` maps to none (a typo such as "cc-by-40"), else None."""
    if hub_license_id(text) != "other" or _spelled(text) == "other":
        return None
    matches = difflib.get_close_matches(_spelled(text), list(HUB_LICENSES), n=1, cutoff=0.8)
    return matches[0] if matches else None


def license_slug(text: str) -> str:
    """``text`` (a licence name) as a card's ``license_name``: lower case, runs of other characters
    than letters, digits and dots as one hyphen ("My Terms (v2)" -> "my-terms")."""
    return re.sub(r"[^a-z0-9.]+", "-", text.split("(")[0].lower()).strip("-")


def license_class(license_id: str) -> str:
    """The restrictiveness class of a Hub id (its row of :data:`HUB_LICENSES`).

    Raises:
        KeyError: ``license_id`` is no Hub licence id.
    """
    return HUB_LICENSES[license_id].restrictiveness


def license_rank(license_id: str) -> tuple[int, int]:
    """Sort key of a Hub id: (class, position in its class), more restrictive later; ``other`` after
    every class, ``unknown`` last.

    Raises:
        KeyError: ``license_id`` is no Hub licence id.
    """
    return _RANK[license_id]


def is_noncommercial(license_id: str) -> bool:
    """Whether a Hub id forbids commercial use (False for a text that is no Hub id)."""
    return license_id in HUB_LICENSES and HUB_LICENSES[license_id].noncommercial


@dataclass(frozen=True)
class ConfigLicense:
    """The licence of one config's audio (or of a detector's weights).

    Attributes:
        config: config name ("bonafide", "E", ...), or what the licence is of.
        license: Hub licence id ("cc-by-nc-4.0"), or "other".
        license_name: the licence as stated by its source (registry text for codec weights).
        license_link: where the licence is stated (the weights' Hub repo, VCTK's DOI), or "".
        combines: for a licence that stands for several (:func:`combined_license`), their Hub ids.
    """

    config: str
    license: str
    license_name: str
    license_link: str
    combines: tuple[str, ...] = ()

    @property
    def noncommercial(self) -> bool:
        """Whether it (or one of the licences it combines) forbids commercial use."""
        return any(is_noncommercial(license_id) for license_id in (self.license, *self.combines))


#: VCTK's audio, the bona fide config of a VCTK build: CC BY 4.0, as its DOI page states.
VCTK_LICENSE = ConfigLicense(BONAFIDE_CONFIG, "cc-by-4.0", "CC BY 4.0", "https://doi.org/10.7488/ds/2645")
#: The official AASIST weights (trained on ASVspoof 2019 LA), which ``codecfake convert-aasist`` converts.
AASIST_WEIGHTS_LICENSE = ConfigLicense("ASVspoof 2019 LA (official AASIST weights)", "mit", "MIT", "")
_HUB = "https://huggingface.co"


def config_license(config: str) -> ConfigLicense:
    """The licence of ``config``'s audio in a VCTK build: VCTK's for ``bonafide``, the codec weights'
    for a subset (its registry entry's licence text, linked to the weights' Hub repo)."""
    if config == BONAFIDE_CONFIG:
        return VCTK_LICENSE
    from codecfake_hf.codecs.registry import get_spec

    spec = get_spec(config)
    return ConfigLicense(spec.id, hub_license_id(spec.license), spec.license, f"{_HUB}/{spec.repo_id}")


def combined_license(parts: Sequence[ConfigLicense], config: str) -> ConfigLicense:
    """The licence of something made from all of ``parts`` (a detector trained on them): the most
    restrictive part (:func:`license_rank`). Permissive and attribution licences nest, so the strictest
    of them stands for the rest; share-alike, use-restricted, non-commercial and unnamed (``other``)
    licences do not, so two different ones among the parts make ``other`` whose name joins them
    ("cc-by-sa-4.0-and-gpl-3.0"). A part whose licence is ``unknown`` makes the whole unknown."""
    strictest = max(parts, key=lambda part: license_rank(part.license))
    if strictest.license == "unknown":
        return strictest
    own_terms = {
        (part.license, part.license_name if part.license == "other" else ""): part
        for part in parts
        if license_class(part.license) not in NESTED_CLASSES
    }
    if len(own_terms) <= 1:
        return strictest
    names = sorted(
        {
            license_slug(part.license_name) if part.license == "other" else part.license
            for part in own_terms.values()
        }
    )
    return ConfigLicense(config, "other", "-and-".join(names), "", tuple(sorted({i for i, _ in own_terms})))


def license_fields(parts: Sequence[ConfigLicense]) -> dict:
    """A card's licence fields for audio under the licences ``parts``: ``license`` (every Hub id,
    sorted) and, for those the Hub has no id for, ``license_name`` (and ``license_link`` when they
    have one source)."""
    fields: dict = {"license": sorted({part.license for part in parts})}
    other = [part for part in parts if part.license == "other"]
    if other:  # the Hub has no id for these: name them, and link the one source when there is one
        fields["license_name"] = "-and-".join(dict.fromkeys(license_slug(o.license_name) for o in other))
        if len({o.license_link for o in other}) == 1 and other[0].license_link:
            fields["license_link"] = other[0].license_link
    return fields
