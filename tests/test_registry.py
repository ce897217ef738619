"""Tests for the authority registry (events/registry.py, DESIGN §2).

Facts are checked against the shared data beside the project
(``../shared/data/la_lookup.csv`` and ``../shared/reports/ofsted``).
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from events.registry import Authority, Registry, bare_key, default_registry, name_key

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LOOKUP = SHARED / "data" / "la_lookup.csv"
OFSTED = SHARED / "reports" / "ofsted"
CSV_PATH = REPO / "events" / "data" / "authorities.csv"
SCRIPT = REPO / "scripts" / "build_authorities.py"
COLUMNS = [
    "slug", "name", "ofsted_urn", "la_code", "ons_code", "region",
    "predecessors", "successors", "active", "abolished_on", "created_on",
]
# LA codes of authorities abolished by the reorganisations of DESIGN §2 that
# la_lookup.csv still lists: Poole (836), Northamptonshire (928), Cumbria (909).
ABOLISHED_IN_LOOKUP = {"836", "928", "909"}


def lookup_rows() -> list[dict[str, str]]:
    """Rows of the shared la_lookup.csv (it starts with a UTF-8 BOM)."""
    with LOOKUP.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The packaged registry."""
    return Registry.load()


def test_csv_has_exactly_the_agreed_columns():
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == COLUMNS


def test_csv_is_what_the_build_script_produces(tmp_path):
    out = tmp_path / "authorities.csv"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(LOOKUP), "--output", str(out)],
        check=True, capture_output=True,
    )
    assert out.read_bytes() == CSV_PATH.read_bytes()


def test_csv_rows_are_sorted_by_slug():
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        slugs = [row["slug"] for row in csv.DictReader(handle)]
    assert slugs == sorted(slugs)


def test_default_load_is_the_packaged_csv(registry):
    assert len(Registry.load(CSV_PATH)) == len(registry)
    assert default_registry().get("manchester") == registry.get("manchester")


def test_active_count_matches_lookup(registry):
    # la_lookup.csv has 156 English rows: the 153 current authorities plus
    # three it still carries although abolished (Poole, Northamptonshire,
    # Cumbria). Bournemouth, also abolished, is absent and added by the script.
    rows = lookup_rows()
    assert all(row["country"] == "England" for row in rows)
    current = [r for r in rows if r["la_code"] not in ABOLISHED_IN_LOOKUP]
    assert len(registry.active()) == len(current) == 153
    assert {a.la_code for a in registry.active()} == {r["la_code"] for r in current}
    assert len(registry) == len(rows) + 1  # + Bournemouth


def test_every_lookup_row_is_in_the_registry_with_its_codes(registry):
    for row in lookup_rows():
        authority = registry.find(row["la_code"])
        assert authority is not None, row["local_authority_ons_name"]
        assert authority.ofsted_urn == row["urn"]
        assert authority.ons_code == row["la_code_new"]
        assert authority.region == row["region_name"]


def test_manchester(registry):
    manchester = registry.get("manchester")
    assert manchester.name == "Manchester"
    assert manchester.la_code == "352"
    assert manchester.ons_code == "E08000003"
    assert manchester.ofsted_urn == "80521"
    assert manchester.region == "North West"
    assert manchester.active and manchester.predecessors == ()


def test_inverted_names_are_made_natural(registry):
    assert registry.get("bristol").name == "Bristol"
    assert registry.get("kingston-upon-hull").name == "Kingston upon Hull"
    assert registry.get("bedford").name == "Bedford"
    assert registry.get("herefordshire").name == "Herefordshire"
    assert not any("," in a.name and " of" in a.name for a in registry.all())


def test_bcp_formed_from_bournemouth_and_poole(registry):
    bcp = registry.get("bournemouth-christchurch-and-poole")
    assert bcp.name == "Bournemouth, Christchurch and Poole"
    assert set(bcp.predecessors) == {"bournemouth", "poole"}
    assert bcp.created_on == "2019-04-01" and bcp.active
    for slug, la_code in (("bournemouth", "837"), ("poole", "836")):
        old = registry.get(slug)
        assert old.la_code == la_code
        assert old.successors == ("bournemouth-christchurch-and-poole",)
        assert not old.active and old.abolished_on == "2019-04-01"
    assert registry.get("bournemouth").ofsted_urn is None  # not in the data


def test_dorset_is_one_continuing_authority_not_a_bcp_predecessor(registry):
    dorset = registry.get("dorset")
    assert dorset.active and dorset.predecessors == () and dorset.successors == ()
    assert "dorset" not in registry.lineage("bournemouth-christchurch-and-poole")


def test_northamptonshire_split(registry):
    old = registry.get("northamptonshire")
    assert old.la_code == "928" and not old.active
    assert old.abolished_on == "2021-04-01"
    assert set(old.successors) == {"north-northamptonshire", "west-northamptonshire"}
    for slug in old.successors:
        new = registry.get(slug)
        assert new.predecessors == ("northamptonshire",)
        assert new.created_on == "2021-04-01" and new.active


def test_cumbria_split(registry):
    old = registry.get("cumbria")
    assert old.la_code == "909" and not old.active
    assert old.abolished_on == "2023-04-01"
    assert set(old.successors) == {"cumberland", "westmorland-and-furness"}
    for slug in old.successors:
        new = registry.get(slug)
        assert new.predecessors == ("cumbria",)
        assert new.created_on == "2023-04-01" and new.active


def test_links_are_symmetric(registry):
    for authority in registry.all():
        for slug in authority.predecessors:
            assert authority.slug in registry.get(slug).successors
        for slug in authority.successors:
            assert authority.slug in registry.get(slug).predecessors
        assert authority.active == (authority.abolished_on is None)


def test_lineage(registry):
    assert registry.lineage("bournemouth-christchurch-and-poole") == ["bournemouth", "poole"]
    assert registry.lineage("west-northamptonshire") == ["northamptonshire"]
    assert registry.lineage("westmorland-and-furness") == ["cumbria"]
    assert registry.lineage("manchester") == []
    with pytest.raises(KeyError):
        registry.lineage("atlantis")


def test_lineage_is_recursive():
    rows = [
        Authority("a", "A", None, None, None, None, successors=("b",), active=False,
                  abolished_on="2000-04-01"),
        Authority("b", "B", None, None, None, None, predecessors=("a",),
                  successors=("c",), active=False, abolished_on="2010-04-01",
                  created_on="2000-04-01"),
        Authority("c", "C", None, None, None, None, predecessors=("b",),
                  created_on="2010-04-01"),
    ]
    assert Registry(rows).lineage("c") == ["b", "a"]


def test_every_ofsted_report_folder_resolves(registry):
    folders = sorted(p.name for p in OFSTED.iterdir() if p.is_dir())
    assert len(folders) >= 45
    missing = [slug for slug in folders if slug not in registry]
    assert missing == []


def test_ofsted_index_slugs_and_urns_agree(registry):
    with (OFSTED / "index.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            assert registry.get(row["slug"]).ofsted_urn == row["urn"], row["file"]


@pytest.mark.parametrize("query, slug", [
    ("Bournemouth, Christchurch and Poole", "bournemouth-christchurch-and-poole"),
    ("Bournemouth, Christchurch & Poole", "bournemouth-christchurch-and-poole"),
    ("Manchester City Council", "manchester"),
    ("352", "manchester"),
    ("E08000003", "manchester"),
    ("e08000003", "manchester"),
    ("80521", "manchester"),
    ("manchester", "manchester"),
    ("MANCHESTER", "manchester"),
    ("Bristol, City of", "bristol"),
    ("City of Bristol", "bristol"),
    ("Kingston Upon Hull, City of", "kingston-upon-hull"),
    ("London Borough of Newham", "newham"),
    ("Wigan Metropolitan Borough Council", "wigan"),
    ("Bedford Borough Council", "bedford"),
    ("County Durham", "durham"),
    ("Telford & Wrekin Council", "telford-and-wrekin"),
    ("St Helens", "st-helens"),
    ("City of London", "city-of-london"),
    ("Poole", "poole"),
    ("837", "bournemouth"),
])
def test_find(registry, query, slug):
    found = registry.find(query)
    assert found is not None and found.slug == slug


@pytest.mark.parametrize("query", ["", "Atlantis", "999", "Council"])
def test_find_returns_none_for_unknown(registry, query):
    assert registry.find(query) is None


def test_all_is_sorted_by_name(registry):
    names = [a.name.lower() for a in registry.all()]
    assert names == sorted(names)


def test_to_dict_is_plain(registry):
    data = registry.get("cumberland").to_dict()
    assert data["predecessors"] == ["cumbria"]
    assert data["successors"] == []
    assert data["active"] is True and data["ofsted_urn"] == "2733690"


def test_name_keys():
    assert name_key("Telford & Wrekin") == name_key("telford and wrekin")
    assert bare_key("Manchester City Council") == "manchester"
    assert bare_key("Bristol, City of") == "bristol"


def test_bad_links_are_refused():
    orphan = Authority("x", "X", None, None, None, None, predecessors=("nowhere",))
    with pytest.raises(ValueError):
        Registry([orphan])
