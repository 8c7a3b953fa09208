"""The Hub's licence identifiers (what a card's ``license:`` may hold), how a stated licence maps to
one, and how restrictive each is.

:data:`HUB_LICENSES` is the Hub's table of licences, "License identifier (to use in repo card)" ->
"Fullname", as the Hub documentation lists it (https://huggingface.co/docs/hub/repositories-licenses;
``huggingface/hub-docs``, ``docs/hub/repositories-licenses.md`` at ``fd6cf1f``, 2026-06-06, 83 ids).
huggingface_hub does not ship this list, so it is kept here; a licence the Hub adds later is written
``other`` with its name until it is added.

Restrictiveness (:func:`license_class`) sorts the ids into classes, from least to most restrictive:
permissive (public domain, MIT, Apache, BSD, ...), attribution (CC BY, ODC-By), share-alike or
no-derivatives (CC BY-SA, CC BY-ND, GPL family, ODbL, ...), use-restricted model licences (OpenRAIL,
Llama, Gemma, research-only agreements), non-commercial (CC BY-NC*, FAIR noncommercial research). The
first two nest (each adds conditions to the one before), so of several the most restrictive one covers
the others; the last three do not (a GPL part and a CC BY-SA part each keep their own terms).
"""

from __future__ import annotations

import difflib
import re

#: Where the Hub lists its licence ids.
HUB_LICENSES_URL = "https://huggingface.co/docs/hub/repositories-licenses"

#: Every Hub licence id -> its full name (the Hub documentation's table, in its order).
HUB_LICENSES: dict[str, str] = {
    "apache-2.0": "Apache license 2.0",
    "mit": "MIT",
    "openrail": "OpenRAIL license family",
    "bigscience-openrail-m": "BigScience OpenRAIL-M",
    "creativeml-openrail-m": "CreativeML OpenRAIL-M",
    "bigscience-bloom-rail-1.0": "BigScience BLOOM RAIL 1.0",
    "bigcode-openrail-m": "BigCode Open RAIL-M v1",
    "afl-3.0": "Academic Free License v3.0",
    "artistic-2.0": "Artistic license 2.0",
    "bsl-1.0": "Boost Software License 1.0",
    "bsd": "BSD license family",
    "bsd-2-clause": 'BSD 2-clause "Simplified" license',
    "bsd-3-clause": 'BSD 3-clause "New" or "Revised" license',
    "bsd-3-clause-clear": "BSD 3-clause Clear license",
    "c-uda": "Computational Use of Data Agreement",
    "cc": "Creative Commons license family",
    "cc0-1.0": "Creative Commons Zero v1.0 Universal",
    "cc-by-2.0": "Creative Commons Attribution 2.0",
    "cc-by-2.5": "Creative Commons Attribution 2.5",
    "cc-by-3.0": "Creative Commons Attribution 3.0",
    "cc-by-4.0": "Creative Commons Attribution 4.0",
    "cc-by-sa-3.0": "Creative Commons Attribution Share Alike 3.0",
    "cc-by-sa-4.0": "Creative Commons Attribution Share Alike 4.0",
    "cc-by-nc-2.0": "Creative Commons Attribution Non Commercial 2.0",
    "cc-by-nc-3.0": "Creative Commons Attribution Non Commercial 3.0",
    "cc-by-nc-4.0": "Creative Commons Attribution Non Commercial 4.0",
    "cc-by-nd-4.0": "Creative Commons Attribution No Derivatives 4.0",
    "cc-by-nc-nd-3.0": "Creative Commons Attribution Non Commercial No Derivatives 3.0",
    "cc-by-nc-nd-4.0": "Creative Commons Attribution Non Commercial No Derivatives 4.0",
    "cc-by-nc-sa-2.0": "Creative Commons Attribution Non Commercial Share Alike 2.0",
    "cc-by-nc-sa-3.0": "Creative Commons Attribution Non Commercial Share Alike 3.0",
    "cc-by-nc-sa-4.0": "Creative Commons Attribution Non Commercial Share Alike 4.0",
    "cdla-sharing-1.0": "Community Data License Agreement – Sharing, Version 1.0",
    "cdla-permissive-1.0": "Community Data License Agreement – Permissive, Version 1.0",
    "cdla-permissive-2.0": "Community Data License Agreement – Permissive, Version 2.0",
    "wtfpl": "Do What The F*ck You Want To Public License",
    "ecl-2.0": "Educational Community License v2.0",
    "epl-1.0": "Eclipse Public License 1.0",
    "epl-2.0": "Eclipse Public License 2.0",
    "etalab-2.0": "Etalab Open License 2.0",
    "eupl-1.1": "European Union Public License 1.1",
    "eupl-1.2": "European Union Public License 1.2",
    "agpl-3.0": "GNU Affero General Public License v3.0",
    "gfdl": "GNU Free Documentation License family",
    "gpl": "GNU General Public License family",
    "gpl-2.0": "GNU General Public License v2.0",
    "gpl-3.0": "GNU General Public License v3.0",
    "lgpl": "GNU Lesser General Public License family",
    "lgpl-2.1": "GNU Lesser General Public License v2.1",
    "lgpl-3.0": "GNU Lesser General Public License v3.0",
    "isc": "ISC",
    "h-research": "H Research License",
    "intel-research": "Intel Research Use License Agreement",
    "lppl-1.3c": "LaTeX Project Public License v1.3c",
    "ms-pl": "Microsoft Public License",
    "apple-ascl": "Apple Sample Code license",
    "apple-amlr": "Apple Model License for Research",
    "mpl-2.0": "Mozilla Public License 2.0",
    "odc-by": "Open Data Commons License Attribution family",
    "odbl": "Open Database License family",
    "openmdw-1.0": "Open Model, Data & Weights License Agreement",
    "openmdw-1.1": "Open Model, Data & Weights License Agreement v1.1",
    "openrail++": "Open Rail++-M License",
    "osl-3.0": "Open Software License 3.0",
    "postgresql": "PostgreSQL License",
    "ofl-1.1": "SIL Open Font License 1.1",
    "ncsa": "University of Illinois/NCSA Open Source License",
    "unlicense": "The Unlicense",
    "zlib": "zLib License",
    "pddl": "Open Data Commons Public Domain Dedication and License",
    "lgpl-lr": "Lesser General Public License For Linguistic Resources",
    "deepfloyd-if-license": "DeepFloyd IF Research License Agreement",
    "fair-noncommercial-research-license": "FAIR Noncommercial Research License",
    "llama2": "Llama 2 Community License Agreement",
    "llama3": "Llama 3 Community License Agreement",
    "llama3.1": "Llama 3.1 Community License Agreement",
    "llama3.2": "Llama 3.2 Community License Agreement",
    "llama3.3": "Llama 3.3 Community License Agreement",
    "llama4": "Llama 4 Community License Agreement",
    "grok2-community": "Grok 2 Community License Agreement",
    "gemma": "Gemma Terms of Use",
    "unknown": "Unknown",
    "other": "Other",
}

#: Licence classes from least to most restrictive, each with its ids; within the first two classes
#: an id later in the tuple adds conditions to the ones before (Apache's patent and notice terms to
#: MIT's, a CC BY version to the one before).
LICENSE_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "permissive",
        (
            "cc0-1.0", "pddl", "unlicense", "wtfpl", "mit", "isc", "zlib", "postgresql", "ncsa", "bsd",
            "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "bsl-1.0", "apple-ascl", "afl-3.0",
            "artistic-2.0", "ms-pl", "ecl-2.0", "apache-2.0", "cdla-permissive-1.0", "cdla-permissive-2.0",
            "etalab-2.0", "c-uda", "openmdw-1.0", "openmdw-1.1", "lppl-1.3c",
        ),
    ),
    ("attribution", ("cc", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "odc-by")),
    (
        "share-alike or no-derivatives",
        (
            "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nd-4.0", "odbl", "cdla-sharing-1.0", "gfdl", "ofl-1.1",
            "mpl-2.0", "epl-1.0", "epl-2.0", "eupl-1.1", "eupl-1.2", "lgpl", "lgpl-2.1", "lgpl-3.0",
            "lgpl-lr", "gpl", "gpl-2.0", "gpl-3.0", "agpl-3.0", "osl-3.0",
        ),
    ),
    (
        "use-restricted",
        (
            "openrail", "openrail++", "bigscience-openrail-m", "creativeml-openrail-m",
            "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "llama2", "llama3", "llama3.1", "llama3.2",
            "llama3.3", "llama4", "gemma", "grok2-community", "intel-research", "h-research", "apple-amlr",
            "deepfloyd-if-license",
        ),
    ),
    (
        "non-commercial",
        (
            "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0",
            "cc-by-nc-sa-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "fair-noncommercial-research-license",
        ),
    ),
)  # fmt: skip
#: Classes whose licences nest: of several, the most restrictive one stands for all.
NESTED_CLASSES = ("permissive", "attribution")

_RANK = {
    license_id: (class_index, position)
    for class_index, (_, ids) in enumerate(LICENSE_CLASSES)
    for position, license_id in enumerate(ids)
}
_BY_NAME = {name.lower(): license_id for license_id, name in HUB_LICENSES.items()}


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
    """The restrictiveness class of a Hub id (:data:`LICENSE_CLASSES`); ``"other"`` and ``"unknown"``
    for those two ids, which tell nothing about the terms."""
    if license_id in ("other", "unknown"):
        return license_id
    return LICENSE_CLASSES[_RANK[license_id][0]][0]


def license_rank(license_id: str) -> tuple[int, int]:
    """Sort key of a Hub id: (class, position in its class), more restrictive later; ``other`` after
    every class, ``unknown`` last.

    Raises:
        KeyError: ``license_id`` is no Hub licence id.
    """
    if license_id == "other":
        return (len(LICENSE_CLASSES), 0)
    if license_id == "unknown":
        return (len(LICENSE_CLASSES) + 1, 0)
    return _RANK[license_id]


def is_noncommercial(license_id: str) -> bool:
    """Whether a Hub id forbids commercial use (the non-commercial class)."""
    return license_id in _RANK and license_class(license_id) == "non-commercial"
