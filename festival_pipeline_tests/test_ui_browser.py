"""The Dagster UI in a real browser (Debian's Chromium driven by Playwright) against a real deployment.

Opens the oscars asset graph and the partitions of `oscars/festival_nominations`, launches one
partition (2024) from the group's "Materialize all…" dialog, waits for the run the daemon launches,
and reads the check results and metadata back from the asset's pages. Every step is screenshotted to
artifacts/screenshots/ (git-ignored); with FESTIVAL_UPDATE_README_SCREENSHOTS=1 the graph and the
partitions view after the run are also copied to docs/images/ for the README. The deployment is
`festival-pipeline dev` itself (ui_harness.py).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from festival_pipeline.database import connection
from festival_pipeline_tests.ui_harness import DagsterUI, dagster_ui  # noqa: F401 - the fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
README_IMAGES = PROJECT_ROOT / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 800}
UI_TIMEOUT_MS = 60_000  # one page or element to appear
RUN_TIMEOUT = 240  # seconds for the launched run to finish
YEAR = "2024"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(290),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's package "
                       "`apt-get install chromium` (a Playwright browser download is not used)"),
]

RUNS_OF_PARTITION = """
query Runs($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    __typename
    ... on Runs { results { runId status tags { key value } } }
    ... on Error { message }
  }
}
"""


@pytest.fixture
def page(dagster_ui: DagsterUI) -> Iterator:  # noqa: F811
    from playwright.sync_api import sync_playwright

    # what the "Join the Dagster community" dialog's Skip button sends; it would cover every page
    assert dagster_ui.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="networkidle")


def nominations(database_url: str, year: int) -> int:
    with connection.transaction(database_url) as cursor:
        cursor.execute(
            """SELECT count(*) FROM festival_nominations n
               JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
               JOIN festival_organizations o ON o.id = fc.organization_id AND o.slug = 'academy-awards'
               WHERE fc.year = %s""",
            (year,),
        )
        return cursor.fetchone()[0]


def wait_for_ui_run(ui: DagsterUI) -> dict:
    """The run the UI launched for the partition, once it has finished."""
    tags = [{"key": "dagster/partition", "value": YEAR}, {"key": "dagster/from_ui", "value": "true"}]
    deadline = time.monotonic() + RUN_TIMEOUT
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = ui.graphql(RUNS_OF_PARTITION, {"tags": tags})["runsOrError"]["results"]
        if runs and all(run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} for run in runs):
            return runs[0] if len(runs) == 1 else pytest.fail(f"the UI launched {len(runs)} runs: {runs}")
        time.sleep(2)
    pytest.fail(f"the run launched from the UI did not finish within {RUN_TIMEOUT} s: {runs}\n{ui.log_tail()}")


def test_materialize_one_partition_from_the_ui(dagster_ui: DagsterUI, page) -> None:  # noqa: F811
    from playwright.sync_api import expect

    ui = dagster_ui
    group_url = f"{ui.url}/locations/{ui.location_name}/asset-groups/oscars"
    asset_url = f"{ui.url}/assets/oscars/festival_nominations"
    try:
        # 1. the asset graph of the oscars group
        open_page(page, group_url)
        for name in ("oscars_org_ceremony_page", "imdb_edition_page", "enhanced_ceremony",
                     "festival_ceremonies", "festival_categories", "festival_nominations"):
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
        shot(page, "01_asset_graph")

        # 2. the partitions of festival_nominations: nothing materialized yet
        open_page(page, f"{asset_url}?view=partitions")
        expect(page.get_by_text("Materialized (0)")).to_be_visible()
        expect(page.get_by_text(YEAR, exact=True).first).to_be_visible()
        shot(page, "02_partitions_before")

        # 3. Materialize all… → (upstream festival_organizations is unmaterialized: confirm) → partition 2024
        open_page(page, group_url)
        page.get_by_role("button", name="Materialize all…").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        confirm = dialog.get_by_role("button", name="Confirm")
        partition_input = dialog.get_by_placeholder("ex: ", exact=False)
        expect(confirm.or_(partition_input)).to_be_visible()
        if confirm.is_visible():
            shot(page, "03_upstream_warning")
            confirm.click()
        expect(partition_input).to_be_visible()
        partition_input.fill(YEAR)
        partition_input.press("Enter")
        expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
        launch = dialog.get_by_role("button", name="Launch 1 run")
        expect(launch).to_be_enabled()
        shot(page, "04_launch_dialog")
        launch.click()
        expect(page.get_by_text("Launched run")).to_be_visible()
        shot(page, "05_launched")

        # 4. the daemon dequeues and runs it
        run = wait_for_ui_run(ui)
        assert run["status"] == "SUCCESS", (run, ui.log_tail())
        assert nominations(ui.database_url, int(YEAR)) > 100
        open_page(page, f"{ui.url}/runs/{run['runId']}")
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        shot(page, "06_run")

        # 5. the asset page, reloaded: metadata and check results of the run
        open_page(page, asset_url)
        expect(page.get_by_text("Row count", exact=True)).to_be_visible()
        expect(page.get_by_text("winners", exact=True).first).to_be_visible()
        expect(page.get_by_text("Latest check results")).to_be_visible()
        shot(page, "07_asset_overview")

        # the blocking check that refuses a year losing a substantial part of its rows
        open_page(page, f"{asset_url}?view=checks")
        check = page.locator('[title="no_substantial_shrink"]').first
        expect(check).to_be_visible()
        check.click()
        expect(page.get_by_role("heading", name="no_substantial_shrink").or_(
            page.get_by_text("No year loses a whole category", exact=False))).to_be_visible()
        expect(page.get_by_text("blocking", exact=True).first).to_be_visible()  # "This is a blocking asset check"
        expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
        expect(page.get_by_text("accept_shrink", exact=True).first).to_be_visible()
        assert page.get_by_text("Failed", exact=True).count() == 0
        shot(page, "08_check_no_substantial_shrink")

        # 6. the partitions view again: 2024 materialized, with that year's own metadata
        open_page(page, f"{asset_url}?view=partitions&partition={YEAR}")
        expect(page.get_by_text("Materialized (1)")).to_be_visible()
        expect(page.get_by_text("dagster/row_count", exact=True)).to_be_visible()
        expect(page.get_by_text("winners", exact=True).first).to_be_visible()
        partitions_png = shot(page, "09_partitions_after")

        open_page(page, group_url)
        expect(page.get_by_text("festival_nominations", exact=True).first).to_be_visible()
        expect(page.get_by_text("2 / 2 Passed").first).to_be_visible()
        graph_png = shot(page, "10_asset_graph_after")
    except BaseException:
        shot(page, "failure")
        raise

    if os.environ.get("FESTIVAL_UPDATE_README_SCREENSHOTS") == "1":  # opt-in: a test run leaves the tree clean
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(graph_png, README_IMAGES / "asset_graph.png")
        shutil.copyfile(partitions_png, README_IMAGES / "partitions.png")
