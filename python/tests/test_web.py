"""The web UI in a real browser: headless Chromium, driven by Selenium through Debian's
chromedriver, against `hela serve` on loopback with API keys, standing rules, the example
playbooks and hela's sample. Each page is checked against what the server's SQL says, and
saved as a screenshot (into $HELA_SCREENSHOTS when set, which is how the README's are made)."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import hela
from test_server import Server

selenium = pytest.importorskip("selenium", reason="the browser tests need selenium (pip install '.[test]')")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LATERAL = (
    "SELECT s.Hostname, s.IpAddress, s.TargetUserName, p.ParentImage, p.Image, p.CommandLine "
    "FROM events s JOIN events p ON s.TargetLogonId = p.LogonId "
    "WHERE s.EventID = 4624 AND s.LogonType = '3' AND p.EventID = 1 ORDER BY p.Image"
)
WHOAMI_RULE = """title: Whoami Run
id: 0f0b5f3e-7f7c-4c55-9d59-5c3b8b2f0a11
status: test
level: medium
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
"""


def add_key(keys: Path, name: str, role: str) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "hela", "apikey", "add", "--auth", str(keys), "--name", name, "--role", role],
        check=True, capture_output=True, text=True,
    )
    return made.stdout.strip()


class Site:
    """The server, its keys, and calls to its API as a script would make them."""

    def __init__(self, server: Server, reader: str, shipper: str, shots: Path):
        self.server, self.url, self.reader, self.shipper, self.shots = server, server.url, reader, shipper, shots

    def call(self, path: str, body: bytes | None = None, key: str | None = None, kind: str = "application/json") -> dict:
        request = urllib.request.Request(self.url + path, data=body, headers={"Authorization": f"ApiKey {key or self.reader}", "Content-Type": kind})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def sql(self, query: str) -> list[list]:
        return self.call("/_sql", json.dumps({"query": query}).encode())["rows"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    sample, lake, rules, keys = root / "sample.json", root / "lake", root / "rules", root / "keys.toml"
    assert hela.command("sample", "--out", sample, "--events", "3000") == 0
    hela.Connection(lake).ingest(sample)
    rules.mkdir()
    (rules / "whoami.yml").write_text(WHOAMI_RULE)
    reader, shipper = add_key(keys, "hunter", "read"), add_key(keys, "shipper", "ingest")
    server = Server(lake, "--auth", str(keys), "--rules", str(rules), "--playbooks", str(EXAMPLES))
    shots = Path(os.environ.get("HELA_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    yield Site(server, reader, shipper, shots)
    assert server.stop() == 0


@pytest.fixture(scope="module")
def browser():
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no Chromium and chromedriver on this machine (.ci/run installs Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1440,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait(browser, condition, seconds: float = 20, message: str = ""):
    # The page redraws what it shows: an element read a moment ago may be gone, or not yet there.
    changing = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(browser, seconds, poll_frequency=0.05, ignored_exceptions=changing).until(lambda d: condition(d), message)


def find(browser, css: str):
    return browser.find_element(By.CSS_SELECTOR, css)


def found(browser, css: str) -> list:
    return browser.find_elements(By.CSS_SELECTOR, css)


def sign_in(browser, site: Site, key: str | None = None) -> None:
    browser.get(site.url + "/")
    wait(browser, lambda d: found(d, "form.login") or found(d, "#sql"))
    if found(browser, "#sql"):
        return
    find(browser, "#login-key").send_keys(key or site.reader)
    find(browser, "form.login button[type=submit]").click()
    wait(browser, lambda d: found(d, "#sql"), message="Discover did not open after signing in")


def count_shown(browser) -> int:
    wait(browser, lambda d: find(d, "#count").get_attribute("data-count") and find(d, "#count").text.endswith("rows"))
    return int(find(browser, "#count").get_attribute("data-count"))


def run_sql(browser, sql: str) -> None:
    area = find(browser, "#sql")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys(sql)
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    area.send_keys(Keys.CONTROL, Keys.ENTER)


def test_a_wrong_key_gets_the_login_page_and_never_data(site, browser):
    browser.get(site.url + "/")
    wait(browser, lambda d: found(d, "form.login"), message="no login page without a key")
    find(browser, "#login-key").send_keys(base64.b64encode(b"hunter:not-the-secret").decode())
    find(browser, "form.login button[type=submit]").click()
    wait(browser, lambda d: "did not accept" in find(d, "#login-message").text)
    assert found(browser, "form.login") and not found(browser, "#sql")
    page = browser.page_source
    assert "WORKSTATION5" not in page and "powershell" not in page.lower()
    browser.save_screenshot(str(site.shots / "login.png"))
    for key in ("", base64.b64encode(b"hunter:wrong").decode()):
        with pytest.raises(urllib.error.HTTPError) as refused:
            site.call("/_hela/ui/search", json.dumps({"sql": "SELECT * FROM events"}).encode(), key=key or "-")
        assert refused.value.code == 401
    # A key without the read role may not read either.
    with pytest.raises(urllib.error.HTTPError) as forbidden:
        site.call("/_hela/ui/search", json.dumps({"sql": "SELECT * FROM events"}).encode(), key=site.shipper)
    assert forbidden.value.code == 403
    # The page's files are public; nothing else under their path is.
    with pytest.raises(urllib.error.HTTPError) as refused:
        site.call("/ui/_doc", json.dumps({"EventID": 1}).encode(), key="-")
    assert refused.value.code == 401
    sign_in(browser, site)


def test_first_paint_comes_within_a_second(site, browser):
    sign_in(browser, site)
    browser.get(site.url + "/")
    wait(browser, lambda d: found(d, "#sql"))
    # The browser records the paint after it happens, which may be a moment after the form is there.
    paints = "return performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)"
    paint = wait(browser, lambda d: d.execute_script(paints), message="the browser recorded no first contentful paint")
    assert paint[0] < 1000, paint
    print(f"first contentful paint: {paint[0]:.0f} ms")


def test_discover_runs_the_lateral_movement_join_and_shows_its_three_rows(site, browser):
    sign_in(browser, site)
    run_sql(browser, LATERAL)
    assert count_shown(browser) == 3
    wait(browser, lambda d: len(found(d, "#rows tr.row")) == 3)
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in found(browser, "#rows tr.row")]
    assert sorted(c[4].rsplit("\\", 1)[-1] for c in cells) == ["conhost.exe", "powershell.exe", "whoami.exe"]
    assert {c[1] for c in cells} == {"172.18.39.5"}
    assert [c[4] for c in cells] == [row[4] for row in site.sql(LATERAL)]
    # The hunt is in the page's address: the link opens the same result.
    shared = browser.current_url
    browser.get("about:blank")
    browser.get(shared)
    wait(browser, lambda d: len(found(d, "#rows tr.row")) == 3, message="the shared link did not run the hunt")
    found(browser, "#rows tr.row")[0].click()
    wait(browser, lambda d: found(d, "tr.detail:not([hidden]) pre.event-json"))
    assert json.loads(find(browser, "tr.detail:not([hidden]) pre.event-json").text)["Image"].endswith("powershell.exe")


def test_the_histogram_bars_add_up_to_the_event_count(site, browser):
    sign_in(browser, site)
    run_sql(browser, "SELECT * FROM events ORDER BY `@timestamp` DESC")
    events = site.sql("SELECT count(*) FROM events")[0][0]
    assert count_shown(browser) == events
    wait(browser, lambda d: found(d, "#histogram-chart rect.bar"))
    bars = [int(b.get_attribute("data-count")) for b in found(browser, "#histogram-chart rect.bar")]
    assert sum(bars) == events and len(bars) > 10
    # The sample spans an hour: one bar a minute.
    assert "one bar per minute" in find(browser, "#histogram-caption").text
    wait(browser, lambda d: len(found(d, "#rows tr.row")) == 50)
    browser.save_screenshot(str(site.shots / "discover.png"))


def test_dragging_across_the_histogram_zooms_every_query_into_that_time(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    sign_in(browser, site)
    browser.get(site.url + "/#/discover")
    wait(browser, lambda d: found(d, "#histogram-chart rect.bar") and find(d, "#count").get_attribute("data-count"))
    chart = find(browser, "#histogram-chart")
    width = chart.size["width"]
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    ActionChains(browser).move_to_element_with_offset(chart, -width // 4, 0).click_and_hold().move_by_offset(width // 4, 0).release().perform()
    zoomed = count_shown(browser)
    assert find(browser, "#range").get_attribute("value") == "custom"
    start, end = (find(browser, f"#range-{side}").get_attribute("value") for side in ("from", "to"))
    assert start < end and "range=custom" in browser.current_url
    # The page's range is the URL's; the server holds every table to it.
    query = urllib.parse.parse_qs(browser.current_url.split("?", 1)[1])
    expected = site.sql(f"SELECT count(*) FROM events WHERE `@timestamp` >= '{query['from'][0]}' AND `@timestamp` < '{query['to'][0]}'")[0][0]
    assert 0 < zoomed == expected < site.sql("SELECT count(*) FROM events")[0][0]
    bars = [int(b.get_attribute("data-count")) for b in wait(browser, lambda d: found(d, "#histogram-chart rect.bar"))]
    assert sum(bars) == zoomed
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    find(browser, "#range").send_keys("All time")
    assert count_shown(browser) == site.sql("SELECT count(*) FROM events")[0][0]


def test_clicking_a_field_value_filters_and_the_count_is_what_sql_returns(site, browser):
    sign_in(browser, site)
    run_sql(browser, "SELECT * FROM events")
    before = count_shown(browser)
    find(browser, '.field[data-field="Image"] button.name').click()
    wait(browser, lambda d: found(d, '.field[data-field="Image"] button.filter-in'))
    value = found(browser, '.field[data-field="Image"] .value span.text')[0].text
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    found(browser, '.field[data-field="Image"] button.filter-in')[0].click()
    after = count_shown(browser)
    assert find(browser, "#filter").get_attribute("value").startswith("Image:")
    composed = find(browser, "#sql-run").text
    assert "WHERE `Image` = " in composed
    assert after == site.sql(f"SELECT count(*) FROM ({composed})")[0][0] == site.sql(f"SELECT count(*) FROM events WHERE Image = '{value.replace(chr(92), chr(92) * 2)}'")[0][0]
    assert 0 < after < before
    # And out: the rest of the events.
    find(browser, '.field[data-field="Image"] button.name').click()
    wait(browser, lambda d: found(d, '.field[data-field="Image"] button.filter-out'))
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    found(browser, '.field[data-field="Image"] button.filter-out')[0].click()
    assert count_shown(browser) == 0  # the value in and out at once
    # A quick filter typed by hand, with a wildcard.
    box = find(browser, "#filter")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Image:*WHOAMI* OR Image:*conhost.exe")
    browser.execute_script("document.getElementById('count').removeAttribute('data-count')")
    box.send_keys(Keys.ENTER)
    assert count_shown(browser) == site.sql("SELECT count(*) FROM events WHERE lower(Image) LIKE '%whoami%' OR lower(Image) LIKE '%conhost.exe'")[0][0]


def test_sql_errors_are_marked_where_they_are(site, browser):
    sign_in(browser, site)
    run_sql(browser, "SELECT Imagee FROM events")
    wait(browser, lambda d: found(d, "#message .error"))
    assert find(browser, ".editor .tok-err").text == "Imagee"
    # Completion from the lake's columns: Tab takes the first.
    area = find(browser, "#sql")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys("SELECT ParentCommandL")
    wait(browser, lambda d: find(d, ".completion").is_displayed())
    area.send_keys(Keys.TAB)
    assert area.get_attribute("value") == "SELECT ParentCommandLine"


def test_a_saved_query_comes_back_from_the_lake(site, browser):
    sign_in(browser, site)
    run_sql(browser, LATERAL)
    count_shown(browser)
    find(browser, "#save").click()
    name = find(browser, "#save-name")
    name.send_keys("WMI lateral movement", Keys.ENTER)
    wait(browser, lambda d: "Saved as" in find(d, "#message").text)
    saved = site.sql("SELECT name, body FROM saved_objects WHERE kind = 'query'")
    assert [row[0] for row in saved] == ["WMI lateral movement"] and json.loads(saved[0][1])["sql"] == LATERAL
    browser.get(site.url + "/#/discover")
    wait(browser, lambda d: len(found(d, "#saved-queries option")) == 2)
    find(browser, "#saved-queries").send_keys("WMI")
    assert count_shown(browser) == 3


def test_a_document_posted_to_bulk_shows_in_detections_within_two_seconds(site, browser):
    sign_in(browser, site)
    browser.get(site.url + "/#/detections")
    wait(browser, lambda d: find(d, "#live-status").text == "● live", message="the alert stream did not open")
    wait(browser, lambda d: found(d, "#detections tr.row"))
    document = {
        "@timestamp": "2020-09-21T01:45:00.000Z", "Hostname": "LIVE-TEST-HOST", "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 1, "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /priv", "RecordNumber": 77,
    }
    body = (json.dumps({"index": {"_index": "winlogbeat"}}) + "\n" + json.dumps(document) + "\n").encode()
    posted = time.monotonic()
    answer = site.call("/_bulk", body, key=site.shipper, kind="application/x-ndjson")
    assert not answer["errors"]
    row = wait(browser, lambda d: next((r for r in found(d, "#detections tr.row") if "LIVE-TEST-HOST" in r.text), None), 10)
    shown = time.monotonic() - posted
    print(f"a detection shown {shown * 1000:.0f} ms after its document was posted")
    assert shown < 2, shown
    assert "Whoami Run" in row.text
    detection_id = row.get_attribute("data-id")
    # Opened: its event, its rule and the events around it; its status kept in the lake.
    row.click()
    wait(browser, lambda d: "whoami /priv" in find(d, "#detection-event").text)
    assert "Image|endswith" in find(browser, "#detection-rule").text
    find(browser, "#triage").send_keys("investigating")
    wait(browser, lambda d: find(d, "#triage-saved").text == "saved")
    assert site.sql(f"SELECT state FROM triage WHERE detection_id = '{detection_id}'") == [["investigating"]]
    browser.save_screenshot(str(site.shots / "detections.png"))
    browser.refresh()
    wait(browser, lambda d: any(r.get_attribute("data-id") == detection_id and "investigating" in r.text for r in found(d, "#detections tr.row")))
    # Grouped by host, with counts.
    find(browser, "#group-by").send_keys("by host")
    wait(browser, lambda d: any("LIVE-TEST-HOST" in g.text and g.text.endswith("1") for g in found(d, "#groups .group")))


def test_the_process_tree_of_wmiprvse_shows_its_three_descendants(site, browser):
    sign_in(browser, site)
    browser.get(site.url + "/#/process")
    box = wait(browser, lambda d: found(d, "#process-search") and find(d, "#process-search"))
    box.send_keys("wmiprvse", Keys.ENTER)
    wait(browser, lambda d: found(d, "#processes button[data-guid]"))
    find(browser, "#processes button[data-guid]").click()
    wait(browser, lambda d: found(d, '#tree .proc[data-image="WmiPrvSE.exe"]'))
    root = find(browser, '#tree .proc[data-image="WmiPrvSE.exe"]').find_element(By.XPATH, "..")
    below = [p.get_attribute("data-image") for p in root.find_elements(By.CSS_SELECTOR, ":scope ul .proc")]
    assert sorted(below) == ["conhost.exe", "powershell.exe", "whoami.exe"]
    child = root.find_element(By.CSS_SELECTOR, ":scope > ul > li")
    assert child.find_element(By.CSS_SELECTOR, ".proc").get_attribute("data-image") == "powershell.exe"
    assert sorted(p.get_attribute("data-image") for p in child.find_elements(By.CSS_SELECTOR, ":scope > ul > li > .proc")) == ["conhost.exe", "whoami.exe"]
    assert "-enc" in child.find_element(By.CSS_SELECTOR, ".cmd").text
    child.find_element(By.CSS_SELECTOR, ".show-activity").click()
    wait(browser, lambda d: "No network or file events" in child.find_element(By.CSS_SELECTOR, ".activity").text)
    browser.save_screenshot(str(site.shots / "process-tree.png"))


def test_playbooks_run_with_the_report_the_cli_makes_and_dashboards_draw(site, browser):
    sign_in(browser, site)
    browser.get(site.url + "/#/playbooks")
    wait(browser, lambda d: found(d, '#playbooks button[data-name="lateral-movement.md"]'))
    find(browser, '#playbooks button[data-name="lateral-movement.md"]').click()
    summary = wait(browser, lambda d: found(d, "#report-summary") and find(d, "#report-summary"), 60)
    assert "2 expectations held, 0 not, 0 failed" in summary.text
    browser.switch_to.frame(find(browser, "iframe.report"))
    assert "172.18.39.5" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    browser.save_screenshot(str(site.shots / "playbooks.png"))
    browser.get(site.url + "/#/dashboards")
    wait(browser, lambda d: len(found(d, "#panels .panel")) == 4)
    wait(browser, lambda d: len(found(d, "#panels .panel img")) == 3 and found(d, "#panels .panel table"), 30)
    hosts = [r.text for r in found(browser, "#panels .panel table tbody tr")]
    assert any("WORKSTATION5" in h for h in hosts)

    # A saved query's edges drawn as a graph panel: who logged on where.
    logons = {"kind": "query", "name": "Logons between hosts", "body": {"sql": "SELECT DISTINCT src, dst FROM logon_graph(events)"}}
    site.call("/_hela/ui/saved", json.dumps(logons).encode())
    browser.refresh()
    wait(browser, lambda d: len(found(d, "#panels .panel img")) == 3 and any(o.text == logons["name"] for o in found(d, "select[aria-label='Saved query'] option")), 30)
    Select(find(browser, "select[aria-label='Saved query']")).select_by_visible_text(logons["name"])
    Select(find(browser, "select[aria-label='Chart']")).select_by_visible_text("graph")
    find(browser, "input[aria-label='x column']").send_keys("src")
    find(browser, "input[aria-label='y column']").send_keys("dst")
    next(b for b in found(browser, "button") if b.text == "Add").click()
    wait(browser, lambda d: len(found(d, "#panels .panel img")) == 4, 30)
    graph = found(browser, "#panels .panel img")[-1]
    svg = urllib.parse.unquote(graph.get_attribute("src").split(",", 1)[1])
    edges = site.sql(logons["body"]["sql"])
    vertices = {v for edge in edges for v in edge}
    assert len(edges) >= 3 and svg.count("<circle") == len(vertices) + len(edges), "a circle per vertex and a direction dot per edge"
    assert set(re.findall(r"<text[^>]*>\s*([^<]*?)\s*</text>", svg)) == vertices | {logons["name"]}, "each vertex labelled, under the title"
    browser.save_screenshot(str(site.shots / "dashboards.png"))
    browser.execute_script("arguments[0].scrollIntoView()", graph)
    browser.save_screenshot(str(site.shots / "dashboard-graph.png"))


def test_the_process_tree_reads_helk_names_on_a_helk_lake(tmp_path):
    sample, lake = tmp_path / "sample.json", tmp_path / "helk-lake"
    assert hela.command("sample", "--out", sample, "--events", "400") == 0
    assert hela.command("ingest", "--lake", lake, "--schema", "helk", sample) == 0
    server = Server(lake, "--schema", "helk")
    try:
        def get(path: str) -> dict:
            with urllib.request.urlopen(server.url + path, timeout=60) as response:
                return json.loads(response.read())

        [parent] = get("/_hela/ui/processes?q=wmiprvse")["processes"]
        assert parent["known"] is False and parent["image"].endswith("wmiprvse.exe")
        tree = get(f"/_hela/ui/process?guid={urllib.parse.quote(parent['guid'])}")["processes"]
        assert sorted(p["image"].rsplit("\\", 1)[-1] for p in tree) == ["conhost.exe", "powershell.exe", "whoami.exe", "wmiprvse.exe"]
    finally:
        assert server.stop() == 0
