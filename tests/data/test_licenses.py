"""The licence table (:mod:`codecfake_hf.data.licenses`): every id the Hub lists maps to itself, names and
written forms map to their id, anything else is ``other``; restrictiveness classes cover every id; a
detector's licence combines its training data's."""

from __future__ import annotations

import pytest

from codecfake_hf.data.licenses import (
    HUB_LICENSES,
    ConfigLicense,
    closest_license_id,
    combined_license,
    hub_license_id,
    is_noncommercial,
    license_class,
    license_rank,
)


def test_every_hub_id_and_name_maps_to_itself():
    assert len(HUB_LICENSES) == 83
    for license_id, row in HUB_LICENSES.items():
        name = row.name
        assert row.id == license_id
        assert hub_license_id(license_id) == license_id
        assert hub_license_id(license_id.upper()) == license_id
        assert hub_license_id(name) == license_id
        assert hub_license_id(name.upper()) == license_id


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        ("gpl-3.0", "gpl-3.0"),
        ("cc-by-sa-3.0", "cc-by-sa-3.0"),
        ("bsd-3-clause", "bsd-3-clause"),
        ("odc-by", "odc-by"),
        ("CC BY 4.0", "cc-by-4.0"),
        ("CC BY-NC 4.0 (non-commercial)", "cc-by-nc-4.0"),
        ("cc_by_sa_4.0", "cc-by-sa-4.0"),
        ("GNU General Public License v3.0", "gpl-3.0"),
        ("Open Data Commons License Attribution family", "odc-by"),
        ("MIT (README statement; no LICENSE file upstream)", "mit"),
        ("llama3.1", "llama3.1"),
        ("Some custom terms", "other"),
        ("cc-by-40", "other"),
    ],
)
def test_stated_licences_map_to_hub_ids(stated, expected):
    assert hub_license_id(stated) == expected


def test_an_unknown_licence_suggests_the_closest_id():
    assert closest_license_id("cc-by-40") == "cc-by-4.0"
    assert closest_license_id("gpl3.0") == "gpl-3.0"
    assert closest_license_id("My Lab Terms v2") is None
    assert closest_license_id("cc-by-4.0") is None  # a Hub id needs no suggestion


def test_every_id_has_exactly_one_restrictiveness_class():
    """One table: its rows grouped by class from the least to the most restrictive, each of the Hub's 83
    ids once (an id written under two classes would leave fewer), ``other`` and ``unknown`` last."""
    order = [
        "permissive", "attribution", "share-alike or no-derivatives", "use-restricted", "non-commercial", "other",
        "unknown",
    ]  # fmt: skip
    classes = [row.restrictiveness for row in HUB_LICENSES.values()]
    assert classes == sorted(classes, key=order.index) and set(classes) == set(order)
    assert classes.count("other") == classes.count("unknown") == 1
    ranks = [license_rank(license_id) for license_id in HUB_LICENSES]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert license_class("gpl-3.0") == "share-alike or no-derivatives"
    assert is_noncommercial("cc-by-nc-sa-4.0") and is_noncommercial("fair-noncommercial-research-license")
    assert not is_noncommercial("cc-by-4.0") and not is_noncommercial("other")


def _part(license_id: str, name: str = "") -> ConfigLicense:
    return ConfigLicense("x", license_id, name or license_id, "")


@pytest.mark.parametrize(
    ("parts", "expected", "name"),
    [
        (["mit", "cc-by-4.0"], "cc-by-4.0", None),
        (["mit", "apache-2.0"], "apache-2.0", None),
        (["cc0-1.0", "bsd-3-clause", "odc-by"], "odc-by", None),
        (["cc-by-4.0", "gpl-3.0"], "gpl-3.0", None),
        (["cc-by-4.0", "cc-by-nc-4.0", "cc-by-nc-4.0"], "cc-by-nc-4.0", None),
        (["cc-by-sa-4.0", "gpl-3.0", "mit"], "other", "cc-by-sa-4.0-and-gpl-3.0"),
        (["cc-by-nc-4.0", "llama3"], "other", "cc-by-nc-4.0-and-llama3"),
        (["cc-by-4.0", "unknown", "cc-by-nc-4.0"], "unknown", None),
    ],
)
def test_a_detector_gets_the_most_restrictive_licence_of_its_data(parts, expected, name):
    combined = combined_license([_part(p) for p in parts], "training data")
    assert combined.license == expected
    if name:
        assert combined.license_name == name
    assert combined.noncommercial == any(is_noncommercial(p) for p in parts if expected != "unknown")


def test_two_unnamed_licences_are_named_together():
    parts = [_part("cc-by-4.0"), _part("other", "Lab Terms (v2)"), _part("other", "Corpus EULA")]
    combined = combined_license(parts, "training data")
    assert (combined.license, combined.license_name) == ("other", "corpus-eula-and-lab-terms")
    one = combined_license(parts[:2], "training data")
    assert (one.license, one.license_name) == ("other", "Lab Terms (v2)")
