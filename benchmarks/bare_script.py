"""The yardstick: what a data engineer would write without this project.

requests + BeautifulSoup, sequential, no rate limit, no retries, no archive, none of
festival_pipeline's parsers, enhance or writer (only its migrations create the schema):

1. the IMDb event page (/event/ev0000003/ redirects to the latest edition): the edition list from
   __NEXT_DATA__ ``historyEventEditions``; the n-th edition by (year, instance) is ceremony n;
2. per year: the oscars.org ceremony page (BeautifulSoup CSS selectors) and the IMDb edition page
   (BeautifulSoup finds __NEXT_DATA__, json.loads reads it);
3. categories matched by name (word overlap, greedy), then nominations by normalised film title
   within the matched category; the IMDb ids of the match are attached;
4. one transaction per year into festival_organizations / _ceremonies / _categories / _nominations.

    python benchmarks/bare_script.py --base-url http://127.0.0.1:PORT --database-url postgresql://... \
        [--first 1929] [--last 2026]

Both sites are read from --base-url (the simulator serves both). Prints the wall time, the time
per stage and the row counts as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata

import psycopg2
import requests
from bs4 import BeautifulSoup
from psycopg2.extras import Json, execute_values

from festival_pipeline.database.migrate import upgrade

EVENT = "ev0000003"
FIRST_CEREMONY_YEAR = 1928
STOPWORDS = {"best", "a", "an", "the", "in", "of", "by", "for", "and", "performance", "achievement"}


def get(session: requests.Session, url: str) -> requests.Response:
    response = session.get(url, timeout=30)
    response.raise_for_status()
    response.encoding = "utf-8"
    return response


def text(tag) -> str:
    return " ".join(tag.get_text().split()) if tag is not None else ""


def normalise(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def words(name: str) -> set[str]:
    return set(normalise(name).split()) - STOPWORDS


def overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


# --------------------------------------------------------------------------- oscars.org


def parse_oscars(html: str) -> tuple[str, list[dict]]:
    """The ceremony's title and its [{name, honorees: [{won, film, nominees}]}] in page order."""
    soup = BeautifulSoup(html, "lxml")
    title = text(soup.select_one("span.field--name-title"))
    categories = []
    for cat in soup.select("div.field--name-field-award-categories div.paragraph--type--award-category"):
        name = text(cat.select_one("div.field--name-field-award-category-oscars"))
        honorees = []
        for block in cat.select("div.paragraph--type--award-honoree"):
            entities = [text(e) for e in block.select("div.field--name-field-award-entities div.field__item")]
            film = text(block.select_one("div.field--name-field-award-film"))
            won = "winner" in (block.select_one("div.field--name-field-honoree-type").get("class") or [])
            nominees = "; ".join(entities)
            if name in ("International Feature Film", "Foreign Language Film") and entities:
                film, nominees = entities[0], film  # film field holds the country here
            elif name.startswith("Music (") and "Song" in name and entities and entities[0].startswith("from "):
                film, _, nominees = entities[0][5:].partition(";")  # "from <Film>; <credits>"
                nominees = nominees.strip()
            honorees.append({"won": won, "film": film.strip(), "nominees": nominees})
        categories.append({"name": name, "honorees": honorees})
    return title, categories


# --------------------------------------------------------------------------- IMDb


def next_data(html: str) -> dict:
    soup = BeautifulSoup(html, "lxml")
    return json.loads(soup.find("script", id="__NEXT_DATA__").string)["props"]["pageProps"]


def parse_imdb(page_props: dict) -> list[dict]:
    """[{name, nominations: [{titles: {normalised title: id}, title_ids, name_ids}]}]"""
    categories = []
    for award in page_props["edition"]["awards"]:
        for edge in award["nominationCategories"]["edges"]:
            node = edge["node"]
            name = (node.get("category") or {}).get("text") or award["text"]
            nominations = []
            for nomination in node["nominations"]["edges"]:
                entity = nomination["node"]["awardedEntities"]
                titles = [t["title"] for key in ("awardTitles", "secondaryAwardTitles") for t in entity.get(key) or []]
                names = [n["name"] for key in ("awardNames", "secondaryAwardNames") for n in entity.get(key) or []]
                nominations.append({
                    "titles": {normalise(t["titleText"]["text"]) for t in titles},
                    "title_ids": [t["id"] for t in titles],
                    "name_ids": [n["id"] for n in names],
                })
            categories.append({"name": name, "nominations": nominations})
    return categories


# --------------------------------------------------------------------------- matching


def match(oscars: list[dict], imdb: list[dict]) -> int:
    """Attach IMDb ids to the oscars.org honorees in place; returns how many were matched."""
    oscars_words, imdb_words = [words(o["name"]) for o in oscars], [words(i["name"]) for i in imdb]
    pairs = sorted(((overlap(x, y), a, b) for a, x in enumerate(oscars_words) for b, y in enumerate(imdb_words)),
                   reverse=True)
    paired_o, paired_i, matched = set(), set(), 0
    for score, a, b in pairs:
        if score == 0 or a in paired_o or b in paired_i:
            continue
        paired_o.add(a)
        paired_i.add(b)
        unused = list(imdb[b]["nominations"])
        for honoree in oscars[a]["honorees"]:
            film = normalise(honoree["film"])
            hit = next((n for n in unused if film and film in n["titles"]), None)
            if hit is not None:
                unused.remove(hit)
                honoree["title_ids"], honoree["name_ids"] = hit["title_ids"], hit["name_ids"]
                matched += 1
    return matched


# --------------------------------------------------------------------------- writing


def write_year(cursor, organization_id: int, year: int, number: int, title: str, url: str,
               categories: list[dict]) -> int:
    cursor.execute(
        """INSERT INTO festival_ceremonies (organization_id, year, ceremony_number, name, source_url, scraped_at)
           VALUES (%s, %s, %s, %s, %s, now())
           ON CONFLICT (organization_id, year, edition) DO UPDATE SET updated_at = now() RETURNING id""",
        (organization_id, year, number, title, url),
    )
    ceremony_id = cursor.fetchone()[0]
    cursor.execute("DELETE FROM festival_nominations WHERE ceremony_id = %s", (ceremony_id,))
    rows = []
    for category in categories:
        person = bool(re.search(r"Act(or|ress)|Direct", category["name"]))
        cursor.execute(
            """INSERT INTO festival_categories (organization_id, prize_name, name, tracks_person, category_type)
               VALUES (%s, 'Oscar', %s, %s, %s)
               ON CONFLICT (organization_id, prize_name, name) DO UPDATE SET updated_at = now() RETURNING id""",
            (organization_id, category["name"], person, "person" if person else "film"),
        )
        category_id = cursor.fetchone()[0]
        for h in category["honorees"]:
            position = len(rows) + 1
            rows.append((ceremony_id, category_id, str(position), position, h["won"], "Oscar", h["film"] or None,
                         h.get("title_ids", []), h.get("name_ids", []), h["nominees"] or None, Json({})))
    execute_values(
        cursor,
        """INSERT INTO festival_nominations (ceremony_id, category_id, nomination_key, position, won, prize_name,
               film_title, film_imdb_ids, person_imdb_ids, nominee_names, details) VALUES %s""",
        rows,
    )
    return len(rows)


# --------------------------------------------------------------------------- main


def run(base_url: str, database_url: str, first: int, last: int) -> dict:
    stages = {"fetch": 0.0, "parse": 0.0, "match": 0.0, "write": 0.0}
    session = requests.Session()
    connection = psycopg2.connect(database_url)
    started = time.perf_counter()

    t = time.perf_counter()
    latest = get(session, f"{base_url}/event/{EVENT}/")
    stages["fetch"] += time.perf_counter() - t
    t = time.perf_counter()
    latest_props = next_data(latest.text)
    editions = sorted((e["year"], e["instanceWithinYear"]) for e in latest_props["historyEventEditions"])
    stages["parse"] += time.perf_counter() - t

    with connection, connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO festival_organizations (name, abbreviation, slug, country, imdb_event_id)
               VALUES ('Academy Awards', 'AMPAS', 'oscars', 'US', %s)
               ON CONFLICT (slug) DO UPDATE SET updated_at = now() RETURNING id""",
            (EVENT,),
        )
        organization_id = cursor.fetchone()[0]

    nominations = matched = 0
    for year in range(first, last + 1):
        number = year - FIRST_CEREMONY_YEAR
        edition_year, instance = editions[number - 1]
        oscars_url = f"{base_url}/oscars/ceremonies/{year}"
        imdb_url = f"{base_url}/event/{EVENT}/{edition_year}/{instance}/"

        t = time.perf_counter()
        oscars_html = get(session, oscars_url).text
        imdb_html = latest.text if imdb_url == latest.url else get(session, imdb_url).text
        stages["fetch"] += time.perf_counter() - t

        t = time.perf_counter()
        title, oscars = parse_oscars(oscars_html)
        imdb = parse_imdb(latest_props if imdb_url == latest.url else next_data(imdb_html))
        stages["parse"] += time.perf_counter() - t

        t = time.perf_counter()
        matched += match(oscars, imdb)
        stages["match"] += time.perf_counter() - t

        t = time.perf_counter()
        with connection, connection.cursor() as cursor:
            nominations += write_year(cursor, organization_id, year, number, title, oscars_url, oscars)
        stages["write"] += time.perf_counter() - t

    seconds = time.perf_counter() - started
    with connection, connection.cursor() as cursor:
        counts = {}
        for table in ("festival_organizations", "festival_ceremonies", "festival_categories", "festival_nominations"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    connection.close()
    return {"years": last - first + 1, "seconds": round(seconds, 3),
            "stages": {k: round(v, 3) for k, v in stages.items()},
            "nominations_written": nominations, "matched_to_imdb": matched, "rows": counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="serves /oscars/ceremonies/YEAR and /event/...")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--first", type=int, default=1929)
    parser.add_argument("--last", type=int, default=2026)
    args = parser.parse_args(argv)
    upgrade(args.database_url)  # the schema (not timed)
    result = run(args.base_url.rstrip("/"), args.database_url, args.first, args.last)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
