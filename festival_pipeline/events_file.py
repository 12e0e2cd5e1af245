"""IMDb events a user adds by configuration: a YAML or TOML file named by FESTIVAL_EVENTS_FILE.

```yaml
events:
  - slug: locarno                     # the asset prefix, group and job: locarno, locarno_job
    name: Locarno Film Festival
    abbreviation: LOCARNO
    imdb_event_id: ev0000400
    first_year: 1946                  # the first IMDb edition: the partitions start here
    country: Switzerland
    website: https://www.locarnofestival.ch
    usual_month: 8                    # optional (default 12): the yearly schedule runs the month after
    founded_year: 1946                # optional (default first_year)
```

(TOML: one `[[events]]` table per event, same keys.) Each event becomes a `Festival` read from IMDb
alone, with its group, job, partitions and schedules like a built-in one. An entry whose slug is a
built-in festival's replaces that festival (to correct its name, website or first year); the Academy
Awards cannot be replaced (their source is oscars.org). Every mistake is one line naming the file,
the entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from festival_pipeline.model import ACADEMY_AWARDS_SLUG, Festival
from festival_pipeline.settings import ConfigurationError

REQUIRED = ("slug", "name", "abbreviation", "imdb_event_id", "first_year", "country", "website")
OPTIONAL = ("usual_month", "founded_year")
DEFAULT_USUAL_MONTH = 12
_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_EVENT_ID = re.compile(r"^ev\d{7}$")
RESERVED_SLUGS = frozenset({ACADEMY_AWARDS_SLUG, "oscars", "all", "festivals"})  # CLI targets and groups


class EventsFileError(ConfigurationError):
    """The events file cannot be used; the message is one line naming the entry and the field."""


def load_events(path: Path) -> tuple[Festival, ...]:
    """The events of a YAML (.yaml, .yml) or TOML (.toml) file, validated."""
    where = f"FESTIVAL_EVENTS_FILE {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EventsFileError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            document = yaml.safe_load(text)
        elif suffix == ".toml":
            document = tomllib.loads(text)
        else:
            raise EventsFileError(f"{where}: must end in .yaml, .yml or .toml, to say how it is written")
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise EventsFileError(f"{where}: is not valid {suffix[1:].upper()} ({' '.join(str(exc).split())})") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("events"), list):
        raise EventsFileError(f"{where}: must hold a list named `events` (one entry per IMDb event)")
    festivals = tuple(_festival(where, i, entry) for i, entry in enumerate(document["events"], start=1))
    _unique(where, festivals)
    return festivals


def with_events(built_in: Sequence[Festival], events: Sequence[Festival]) -> tuple[Festival, ...]:
    """The built-in festivals with the file's events: an event with a built-in's slug replaces it in
    place, the others come after, in the file's order. Ids and names stay unique across all of them."""
    by_slug = {event.slug: event for event in events}
    merged = (*(by_slug.pop(f.slug, f) for f in built_in), *by_slug.values())
    _unique("FESTIVAL_EVENTS_FILE", merged)
    return merged


def _festival(where: str, index: int, entry: Any) -> Festival:
    if not isinstance(entry, Mapping):
        raise EventsFileError(f"{where}: entry {index} must be a table of fields, got {type(entry).__name__}")
    label = f"{where}: entry {index}" + (f" ({entry['slug']})" if isinstance(entry.get("slug"), str) else "")

    def fail(field: str, why: str) -> EventsFileError:
        return EventsFileError(f"{label}: {field} {why}")

    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise fail(unknown[0], f"is not a field (the fields are {', '.join(REQUIRED + OPTIONAL)})")
    for field in REQUIRED:
        if entry.get(field) is None:
            raise fail(field, "is missing")
    texts = {field: entry[field] for field in ("slug", "name", "abbreviation", "imdb_event_id", "country", "website")}
    for field, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise fail(field, f"must be a non-empty text, got {value!r}")
    slug = texts["slug"]
    if not _SLUG.match(slug):
        raise fail("slug", f"must be lower-case words joined by '-' (e.g. new-horizons), got {slug!r}")
    if slug in RESERVED_SLUGS:
        raise fail("slug", f"{slug!r} is reserved (the Academy Awards' source is oscars.org, not the file)")
    if not _EVENT_ID.match(texts["imdb_event_id"]):
        raise fail("imdb_event_id", f"must look like ev0000400 (IMDb's /event/ev…/ id), got {texts['imdb_event_id']!r}")
    website = urlsplit(texts["website"])
    if website.scheme not in ("http", "https") or not website.hostname:
        raise fail("website", f"must be an http(s) URL, got {texts['website']!r}")
    first_year = _year(entry["first_year"], lambda why: fail("first_year", why))
    founded = _year(entry.get("founded_year", first_year), lambda why: fail("founded_year", why))
    month = entry.get("usual_month", DEFAULT_USUAL_MONTH)
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise fail("usual_month", f"must be a month number 1-12, got {month!r}")
    return Festival(slug=slug, name=texts["name"].strip(), abbreviation=texts["abbreviation"].strip(),
                    country=texts["country"].strip(), founded_year=founded, website=texts["website"].strip(),
                    imdb_event_id=texts["imdb_event_id"], usual_month=month, first_edition_year=first_year)


def _year(value: Any, fail: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1850 <= value <= 2100:
        raise fail(f"must be a year (e.g. 1946), got {value!r}")
    return value


def _unique(where: str, festivals: Sequence[Festival]) -> None:
    """Slugs, IMDb event ids, names and abbreviations are unique (festival_organizations' keys)."""
    for field in ("slug", "imdb_event_id", "name", "abbreviation"):
        seen: dict[str, str] = {}
        for festival in festivals:
            value = getattr(festival, field)
            if value in seen:
                raise EventsFileError(f"{where}: {festival.slug}: {field} {value!r} is already festival "
                                      f"{seen[value]!r}'s; each festival needs its own")
            seen[value] = festival.slug
