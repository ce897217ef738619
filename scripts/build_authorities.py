"""Build ``events/data/authorities.csv`` from ``../shared/data/la_lookup.csv``.

The registry CSV is committed; this script documents how it was made and lets a
test check that it still is exactly what the script produces.

Usage (from anywhere)::

    python scripts/build_authorities.py [--source LOOKUP.csv] [--output OUT.csv]

Defaults: source ``<repo>/../shared/data/la_lookup.csv``, output
``<repo>/events/data/authorities.csv``. Output is deterministic: rows sorted by
slug, ``\\n`` line endings, UTF-8 without BOM.

Derivation rules
----------------
* One row per row of la_lookup.csv (every row there is an English authority).
* ``name``: ``local_authority_ons_name`` made natural: "Bristol, City of" ->
  "Bristol", "Kingston Upon Hull, City of" -> "Kingston upon Hull" (linking
  words lower-cased), council-type suffix dropped ("Bedford Borough" ->
  "Bedford"). "Durham" is kept as given, so its slug is ``durham`` (the folder
  name used in ``reports/ofsted``).
* ``slug``: the name lower-cased, "&" -> "and", punctuation removed, runs of
  spaces/hyphens -> one hyphen.
* Reorganisations (DESIGN §2) come from ``REORGANISATIONS`` below, keyed by
  DfE LA code. A lookup row whose LA code is a predecessor's becomes inactive,
  with ``abolished_on`` set to the reorganisation date (the day the successors
  were created; the predecessor existed until the day before).
* Predecessors absent from la_lookup.csv are added from ``ABSENT_PREDECESSORS``
  with only codes known for certain; no Ofsted URN is invented.
* Dorset: Dorset County Council (LA 835, ONS E10000009) was replaced on
  1 April 2019 by Dorset Council (LA 838, ONS E06000059, the lookup row). It is
  kept as ONE continuing authority, slug ``dorset``, carrying the current codes;
  it is not made a predecessor of BCP, although Christchurch's children's
  services had been Dorset County's: otherwise BCP's lineage would pull in all
  of Dorset Council's post-2019 history, which is not BCP's. North Yorkshire
  and Somerset (unitary from 2023, new ONS codes, same LA codes) are likewise
  continuing authorities.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "la_lookup.csv"
DEFAULT_OUTPUT = REPO_ROOT / "events" / "data" / "authorities.csv"

COLUMNS = (
    "slug", "name", "ofsted_urn", "la_code", "ons_code", "region",
    "predecessors", "successors", "active", "abolished_on", "created_on",
)

# (date, predecessor LA codes, successor LA codes)
REORGANISATIONS = (
    ("2019-04-01", ("837", "836"), ("839",)),  # Bournemouth + Poole -> BCP
    ("2021-04-01", ("928",), ("940", "941")),  # Northamptonshire -> North, West
    ("2023-04-01", ("909",), ("942", "943")),  # Cumbria -> Cumberland, W & F
)

# Predecessors missing from la_lookup.csv, in the lookup's own column names.
# Only codes known for certain: Bournemouth's DfE LA code 837 and ONS code
# E06000028; its Ofsted URN is not in the data, so it stays blank.
ABSENT_PREDECESSORS = (
    {
        "urn": "", "la_code": "837", "la_code_new": "E06000028",
        "local_authority_ons_name": "Bournemouth", "region_name": "South West",
    },
)

_INVERSION = re.compile(r"^(?P<place>.+?),\s*(?:City|County) of$")
_TYPE_SUFFIX = re.compile(r"\s+Borough$")
_LINKING_WORDS = ("upon", "on", "and", "with", "of", "the", "in", "under")


def natural_name(ons_name: str) -> str:
    """Return the human name for an ONS-style authority name."""
    name = " ".join(ons_name.split())
    match = _INVERSION.match(name)
    if match:
        name = match.group("place")
    name = _TYPE_SUFFIX.sub("", name)
    return _lower_linking_words(name)


def _lower_linking_words(name: str) -> str:
    """Lower-case linking words other than the first ("Upon" -> "upon")."""
    words = name.split(" ")
    return " ".join(
        w.lower() if i and w.lower() in _LINKING_WORDS else w
        for i, w in enumerate(words)
    )


def slugify(name: str) -> str:
    """Return the URL slug for a name: lower-case, '&' -> 'and', hyphenated."""
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9\s-]", "", text)
    return re.sub(r"[\s-]+", "-", text).strip("-")


def read_lookup(path: Path) -> list[dict[str, str]]:
    """Read la_lookup.csv (tolerating a UTF-8 BOM) as a list of dicts."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def base_row(source: dict[str, str]) -> dict[str, str]:
    """Map one lookup row to a registry row without lineage fields."""
    name = natural_name(source["local_authority_ons_name"])
    return {
        "slug": slugify(name),
        "name": name,
        "ofsted_urn": source.get("urn", "").strip(),
        "la_code": source.get("la_code", "").strip(),
        "ons_code": source.get("la_code_new", "").strip(),
        "region": source.get("region_name", "").strip(),
        "predecessors": "",
        "successors": "",
        "active": "true",
        "abolished_on": "",
        "created_on": "",
    }


def apply_reorganisations(rows: dict[str, dict[str, str]]) -> None:
    """Set predecessors, successors, dates and active flags, in place."""
    for date, old_codes, new_codes in REORGANISATIONS:
        old = [rows[code] for code in old_codes]
        new = [rows[code] for code in new_codes]
        for row in old:
            row["successors"] = _join(row["successors"], [r["slug"] for r in new])
            row["active"] = "false"
            row["abolished_on"] = date
        for row in new:
            row["predecessors"] = _join(row["predecessors"], [r["slug"] for r in old])
            row["created_on"] = date


def _join(existing: str, slugs: list[str]) -> str:
    """Merge slugs into a space-separated, sorted, de-duplicated list."""
    return " ".join(sorted(set(existing.split()) | set(slugs)))


def build_rows(lookup: list[dict[str, str]]) -> list[dict[str, str]]:
    """Derive the registry rows, sorted by slug, from the lookup rows."""
    by_code: dict[str, dict[str, str]] = {}
    for source in list(lookup) + _missing_predecessors(lookup):
        row = base_row(source)
        if row["la_code"] in by_code:
            raise ValueError(f"duplicate LA code {row['la_code']}")
        by_code[row["la_code"]] = row
    apply_reorganisations(by_code)
    rows = sorted(by_code.values(), key=lambda r: r["slug"])
    _check_unique_slugs(rows)
    return rows


def _missing_predecessors(lookup: list[dict[str, str]]) -> list[dict[str, str]]:
    """Return the known predecessors whose LA code the lookup lacks."""
    present = {row.get("la_code", "").strip() for row in lookup}
    return [row for row in ABSENT_PREDECESSORS if row["la_code"] not in present]


def _check_unique_slugs(rows: list[dict[str, str]]) -> None:
    """Refuse to write a registry in which two authorities share a slug."""
    slugs = [row["slug"] for row in rows]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ValueError(f"duplicate slugs: {duplicates}")


def write_rows(rows: list[dict[str, str]], path: Path) -> None:
    """Write registry rows to ``path`` as UTF-8 CSV with '\\n' line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: read the lookup, write the registry CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    rows = build_rows(read_lookup(args.source))
    write_rows(rows, args.output)
    active = sum(row["active"] == "true" for row in rows)
    print(f"wrote {len(rows)} authorities ({active} active) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
