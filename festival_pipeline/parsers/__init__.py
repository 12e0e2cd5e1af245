"""Pure page parsers: oscars.org ceremony pages and IMDb event edition pages -> typed records."""

from .errors import PageParseError
from .imdb_event import extract_next_data, parse_imdb_edition_page
from .oscars_org import parse_oscars_ceremony_page, parse_oscars_ceremony_sections
from .records import (
    ImdbCategory,
    ImdbEditionPage,
    ImdbEditionRef,
    ImdbName,
    ImdbNomination,
    ImdbTitle,
    OscarsCategory,
    OscarsCeremonyPage,
    OscarsHonoree,
)

__all__ = [
    "ImdbCategory",
    "ImdbEditionPage",
    "ImdbEditionRef",
    "ImdbName",
    "ImdbNomination",
    "ImdbTitle",
    "OscarsCategory",
    "OscarsCeremonyPage",
    "OscarsHonoree",
    "PageParseError",
    "extract_next_data",
    "parse_imdb_edition_page",
    "parse_oscars_ceremony_page",
    "parse_oscars_ceremony_sections",
]
