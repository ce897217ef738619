"""The pages in a real browser (Debian's chromium, driven by Playwright) against a real gunicorn.

One gunicorn and one browser serve the whole module; tests that add events add
only to Manchester after the dates the other tests look at.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIF_2014 = "e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"
# What a strict Content Security Policy allows: the pages must work under it (no inline script or style).
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"no chromium at {CHROMIUM} (python3 dev.py test installs it as root)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timeline(env: dict, *args: str) -> str:
    return subprocess.run([str(BIN / "timeline"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """gunicorn over a freshly migrated and seeded database, and a token for it."""
    folder = tmp_path_factory.mktemp("live")
    env = dict(os.environ, TIMELINE_DATABASE=str(folder / "timeline.db"), WEB_CONCURRENCY="2")
    timeline(env, "db", "upgrade")
    timeline(env, "seed")
    token = timeline(env, "tokens", "create", "browser-tests")
    port = free_port()
    log = open(folder / "gunicorn.log", "w+")
    process = subprocess.Popen([str(BIN / "python"), "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                                f"127.0.0.1:{port}", "wsgi:app"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/static/site.css", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail("gunicorn did not start:\n" + log.read())
            time.sleep(0.2)
    yield base, token
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # LANGUAGE picks Chromium's own locale (with chromium-l10n's en-GB.pak): the date control then shows dd/mm/yyyy.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--lang=en-GB"],
                                              env={**os.environ, "LANGUAGE": "en_GB"})
        yield chromium
        chromium.close()


def with_csp(route) -> None:
    """Serve every response under the strict policy the service's security headers set."""
    response = route.fetch(max_redirects=0)
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})


@pytest.fixture
def page(browser):
    # en-GB: the date control (<input type=date>) shows its value in the browser's locale, day first here.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.route("**/*", with_csp)
    page = context.new_page()
    page.set_default_timeout(5000)
    errors: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: "/static/" in r.url and r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    yield page
    context.unroute_all(behavior="ignoreErrors")  # a request still in flight (the favicon) may end with the page
    context.close()
    assert not errors, errors  # no script error, no missing asset


def names(page) -> list[str]:
    return page.eval_on_selector_all("#authorities tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.name)")


def test_home_table_sorts_by_clicking_a_heading_and_filters_as_you_choose(page, live):
    base, _ = live
    page.goto(base + "/?as_of=2015-01-01")
    assert len(names(page)) == 153
    assert page.locator("svg.national-chart title").text_content() == "Authorities by overall grade on 1 January 2015"
    overall = page.locator("th[data-key=grade_overall]")
    overall.get_by_role("link").click()
    assert overall.get_attribute("aria-sort") == "ascending" and names(page)[0] == "Manchester"
    overall.get_by_role("link").click()
    assert overall.get_attribute("aria-sort") == "descending" and names(page)[-1] == "Manchester"
    page.get_by_label("Region").select_option("North West")
    assert len(names(page)) == 24
    assert page.locator("#row-count").text_content() == "Showing 24 of 153 authorities."
    page.get_by_label("Name contains").fill("manc")
    assert names(page) == ["Manchester"]
    page.locator("#authorities tbody tr:not([hidden]) th a").click()
    page.wait_for_url(base + "/authorities/manchester?as_of=2015-01-01")


def test_keyboard_reaches_a_sort_control_and_activates_it(page, live):
    base, _ = live
    page.goto(base + "/")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('th') && document.activeElement.closest('th').dataset.key") == "region":
            break
    else:
        pytest.fail("Tab never reached the Region heading")
    page.keyboard.press("Enter")
    assert page.locator("th[data-key=region]").get_attribute("aria-sort") == "ascending"
    regions = page.eval_on_selector_all("#authorities tbody tr", "rows => rows.map(r => r.dataset.region)")
    assert regions == sorted(regions) and regions[0] == "East Midlands"


def test_authority_page_changes_with_the_date_control(page, live):
    base, _ = live
    page.goto(base + "/authorities/manchester")
    assert "Outstanding" in page.locator("#status-overall").text_content()
    page.get_by_label("Show this page as of").fill("2015-01-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"as_of=2015-01-01"))
    assert re.search(r"Inadequate", page.locator("#status-overall").text_content())
    assert "under monitoring since 1 September 2014" in page.locator("#status-regime").text_content()
    assert page.locator("#events > li").count() == 7
    assert page.get_by_role("heading", name="Status on 1 January 2015").is_visible()
    assert page.locator("svg.judgement-chart").is_visible() and page.locator("svg.event-chart").is_visible()
    json_link = page.get_by_role("link", name="Status as JSON")
    assert json_link.get_attribute("href") == "/api/authorities/manchester/status?as_of=2015-01-01"
    json_link.click()
    page.wait_for_url(re.compile(r"/api/authorities/manchester/status"))
    assert json.loads(page.locator("body").text_content())["regime"]["summary"] == "monitoring"


def test_the_browser_reads_dates_the_british_way(page, live):
    base, _ = live
    page.goto(base + "/authorities/manchester?as_of=2015-01-01")
    assert page.evaluate("navigator.language") == "en-GB"
    assert page.evaluate("new Date(2015, 0, 2).toLocaleDateString()") == "02/01/2015"  # how the date control shows it
    assert page.get_by_label("Show this page as of").input_value() == "2015-01-01"
    assert "1 September 2014" in page.locator("#events time").all_text_contents()


def test_a_missing_page_is_a_page_with_a_way_home(page, live):
    base, _ = live
    response = page.goto(base + "/authorities/no-such-place")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    assert page.get_by_role("heading", level=1).text_content() == "Unknown authority"
    page.get_by_role("link", name="Go to the home page: every authority").click()
    page.wait_for_url(base + "/")
    assert len(names(page)) == 153


def test_event_page_shows_its_source_and_correction_history(page, live):
    base, token = live
    correction = {"kind": "correction", "effective_on": "2026-11-20", "source": {"title": "Ofsted erratum"},
                  "payload": {"target_event_id": SIF_2014, "reason": "Lead inspector's title added",
                              "changes": {"payload": {"lead_inspector": "Peter McEntee HMI"}}}}
    request = urllib.request.Request(f"{base}/api/authorities/manchester/events", json.dumps(correction).encode(),
                                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    page.goto(f"{base}/authorities/manchester?as_of=2015-01-01")
    page.locator(f"#events a[href='/events/{SIF_2014}']").click()
    page.wait_for_url(f"{base}/events/{SIF_2014}")
    assert page.locator("dl.source a").get_attribute("href") == "https://files.ofsted.gov.uk/v1/file/50004281"
    assert "Lead inspector's title added" in page.locator("#corrections").text_content()
    page.get_by_text("As first recorded").click()
    expect(page.locator("details").filter(has_text="As first recorded").get_by_text("Peter McEntee", exact=True)).to_be_visible()


def test_monitoring_visit_through_the_form(page, live):
    base, token = live
    page.goto(base + "/authorities/manchester")
    page.get_by_role("link", name="Add a monitoring visit").click()
    page.get_by_label("Date of the letter").fill("2026-10-15")
    page.get_by_label("First day of the visit").fill("2026-09-30")
    page.get_by_label("Last day of the visit").fill("2026-10-01")
    page.get_by_label("Which visit this is").fill("0")
    page.get_by_label("Areas covered").fill("help and protection")
    page.locator("#payload-findings-0-text").fill("Supervision is not yet regular.")
    page.get_by_label("Finding 1 shows").select_option("new_concern")
    page.get_by_label("Document title").fill("Monitoring visit letter")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Add the visit").click()

    expect(page.locator("#error-summary")).to_be_focused()  # the list of what to fix is where reading starts
    error = page.locator(".field:has(#payload-ordinal) .field-error")
    assert "greater than or equal to 1" in error.text_content()
    assert page.locator("#payload-ordinal").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Areas covered").input_value() == "help and protection"  # kept
    assert page.get_by_label("Token").input_value() == ""  # never sent back

    page.get_by_label("Which visit this is").fill("5")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Add the visit").click()
    page.wait_for_url(re.compile(r"/events/[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).text_content() == "Monitoring visit 5"
    assert "browser-tests" in page.locator("dl.summary").text_content()

    page.get_by_role("link", name="Manchester").first.click()
    expect(page.locator("#events").get_by_role("link", name="Monitoring visit 5")).to_be_visible()
    assert page.locator("#status-concerns").text_content() == "2 open, 0 overdue"
