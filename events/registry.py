"""The registry of English children's services authorities (DESIGN §2).

Each authority is one event stream, named by its slug. The registry is read
from ``events/data/authorities.csv`` (built by ``scripts/build_authorities.py``
from facts in the shared la_lookup.csv) and records reorganisations: an
abolished authority names its successors, a new one its predecessors, so a
successor's timeline can show its predecessors' history via ``lineage``.

No Flask and no I/O at import time: the CSV is read by ``Registry.load``.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Iterable, Iterator

COLUMNS = (
    "slug", "name", "ofsted_urn", "la_code", "ons_code", "region",
    "predecessors", "successors", "active", "abolished_on", "created_on",
)

# Words naming the kind of council, not the place; stripped by ``find``.
_PREFIXES = (
    "london borough of ", "royal borough of ", "metropolitan borough of ",
    "city and county of ", "borough of ", "city of ", "county of ", "the ",
    "county ",
)
_SUFFIXES = (
    " metropolitan borough council", " metropolitan district council",
    " city council", " county council", " borough council",
    " district council", " council", " city of", " county of", " borough",
)

# Words reports put around a council's name ("Portsmouth City", "Cheshire East Unitary Authority").
_COUNCIL_WORDS = {"city", "borough", "county", "council", "metropolitan", "district", "unitary", "authority",
                  "royal", "london", "of", "the"}


@dataclass(frozen=True)
class Authority:
    """One children's services authority, past or present."""

    slug: str
    name: str
    ofsted_urn: str | None
    la_code: str | None
    ons_code: str | None
    region: str | None
    predecessors: tuple[str, ...] = ()
    successors: tuple[str, ...] = ()
    active: bool = True
    abolished_on: str | None = None
    created_on: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, str]) -> "Authority":
        """Build an authority from one CSV row (strings; blanks mean None)."""
        return cls(
            slug=_required(row, "slug"),
            name=_required(row, "name"),
            ofsted_urn=_optional(row.get("ofsted_urn")),
            la_code=_optional(row.get("la_code")),
            ons_code=_optional(row.get("ons_code")),
            region=_optional(row.get("region")),
            predecessors=tuple((row.get("predecessors") or "").split()),
            successors=tuple((row.get("successors") or "").split()),
            active=_parse_bool(row.get("active", "")),
            abolished_on=_parse_date(row.get("abolished_on")),
            created_on=_parse_date(row.get("created_on")),
        )

    def to_dict(self) -> dict:
        """Return the authority as a plain, JSON-ready dict (tuples as lists)."""
        data = asdict(self)
        data["predecessors"] = list(self.predecessors)
        data["successors"] = list(self.successors)
        return data


def _required(row: dict[str, str], key: str) -> str:
    """Return a non-blank field or raise ValueError."""
    value = _optional(row.get(key))
    if value is None:
        raise ValueError(f"authority row without {key}: {row!r}")
    return value


def _optional(value: str | None) -> str | None:
    """Return the stripped value, or None when blank."""
    value = (value or "").strip()
    return value or None


def _parse_bool(value: str) -> bool:
    """Parse 'true'/'false' strictly."""
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"active must be true or false, not {value!r}")
    return text == "true"


def _parse_date(value: str | None) -> str | None:
    """Check an optional ISO date and return it unchanged (or None)."""
    text = _optional(value)
    if text is not None:
        date.fromisoformat(text)
    return text


def name_key(text: str) -> str:
    """Normalise a name for matching: case, punctuation and '&' ignored."""
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[-_/]", " ", text)
    text = re.sub(r"[^a-z0-9\s]", "", text)
    return " ".join(text.split())


def bare_key(text: str) -> str:
    """Return ``name_key`` with council-type words ("City Council",
    "London Borough of", ", City of" ...) stripped from both ends."""
    key = name_key(text)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key, changed = key[len(prefix):], True
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
    return key


class Registry:
    """All known authorities, looked up by slug, name or code."""

    def __init__(self, authorities: Iterable[Authority]):
        """Index the given authorities; slugs must be unique and lineage known."""
        self._by_slug: dict[str, Authority] = {}
        for authority in authorities:
            if authority.slug in self._by_slug:
                raise ValueError(f"duplicate slug {authority.slug!r}")
            self._by_slug[authority.slug] = authority
        self._check_links()
        self._codes = self._index(lambda a: _codes_of(a))
        self._names = self._index(lambda a: {name_key(a.name), name_key(a.slug)})
        self._bare = self._index(lambda a: {bare_key(a.name)})

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Registry":
        """Read a registry CSV; by default the one packaged in ``events``."""
        if path is None:
            text = (files("events") / "data/authorities.csv").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_csv_text(text)

    @classmethod
    def from_csv_text(cls, text: str) -> "Registry":
        """Build a registry from CSV text with the registry's columns."""
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"authorities CSV lacks columns {sorted(missing)}")
        return cls(Authority.from_row(row) for row in reader)

    def _check_links(self) -> None:
        """Refuse predecessor/successor slugs that are not in the registry."""
        for authority in self._by_slug.values():
            for slug in authority.predecessors + authority.successors:
                if slug not in self._by_slug:
                    raise ValueError(f"{authority.slug} links to unknown {slug!r}")

    def _index(self, keys_of) -> dict[str, str | None]:
        """Map each key to its slug; a key shared by two authorities maps to None."""
        index: dict[str, str | None] = {}
        for authority in self._by_slug.values():
            for key in keys_of(authority):
                if key:
                    seen = index.get(key, authority.slug)
                    index[key] = authority.slug if seen == authority.slug else None
        return index

    def get(self, slug: str) -> Authority | None:
        """Return the authority with this exact slug, or None."""
        return self._by_slug.get(slug)

    def __contains__(self, slug: object) -> bool:
        """True when ``slug`` is a known authority slug."""
        return slug in self._by_slug

    def __len__(self) -> int:
        """Number of authorities, active or not."""
        return len(self._by_slug)

    def __iter__(self) -> Iterator[Authority]:
        """Iterate over authorities in slug order."""
        return iter(sorted(self._by_slug.values(), key=lambda a: a.slug))

    def all(self) -> list[Authority]:
        """Return every authority (active or abolished), sorted by name."""
        return sorted(self._by_slug.values(), key=lambda a: (a.name.lower(), a.slug))

    def active(self) -> list[Authority]:
        """Return the authorities that exist today, sorted by name."""
        return [a for a in self.all() if a.active]

    def find(self, name_or_code: str | int) -> Authority | None:
        """Find an authority by slug, name, Ofsted URN, LA code or ONS code.

        Names match ignoring case, punctuation, '&' versus 'and' and council
        words ("Manchester City Council", "London Borough of Newham",
        "Bristol, City of"). Returns None when nothing, or more than one
        authority, matches.
        """
        text = str(name_or_code).strip()
        if not text:
            return None
        if text in self._by_slug:
            return self._by_slug[text]
        for index, key in (
            (self._codes, text.upper()),
            (self._names, name_key(text)),
            (self._bare, bare_key(text)),
        ):
            slug = index.get(key)
            if slug:
                return self._by_slug[slug]
        return None

    def match_printed(self, name: str) -> tuple[Authority | None, str]:
        """Match a name as printed on a report, saying how it matched.

        Reports print names ``find`` does not know ("Cheshire East Unitary
        Authority", "Portsmouth City", "East Riding"): failing ``find``, the
        name is tried without council words at either end, then as the start
        of exactly one authority's name. Returns (None, reason) when nothing
        or more than one authority fits.
        """
        found = self.find(name)
        if found is not None:
            return found, f"matched {name!r} to {found.name}"
        words = name.split()
        while words and words[-1].casefold() in _COUNCIL_WORDS:
            words.pop()
        while words and words[0].casefold() in _COUNCIL_WORDS:
            words.pop(0)
        shorter = " ".join(words)
        if shorter and shorter != name and (found := self.find(shorter)) is not None:
            return found, f"matched {name!r} without council words ({shorter!r}): {found.name}"
        key = bare_key(shorter) if shorter else ""
        starting = [a for a in self._by_slug.values() if key and bare_key(a.name).startswith(key + " ")]
        if len(starting) == 1:
            return starting[0], f"matched {name!r} to the only authority whose name begins with it: {starting[0].name}"
        return None, f"an English authority named {name!r}"

    def lineage(self, slug: str) -> list[str]:
        """Return the slugs of all predecessors of ``slug``, recursively.

        Nearest first (breadth-first), each once, without ``slug`` itself.
        Raises KeyError for an unknown slug.
        """
        if slug not in self._by_slug:
            raise KeyError(slug)
        found: list[str] = []
        queue = list(self._by_slug[slug].predecessors)
        while queue:
            current = queue.pop(0)
            if current != slug and current not in found:
                found.append(current)
                queue.extend(self._by_slug[current].predecessors)
        return found


def _codes_of(authority: Authority) -> set[str]:
    """Return the authority's codes, upper-cased, for exact lookup."""
    codes = (authority.ofsted_urn, authority.la_code, authority.ons_code)
    return {code.upper() for code in codes if code}


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """Return the packaged registry, loaded once on first use."""
    return Registry.load()
