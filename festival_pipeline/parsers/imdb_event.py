"""Parser for IMDb event edition pages (``/event/{evid}/{YEAR}/{N}/``).

The data is read from the Next.js ``<script id="__NEXT_DATA__">`` JSON, at
``props.pageProps`` (``editionInfo``, ``edition.awards[]``, ``historyEventEditions[]``).
The visible HTML and the other JSON scripts on the page (JSON-LD, ``imdb-ads-config``)
are ignored. Every value read is type-checked: an unexpected shape raises
PageParseError naming the URL and the JSON path, so a changed page never turns
into a silently empty ceremony. Two facts are required although a page could omit
them without breaking its shape:

* ``historyEventEditions``, the event's edition list: without it every year would look
  like a year without an edition;
* complete categories: a category whose ``nominations.pageInfo.hasNextPage`` is true
  lists only its first nominations. A page cannot page on, so it fails instead of yielding
  a partial category, which would delete the nominations of the next page when written
  (IMDb's GraphQL API pages on: ``imdb_graphql.EditionAnswers``).

``categories_of_awards`` and ``edition_refs`` read the API's answers too: they have the same shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import PageParseError
from .records import (
    ImdbCategory,
    ImdbEditionPage,
    ImdbEditionRef,
    ImdbName,
    ImdbNomination,
    ImdbTitle,
)

__all__ = ["categories_of_awards", "edition_refs", "extract_next_data", "parse_imdb_edition_page"]

_NEXT_DATA_OPEN = re.compile(r"""<script\b[^>]*\bid\s*=\s*["']?__NEXT_DATA__\b[^>]*>""", re.IGNORECASE)
_URL_EVENT_RE = re.compile(r"/event/(ev\d+)")

_PRIMARY_KINDS = {"AwardedTitles": "titles", "AwardedNames": "names"}


def extract_next_data(html: str, url: str) -> dict:
    """The ``__NEXT_DATA__`` JSON object of a Next.js page."""
    if not isinstance(html, str):
        raise PageParseError(url, f"page is {type(html).__name__}, expected str")
    start = _next_data_start(html)
    if start < 0:
        raise PageParseError(url, "no __NEXT_DATA__ script (not an IMDb Next.js page?)")
    end = html.find("</script>", start)
    if end < 0:
        raise PageParseError(url, "__NEXT_DATA__ script is not closed (page truncated?)")
    try:
        data = json.loads(html[start:end])
    except ValueError as exc:
        raise PageParseError(url, f"__NEXT_DATA__ is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PageParseError(url, f"__NEXT_DATA__ is a JSON {type(data).__name__}, expected an object")
    return data


def _next_data_start(html: str) -> int:
    """Offset just after the opening tag; a plain find first (fast path), regex otherwise."""
    i = html.find('<script id="__NEXT_DATA__"')
    if i >= 0:
        close = html.find(">", i)
        return close + 1 if close >= 0 else -1
    m = _NEXT_DATA_OPEN.search(html)
    return m.end() if m else -1


def parse_imdb_edition_page(html: str, url: str) -> ImdbEditionPage:
    """Parse one IMDb event edition page.

    An edition whose ``edition.awards`` is an empty list is valid (IMDb lists
    such editions, e.g. Actor Awards 1963-1994) and gives ``categories=()``.
    A 404 page, any JSON of unexpected shape, a missing or empty edition list and a
    paginated category raise PageParseError.
    """
    data = extract_next_data(html, url)
    j = _Json(url)
    props = j.obj(data, "props", "props")
    page_props = j.obj(props, "pageProps", "props.pageProps")
    if "editionInfo" not in page_props or "edition" not in page_props:
        status = page_props.get("statusCode")
        detail = f" (statusCode {status})" if status is not None else ""
        raise PageParseError(url, f"no edition in __NEXT_DATA__{detail}: not an event edition page")
    info = j.obj(page_props, "editionInfo", "editionInfo")
    edition = j.obj(page_props, "edition", "edition")
    event = j.opt_obj(info, "event", "editionInfo.event") or {}
    date_range = j.opt_obj(info, "dateRange", "editionInfo.dateRange") \
        or j.opt_obj(page_props, "eventDateRange", "eventDateRange") or {}
    return ImdbEditionPage(
        url=url,
        event_id=_event_id(data, page_props, url),
        event_name=j.opt_text(event, "name", "editionInfo.event.name")
        or _clean(j.opt(page_props, "eventName", str, "eventName")),
        edition_id=j.opt(info, "id", str, "editionInfo.id"),
        year=j.int_(info, "year", "editionInfo.year"),
        instance=j.int_(info, "instanceWithinYear", "editionInfo.instanceWithinYear"),
        location=j.opt_text(event, "location", "editionInfo.event.location"),
        start_date=_iso_date(j, date_range, "startDate", "editionInfo.dateRange.startDate"),
        end_date=_iso_date(j, date_range, "endDate", "editionInfo.dateRange.endDate"),
        categories=categories_of_awards(j.list_(edition, "awards", "edition.awards"), url, "edition.awards"),
        editions=_editions(j, page_props),
    )


# ---------------------------------------------------------------------------
# edition level
# ---------------------------------------------------------------------------

def _event_id(data: dict, page_props: dict, url: str) -> str | None:
    """From the route query, the request context, or the URL, in that order."""
    query = data.get("query")
    candidates = [
        query.get("evconst") if isinstance(query, dict) else None,
        (page_props.get("requestContext") or {}).get("pageConst")
        if isinstance(page_props.get("requestContext"), dict) else None,
    ]
    for value in candidates:
        if isinstance(value, str) and value.startswith("ev"):
            return value
    m = _URL_EVENT_RE.search(url)
    return m.group(1) if m else None


def _iso_date(j: _Json, date_range: dict, key: str, path: str) -> str | None:
    """ISO date only when day, month and year are all known (IMDb often gives the year only)."""
    date = j.opt_obj(date_range, key, path)
    if date is None:
        return None
    parts = j.opt_obj(date, "dateComponents", f"{path}.dateComponents") or {}
    day = j.opt(parts, "day", int, f"{path}.dateComponents.day")
    month = j.opt(parts, "month", int, f"{path}.dateComponents.month")
    year = j.opt(parts, "year", int, f"{path}.dateComponents.year")
    if day is None or month is None or year is None:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _editions(j: _Json, page_props: dict) -> tuple[ImdbEditionRef, ...]:
    if "historyEventEditions" not in page_props:
        raise PageParseError(j.url, "no edition list: props.pageProps.historyEventEditions is missing "
                                    "(the event's editions cannot be known from this page)")
    return edition_refs(j.list_(page_props, "historyEventEditions", "historyEventEditions"), j.url,
                        "historyEventEditions")


def edition_refs(items: list, url: str, path: str) -> tuple[ImdbEditionRef, ...]:
    """An event's edition list (`{year, instanceWithinYear, id}` items); an empty one is an error: the
    page or answer is an edition of the event, so the list holds at least that edition."""
    j = _Json(url)
    if not items:
        raise PageParseError(url, f"the edition list {path} is empty, although it belongs to an edition of the event")
    out = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        item = j.expect(item, dict, item_path)
        out.append(ImdbEditionRef(
            year=j.int_(item, "year", f"{item_path}.year"),
            instance=j.int_(item, "instanceWithinYear", f"{item_path}.instanceWithinYear"),
            edition_id=j.opt(item, "id", str, f"{item_path}.id"),
        ))
    return tuple(out)


# ---------------------------------------------------------------------------
# awards, categories, nominations
# ---------------------------------------------------------------------------

def categories_of_awards(awards: list, url: str, path: str) -> tuple[ImdbCategory, ...]:
    """Every category of an edition's `awards` (the page's `edition.awards`, or the API's), award by award."""
    j = _Json(url)
    out: list[ImdbCategory] = []
    for a, award in enumerate(j.expect(awards, list, path)):
        award_path = f"{path}[{a}]"
        award = j.expect(award, dict, award_path)
        award_text = _clean(j.req(award, "text", str, f"{award_path}.text"))
        if not award_text:
            raise PageParseError(url, f"unexpected JSON: {award_path}.text is empty")
        award_id = j.opt(award, "id", str, f"{award_path}.id")
        connection = j.obj(award, "nominationCategories", f"{award_path}.nominationCategories")
        edges = j.list_(connection, "edges", f"{award_path}.nominationCategories.edges")
        for c, edge in enumerate(edges):
            epath = f"{award_path}.nominationCategories.edges[{c}]"
            node = j.child(edge, "node", epath)
            out.append(_category(j, node, award_id, award_text, f"{epath}.node"))
    return tuple(out)


def _category(j: _Json, node: dict, award_id: str | None, award: str, path: str) -> ImdbCategory:
    category = j.opt_text(node, "category", f"{path}.category")
    nominations = j.obj(node, "nominations", f"{path}.nominations")
    edges = j.list_(nominations, "edges", f"{path}.nominations.edges")
    page_info = j.opt_obj(nominations, "pageInfo", f"{path}.nominations.pageInfo") or {}
    if j.opt(page_info, "hasNextPage", bool, f"{path}.nominations.pageInfo.hasNextPage"):
        label = award if category is None else f"{award} / {category}"
        raise PageParseError(j.url, f"category {label!r} lists {len(edges)} nominations and more on a next page "
                                    f"({path}.nominations.pageInfo.hasNextPage is true); the next page cannot be "
                                    "fetched here and a partial category is never written")
    noms = []
    for n, edge in enumerate(edges):
        epath = f"{path}.nominations.edges[{n}]"
        noms.append(_nomination(j, j.child(edge, "node", epath), f"{epath}.node"))
    return ImdbCategory(award_id=award_id, award=award, category=category or None, nominations=tuple(noms))


def _nomination(j: _Json, node: dict, path: str) -> ImdbNomination:
    is_winner = j.req(node, "isWinner", bool, f"{path}.isWinner")
    notes = j.opt_obj(node, "notes", f"{path}.notes")
    note_text = _clean(j.opt(notes, "plainText", str, f"{path}.notes.plainText")) if notes else None
    ent = j.obj(node, "awardedEntities", f"{path}.awardedEntities")
    epath = f"{path}.awardedEntities"
    typename = j.opt(ent, "__typename", str, f"{epath}.__typename") or ""
    return ImdbNomination(
        is_winner=is_winner,
        notes=note_text or None,
        primary_kind=_PRIMARY_KINDS.get(typename, typename),
        titles=_titles(j, ent, "awardTitles", epath),
        names=_names(j, ent, "awardNames", epath),
        secondary_titles=_titles(j, ent, "secondaryAwardTitles", epath),
        secondary_names=_names(j, ent, "secondaryAwardNames", epath),
        secondary_companies=_companies(j, ent, "secondaryAwardCompanies", epath),
    )


def _titles(j: _Json, ent: dict, key: str, epath: str) -> tuple[ImdbTitle, ...]:
    out = []
    for i, item in enumerate(j.opt_list(ent, key, f"{epath}.{key}") or []):
        path = f"{epath}.{key}[{i}].title"
        title = j.child(item, "title", f"{epath}.{key}[{i}]")
        out.append(ImdbTitle(
            id=j.id_(title, path),
            title=j.text(title, "titleText", f"{path}.titleText"),
            original_title=j.opt_text(title, "originalTitleText", f"{path}.originalTitleText"),
        ))
    return tuple(out)


def _names(j: _Json, ent: dict, key: str, epath: str) -> tuple[ImdbName, ...]:
    out = []
    for i, item in enumerate(j.opt_list(ent, key, f"{epath}.{key}") or []):
        ipath = f"{epath}.{key}[{i}]"
        item = j.expect(item, dict, ipath)
        name = j.obj(item, "name", f"{ipath}.name")
        out.append(ImdbName(
            id=j.id_(name, f"{ipath}.name"),
            name=j.text(name, "nameText", f"{ipath}.name.nameText"),
            note=_note(j, item.get("note"), f"{ipath}.note"),
        ))
    return tuple(out)


def _note(j: _Json, value: Any, path: str) -> str | None:
    """A name's note: null, a string, or a Markdown object {plainText}."""
    if value is None:
        return None
    if isinstance(value, str):
        return _clean(value) or None
    value = j.expect(value, dict, path)
    return _clean(j.opt(value, "plainText", str, f"{path}.plainText")) or None


def _companies(j: _Json, ent: dict, key: str, epath: str) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(j.opt_list(ent, key, f"{epath}.{key}") or []):
        path = f"{epath}.{key}[{i}].company"
        company = j.child(item, "company", f"{epath}.{key}[{i}]")
        text = j.opt_text(company, "companyText", f"{path}.companyText")
        out.append(text or j.id_(company, path))
    return tuple(out)


# ---------------------------------------------------------------------------
# typed JSON access
# ---------------------------------------------------------------------------

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _clean(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Json:
    """Typed getters that raise PageParseError(url, 'unexpected JSON: <path> ...')."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fail(self, path: str, value: Any, expected: str) -> PageParseError:
        return PageParseError(self.url, f"unexpected JSON: {path} is {_type_name(value)}, expected {expected}")

    def expect(self, value: Any, typ: type, path: str) -> Any:
        # bool is an int subclass: never accept True/False where a number is expected
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise self.fail(path, value, typ.__name__)
        # NUL, other control characters and lone surrogates cannot be stored (PostgreSQL text/jsonb)
        if typ is str and (bad := _UNSTORABLE.search(value)):
            raise PageParseError(self.url, f"unexpected JSON: {path} contains the character {bad.group()!r}")
        return value

    def req(self, obj: dict, key: str, typ: type, path: str) -> Any:
        if key not in obj:
            raise PageParseError(self.url, f"unexpected JSON: {path} is missing")
        return self.expect(obj[key], typ, path)

    def opt(self, obj: dict, key: str, typ: type, path: str) -> Any:
        value = obj.get(key)
        return None if value is None else self.expect(value, typ, path)

    def obj(self, obj: dict, key: str, path: str) -> dict:
        return self.req(obj, key, dict, path)

    def child(self, container: Any, key: str, path: str) -> dict:
        """``container[key]`` where container (at ``path``) must be an object holding an object."""
        return self.obj(self.expect(container, dict, path), key, f"{path}.{key}")

    def opt_obj(self, obj: dict, key: str, path: str) -> dict | None:
        return self.opt(obj, key, dict, path)

    def list_(self, obj: dict, key: str, path: str) -> list:
        return self.req(obj, key, list, path)

    def opt_list(self, obj: dict, key: str, path: str) -> list | None:
        return self.opt(obj, key, list, path)

    def int_(self, obj: dict, key: str, path: str) -> int:
        return self.req(obj, key, int, path)

    def id_(self, obj: dict, path: str) -> str:
        value = self.req(obj, "id", str, f"{path}.id").strip()
        if not value:
            raise PageParseError(self.url, f"unexpected JSON: {path}.id is empty")
        return value

    def text(self, obj: dict, key: str, path: str) -> str:
        """Required {text: str} object, e.g. titleText."""
        return _clean(self.req(self.obj(obj, key, path), "text", str, f"{path}.text"))  # type: ignore[return-value]

    def opt_text(self, obj: dict, key: str, path: str) -> str | None:
        """Optional {text: str} object (null allowed), e.g. category, originalTitleText."""
        holder = self.opt_obj(obj, key, path)
        if holder is None:
            return None
        return _clean(self.opt(holder, "text", str, f"{path}.text")) or None
