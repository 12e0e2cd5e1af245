"""Parser for oscars.org ceremony pages (``/oscars/ceremonies/{YEAR}``, Drupal markup).

Structure relied on (see the simulator README, checked against the live 2024 page)::

    span.field--name-title                    "The 96th Academy Awards"  (+ " | 2024")
    div.field--name-field-label               "Honoring movies released in 2023"
    div.field--name-tabs-honorees
      div.field--name-field-award-categories
        div[data-term-id].paragraph--type--award-category
          div.field--name-field-award-category-oscars        category name
          div.paragraph--type--award-honoree                 one per honoree
            div.field--name-field-honoree-type.winner|.nominee
            div.field--name-field-award-entities > div.field__item
            div.field--name-field-award-film

The ``select#award-category`` options repeat the category names and are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime

import cssselect
import lxml.etree
import lxml.html

from .errors import PageParseError
from .records import OscarsCategory, OscarsCeremonyPage, OscarsHonoree

__all__ = ["parse_oscars_ceremony_page", "parse_oscars_ceremony_sections"]

_HTML_CSS = cssselect.HTMLTranslator()


def _css(selector: str, axis: str = "descendant", nearest: bool = False) -> lxml.etree.XPath:
    """A CSS selector compiled once to XPath, matched along `axis` from the element it is called on.

    The default axis matches descendants only, not the element itself (lxml.cssselect.CSSSelector
    would match the element too, and has no ancestor/following axis). ``nearest`` keeps only the
    closest match along the axis (a one-step selector) and lets libxml2 stop there. As fast as
    hand-written XPath; BeautifulSoup's select gave the same records for the 98 ceremony pages
    but parsed them about 8x slower, so it is not used here.
    """
    path = _HTML_CSS.css_to_xpath(selector, prefix=f"{axis}::")
    return lxml.etree.XPath(f"{path}[1]" if nearest else path)


_HEADINGS = _css("span.field--name-title")
_PAGE_H1 = _css("h1.title")
# the heading's block: nearest ancestor holding the "Honoring ..." label but not the honorees
_HEADER_BLOCK = _css("div:has(div.field--name-field-label):not(:has(div.field--name-tabs-honorees))",
                     "ancestor", nearest=True)
_TABS_AFTER = _css("div.field--name-tabs-honorees", "following", nearest=True)
_LABEL = _css("div.field--name-field-label")
_LOCATION = _css("div.field--name-field-location")
_DATE = _css("div.field--name-field-date-time")
_CATEGORIES = _css("div.field--name-field-award-categories div.paragraph--type--award-category[data-term-id]")
_CATEGORY_NAME = _css("div.field--name-field-award-category-oscars")
_HONOREES = _css("div.paragraph--type--award-honoree")
_HONOREE_TYPE = _css("div.field--name-field-honoree-type")
_ENTITY_ITEMS = _css("div.field--name-field-award-entities > div.field__item")
_FILM = _css("div.field--name-field-award-film")
_FILM_ITEMS = _css("div.field__item", "child")

_TITLE_RE = re.compile(r"^The (\d+)(?:st|nd|rd|th) Academy Awards$")
_URL_YEAR_RE = re.compile(r"/ceremonies/(\d{4})\b")
_SONG_CREDIT_RE = re.compile(r"^from\s+(.+?)(?:;\s*(.*))?$", re.DOTALL)
_SONG_CATEGORY_RE = re.compile(r"^music \((original )?song\b")
_INTERNATIONAL_CATEGORIES = {"international feature film", "foreign language film"}


def parse_oscars_ceremony_page(html: str, url: str) -> OscarsCeremonyPage:
    """Parse one oscars.org ceremony page.

    Raises PageParseError when the markup is not recognised, the page is cut
    short, lists no categories, or holds more than one ceremony (the
    ``held`` year scheme's 1930 page: use :func:`parse_oscars_ceremony_sections`).
    """
    sections = parse_oscars_ceremony_sections(html, url)
    if len(sections) != 1:
        numbers = ", ".join(str(s.ceremony_number) for s in sections)
        raise PageParseError(url, f"page holds {len(sections)} ceremonies ({numbers}); "
                                  "use parse_oscars_ceremony_sections")
    return sections[0]


def parse_oscars_ceremony_sections(html: str, url: str) -> tuple[OscarsCeremonyPage, ...]:
    """Every ceremony section of an oscars.org page, in page order (usually one)."""
    doc = _document(html, url)
    page_year = _page_year(doc, url)
    headings = [h for h in _HEADINGS(doc) if _TITLE_RE.match(_text(h))]
    if not headings:
        raise PageParseError(url, "no 'The Nth Academy Awards' heading found (not a ceremony page?)")
    return tuple(_section(heading, page_year, url) for heading in headings)


# ---------------------------------------------------------------------------
# page / section level
# ---------------------------------------------------------------------------

_HUGE_TREE_PARSER = lxml.html.HTMLParser(huge_tree=True)


def _document(html: str, url: str) -> lxml.html.HtmlElement:
    if not isinstance(html, str) or not html.strip():
        raise PageParseError(url, "empty page")
    # A page cut short still parses (lxml closes open tags) but would silently
    # lose its last categories: require the document end.
    if "</html>" not in html[-4096:].lower():
        raise PageParseError(url, "page is truncated (no closing </html>)")
    try:
        # huge_tree: libxml2 otherwise stops silently at a text node or comment over 10 MB,
        # and every category after it would vanish from the ceremony
        return lxml.html.document_fromstring(html, parser=_HUGE_TREE_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise PageParseError(url, f"HTML not parseable: {exc}") from exc


def _page_year(doc: lxml.html.HtmlElement, url: str) -> int:
    for h1 in _PAGE_H1(doc):
        text = _text(h1)
        if re.fullmatch(r"\d{4}", text):
            return int(text)
    m = _URL_YEAR_RE.search(url)
    if m:
        return int(m.group(1))
    raise PageParseError(url, "no ceremony year in the page title or URL")


def _section(heading: lxml.html.HtmlElement, page_year: int, url: str) -> OscarsCeremonyPage:
    title = _text(heading)
    number = int(_TITLE_RE.match(title).group(1))  # type: ignore[union-attr]  # filtered by caller
    header = _first(_HEADER_BLOCK(heading))
    tabs = _first(_TABS_AFTER(heading))
    if tabs is None:
        raise PageParseError(url, f"no winners & nominees block after {title!r} (markup changed?)")
    categories = tuple(_category(el, url) for el in _CATEGORIES(tabs))
    if not categories:
        raise PageParseError(url, f"no award categories found for {title!r} (markup changed?)")
    return OscarsCeremonyPage(
        url=url,
        page_year=page_year,
        ceremony_number=number,
        title=title,
        honoring=_optional_text(_LABEL, header),
        date=_iso_date(_optional_text(_DATE, header)),
        location=_optional_text(_LOCATION, header),
        categories=categories,
    )


def _iso_date(text: str | None) -> str | None:
    """'Sunday, March 10, 2024' -> '2024-03-10'; None when absent or unreadable."""
    if not text:
        return None
    m = re.search(r"([A-Z][a-z]+)\s+(\d{1,2}),\s*(\d{4})", text)
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.groups()), "%B %d %Y").date().isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# categories and honorees
# ---------------------------------------------------------------------------

def _category(el: lxml.html.HtmlElement, url: str) -> OscarsCategory:
    name_el = _first(_CATEGORY_NAME(el))
    name = _text(name_el) if name_el is not None else ""
    term_id = (el.get("data-term-id") or "").strip() or None
    if not name:
        raise PageParseError(url, f"award category (term {term_id}) without a name (markup changed?)")
    blocks = _HONOREES(el)
    if not blocks:
        raise PageParseError(url, f"category {name!r} has no honoree blocks (markup changed?)")
    layout = _layout(name)
    return OscarsCategory(name=name, term_id=term_id,
                          honorees=tuple(_honoree(b, layout, name, url) for b in blocks))


def _layout(category_name: str) -> str:
    """'international', 'song' or 'standard' (acting and the rest: film field = film)."""
    key = category_name.casefold()
    if key in _INTERNATIONAL_CATEGORIES:
        return "international"
    if _SONG_CATEGORY_RE.match(key) and "score" not in key:
        return "song"
    return "standard"


def _honoree(block: lxml.html.HtmlElement, layout: str, category: str, url: str) -> OscarsHonoree:
    won = _won(block, category, url)
    entities = tuple(t for t in (_text(e) for e in _ENTITY_ITEMS(block)) if t)
    film_el = _first(_FILM(block))
    film_field = (_text(film_el) or None) if film_el is not None else None
    if not entities and film_field is None:
        raise PageParseError(url, f"honoree in {category!r} with neither entities nor film (markup changed?)")

    if layout == "international" and entities:
        # film field = country, entities = the film title(s)
        return OscarsHonoree(won, entities, film_field, films=entities, nominees=None, song=None,
                             country=film_field)
    if layout == "song" and entities:
        m = _SONG_CREDIT_RE.match(entities[0])
        if m:
            # film field = song title, entity = "from <Film>; <credit>"
            credit = "; ".join(filter(None, [m.group(2), *entities[1:]])) or None
            return OscarsHonoree(won, entities, film_field, films=(m.group(1).strip(),), nominees=credit,
                                 song=film_field, country=None)
    films = _film_items(film_el) if film_el is not None else ()
    return OscarsHonoree(won, entities, film_field, films=films, nominees="; ".join(entities) or None,
                         song=None, country=None)


def _film_items(film_el: lxml.html.HtmlElement) -> tuple[str, ...]:
    """The film field is one field__item on the site; accept a list of items too."""
    items = tuple(t for t in (_text(i) for i in _FILM_ITEMS(film_el)) if t)
    if items:
        return items
    text = _text(film_el)
    return (text,) if text else ()


def _won(block: lxml.html.HtmlElement, category: str, url: str) -> bool:
    type_el = _first(_HONOREE_TYPE(block))
    if type_el is None:
        raise PageParseError(url, f"honoree in {category!r} without a winner/nominee label (markup changed?)")
    classes = set((type_el.get("class") or "").split())
    if "winner" in classes:
        return True
    if "nominee" in classes:
        return False
    label = _text(type_el).casefold()
    if label == "winner":
        return True
    if label.startswith("nominee"):
        return False
    raise PageParseError(url, f"unknown honoree label {_text(type_el)!r} in {category!r}")


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def _text(el: lxml.html.HtmlElement) -> str:
    """Element text with whitespace collapsed (entities are decoded by lxml)."""
    return " ".join(el.text_content().split())


def _first(items: list) -> lxml.html.HtmlElement | None:
    return items[0] if items else None


def _optional_text(xpath: lxml.etree.XPath, scope: lxml.html.HtmlElement | None) -> str | None:
    if scope is None:
        return None
    el = _first(xpath(scope))
    return (_text(el) or None) if el is not None else None
