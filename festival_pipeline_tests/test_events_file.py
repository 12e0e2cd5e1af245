"""IMDb events added by configuration (FESTIVAL_EVENTS_FILE): validated with one-line errors, each
event a festival like a built-in one (group, job, partitions, schedules), and a built-in festival
defined by the file instead writes the same rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dagster import materialize

from festival_pipeline.assets.festivals import build_festival_assets
from festival_pipeline.assets.organizations import festival_organizations
from festival_pipeline.database import connection
from festival_pipeline.events_file import EventsFileError, load_events, with_events
from festival_pipeline.registry import BUILT_IN_FESTIVALS, festival
from festival_pipeline_tests.conftest import create_database, pipeline_resources, sites_env
from festival_pipeline_tests.test_imdb_api_pipeline import nomination_rows

CLI = str(Path(sys.executable).with_name("festival-pipeline"))
# the five festivals cinegraph imports and the built-in registry does not (docs/sources.md)
CINEGRAPH_YAML = textwrap.dedent("""\
    events:
      - {slug: locarno, name: Locarno Film Festival, abbreviation: LOCARNO, imdb_event_id: ev0000400,
         first_year: 1946, country: Switzerland, website: https://www.locarnofestival.ch, usual_month: 8}
      - {slug: sxsw, name: SXSW Film Festival, abbreviation: SXSW, imdb_event_id: ev0000636,
         first_year: 1994, country: USA, website: https://www.sxsw.com, usual_month: 3}
      - {slug: telluride, name: Telluride Film Festival, abbreviation: TELLURIDE, imdb_event_id: ev0000645,
         first_year: 1974, country: USA, website: https://www.telluridefilmfestival.org, usual_month: 9}
      - {slug: new-york, name: New York Film Festival, abbreviation: NYFF, imdb_event_id: ev0000484,
         first_year: 1963, country: USA, website: https://www.filmlinc.org/nyff, usual_month: 10}
      - {slug: new-horizons, name: New Horizons International Film Festival, abbreviation: NOWE-HORYZONTY,
         imdb_event_id: ev0002561, first_year: 2001, country: Poland, website: https://www.nowehoryzonty.pl,
         usual_month: 7}
    """)
LOCARNO_TOML = textwrap.dedent("""\
    [[events]]
    slug = "locarno"
    name = "Locarno Film Festival"
    abbreviation = "LOCARNO"
    imdb_event_id = "ev0000400"
    first_year = 1946
    country = "Switzerland"
    website = "https://www.locarnofestival.ch"
    usual_month = 8
    """)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_toml_give_the_same_festival(tmp_path: Path) -> None:
    from_yaml = load_events(write(tmp_path, "events.yaml", CINEGRAPH_YAML))
    (from_toml,) = load_events(write(tmp_path, "events.toml", LOCARNO_TOML))
    assert [f.slug for f in from_yaml] == ["locarno", "sxsw", "telluride", "new-york", "new-horizons"]
    assert from_yaml[0] == from_toml
    assert (from_toml.first_edition_year, from_toml.founded_year, from_toml.usual_month) == (1946, 1946, 8)
    assert from_toml.source == "imdb" and not from_toml.is_oscars


@pytest.mark.parametrize(("change", "message"), [
    ({"imdb_event_id": "ev400"}, "entry 1 (locarno): imdb_event_id must look like ev0000400"),
    ({"first_year": "1946"}, "entry 1 (locarno): first_year must be a year"),
    ({"usual_month": 13}, "entry 1 (locarno): usual_month must be a month number 1-12"),
    ({"website": "locarnofestival.ch"}, "entry 1 (locarno): website must be an http(s) URL"),
    ({"slug": "Locarno Festival"}, "entry 1 (Locarno Festival): slug must be lower-case words"),
    ({"slug": "academy-awards"}, "entry 1 (academy-awards): slug 'academy-awards' is reserved"),
    ({"name": ""}, "entry 1 (locarno): name must be a non-empty text"),
    ({"name": None}, "entry 1 (locarno): name is missing"),
    ({"city": "Locarno"}, "entry 1 (locarno): city is not a field"),
])
def test_a_bad_entry_is_one_line_naming_the_entry_and_the_field(tmp_path: Path, change: dict, message: str) -> None:
    entry = {"slug": "locarno", "name": "Locarno Film Festival", "abbreviation": "LOCARNO",
             "imdb_event_id": "ev0000400", "first_year": 1946, "country": "Switzerland",
             "website": "https://www.locarnofestival.ch", **change}
    path = write(tmp_path, "events.yaml", json.dumps({"events": [{k: v for k, v in entry.items() if v is not None}]}))
    with pytest.raises(EventsFileError) as caught:
        load_events(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_file_that_is_not_an_events_list_says_how_to_write_it(tmp_path: Path) -> None:
    for name, text, message in [("events.yaml", "- slug: x\n", "must hold a list named `events`"),
                                ("events.json", "{}", "must end in .yaml, .yml or .toml"),
                                ("events.toml", "events = [", "is not valid TOML"),
                                ("missing.yaml", None, "cannot be read")]:
        path = write(tmp_path, name, text) if text is not None else tmp_path / name
        with pytest.raises(EventsFileError, match=message):
            load_events(path)


def test_an_entry_with_a_built_in_slug_replaces_it_and_ids_stay_unique(tmp_path: Path) -> None:
    cesar = festival("cesar")
    override = json.dumps({"events": [{
        "slug": "cesar", "name": "Les César", "abbreviation": "CESAR", "imdb_event_id": cesar.imdb_event_id,
        "first_year": 1976, "country": "France", "website": "https://www.academie-cinema.org"}]})
    merged = with_events(BUILT_IN_FESTIVALS, load_events(write(tmp_path, "events.yaml", override)))
    assert len(merged) == len(BUILT_IN_FESTIVALS)
    assert [f.name for f in merged if f.slug == "cesar"] == ["Les César"]
    # another slug with a built-in's IMDb id would be a second organization for one event
    duplicate = override.replace('"cesar"', '"cesars"').replace('"CESAR"', '"CES"')
    with pytest.raises(EventsFileError, match="imdb_event_id 'ev0000157' is already festival 'cesar''s"):
        with_events(BUILT_IN_FESTIVALS, load_events(write(tmp_path, "events.yaml", duplicate)))


def test_every_command_stops_on_a_bad_file_with_one_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "events.yaml", "events:\n  - {slug: sxsw}\n")
    result = subprocess.run([CLI, "status", "--festival", "oscars"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "FESTIVAL_EVENTS_FILE": str(bad)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"festival-pipeline: error: FESTIVAL_EVENTS_FILE {bad}: entry 1 (sxsw): name is missing"]


@pytest.mark.integration
def test_each_event_of_the_file_is_a_festival_like_a_built_in_one(tmp_path: Path) -> None:
    """The code location (loaded as Dagster loads it) has the file's events with their group, job,
    partitions and schedules."""
    path = write(tmp_path, "events.yaml", CINEGRAPH_YAML)
    script = textwrap.dedent("""\
        import json
        from festival_pipeline.definitions import defs
        graph = defs.resolve_asset_graph()
        locarno = [graph.get(k) for k in graph.get_all_asset_keys() if k.path[0] == "locarno"]
        print(json.dumps({
            "jobs": sorted(j.name for j in defs.resolve_all_job_defs()),
            "schedules": sorted(s.name for s in defs.schedules),
            "locarno_assets": sorted("/".join(node.key.path) for node in locarno),
            "locarno_groups": sorted({node.group_name for node in locarno}),
            "locarno_first": defs.resolve_job_def("locarno_job").partitions_def.get_partition_keys()[0],
        }))
        """)
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "FESTIVAL_EVENTS_FILE": str(path)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    for prefix in ("locarno", "sxsw", "telluride", "new_york", "new_horizons"):
        assert f"{prefix}_job" in loaded["jobs"]
        assert {f"{prefix}_yearly", f"{prefix}_until_awarded"} <= set(loaded["schedules"])
    assert loaded["locarno_assets"] == [f"locarno/{name}" for name in (
        "ceremony", "festival_categories", "festival_ceremonies", "festival_nominations", "imdb_edition_pages")]
    assert loaded["locarno_groups"] == ["locarno"]
    assert loaded["locarno_first"] == "1946"


@pytest.mark.integration
def test_a_built_in_festival_defined_by_the_file_writes_the_same_rows(
    ephemeral_instance, festival_database_url: str, pg_server, migrated_template: str, simulator_url: str,
    tmp_path: Path,
) -> None:
    razzies = festival("razzies")
    resources = pipeline_resources(simulator_url)
    materialize([festival_organizations], instance=ephemeral_instance, resources=resources)
    assert materialize(build_festival_assets(razzies), partition_key="2020", instance=ephemeral_instance,
                       resources=resources).success
    built_in = nomination_rows(festival_database_url)
    assert len(built_in) > 20

    # the same event from the file, named otherwise, imported by the command in a database of its own
    path = write(tmp_path, "events.toml", textwrap.dedent(f"""\
        [[events]]
        slug = "razzies"
        name = "Razzie Awards (from the file)"
        abbreviation = "RAZZ"
        imdb_event_id = "{razzies.imdb_event_id}"
        first_year = {razzies.first_edition_year}
        country = "USA"
        website = "{razzies.website}"
        usual_month = {razzies.usual_month}
        """))
    database = create_database(pg_server, template=migrated_template)
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}
    env.update(sites_env(simulator_url), FESTIVAL_DATABASE_URL=database, FESTIVAL_EVENTS_FILE=str(path),
               FESTIVAL_PIPELINE_HOME=str(tmp_path / "home"), FESTIVAL_HTTP_REQUESTS_PER_SECOND="0")
    result = subprocess.run([CLI, "backfill", "razzies", "--years", "2020"], env=env, capture_output=True,
                            text=True, timeout=540)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert nomination_rows(database) == built_in
    with connection.transaction(database) as cursor:
        cursor.execute("SELECT name FROM festival_organizations WHERE slug = 'razzies'")
        assert cursor.fetchone() == ("Razzie Awards (from the file)",)

