"""Every festival the pipeline knows: one entry per organization — the built-in ones, and the IMDb
events a user adds in FESTIVAL_EVENTS_FILE (events_file.py), read when the code is imported."""

from __future__ import annotations

from festival_pipeline import settings
from festival_pipeline.events_file import load_events, with_events
from festival_pipeline.model import ACADEMY_AWARDS_SLUG, Festival

__all__ = ["ACADEMY_AWARDS_SLUG", "BUILT_IN_FESTIVALS", "FESTIVALS", "FESTIVALS_BY_SLUG", "Festival", "festival"]


BUILT_IN_FESTIVALS: tuple[Festival, ...] = (
    Festival(ACADEMY_AWARDS_SLUG, "Academy Awards", "AMPAS", "USA", 1929, "https://www.oscars.org",
             "ev0000003", 3, 1929, source="oscars.org+imdb"),
    Festival("cannes", "Cannes Film Festival", "CANNES", "France", 1946, "https://www.festival-cannes.com",
             "ev0000147", 5, 1939),
    Festival("venice", "Venice Film Festival", "VENICE", "Italy", 1932, "https://www.labiennale.org",
             "ev0000681", 9, 1932),
    Festival("berlin", "Berlin International Film Festival", "BERLINALE", "Germany", 1951,
             "https://www.berlinale.de", "ev0000091", 2, 1951),
    Festival("bafta", "BAFTA Awards", "BAFTA", "United Kingdom", 1947, "https://www.bafta.org",
             "ev0000123", 2, 1949),
    Festival("golden-globes", "Golden Globe Awards", "HFPA", "USA", 1944, "https://goldenglobes.com",
             "ev0000292", 1, 1944),
    Festival("sundance", "Sundance Film Festival", "SUNDANCE", "USA", 1978, "https://www.sundance.org",
             "ev0000631", 1, 1982),
    Festival("spirit-awards", "Film Independent Spirit Awards", "SPIRIT", "USA", 1984,
             "https://www.filmindependent.org", "ev0000349", 3, 1986),
    Festival("actor-awards", "Actor Awards", "SAG", "USA", 1995, "https://www.sagawards.org", "ev0000598",
             2, 1963),
    Festival("critics-choice", "Critics Choice Awards", "CCA", "USA", 1996, "https://www.criticschoice.com",
             "ev0000133", 1, 1996),
    Festival("toronto", "Toronto International Film Festival", "TIFF", "Canada", 1976, "https://www.tiff.net",
             "ev0000659", 9, 1978),
    Festival("cesar", "César Awards", "CESAR", "France", 1976, "https://www.academie-cinema.org",
             "ev0000157", 2, 1976),
    Festival("german-film-awards", "German Film Awards", "LOLA", "Germany", 1951,
             "https://www.deutscher-filmpreis.de", "ev0000280", 5, 1951),
    Festival("razzies", "Golden Raspberry Awards", "RAZZIE", "USA", 1981, "https://www.razzies.com",
             "ev0000558", 3, 1981),
)

# the built-in festivals with those of FESTIVAL_EVENTS_FILE (an entry with a built-in's slug replaces it)
_events_file = settings.events_file()
FESTIVALS: tuple[Festival, ...] = with_events(BUILT_IN_FESTIVALS, load_events(_events_file) if _events_file else ())
FESTIVALS_BY_SLUG: dict[str, Festival] = {festival.slug: festival for festival in FESTIVALS}


def festival(slug: str) -> Festival:
    try:
        return FESTIVALS_BY_SLUG[slug]
    except KeyError:
        known = ", ".join(FESTIVALS_BY_SLUG)
        raise KeyError(f"unknown festival {slug!r}; known: {known}") from None
