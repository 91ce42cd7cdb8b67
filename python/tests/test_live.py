"""Sigma rules standing on hela serve: every event stored, by _bulk or Kafka, runs through
them before its commit; the detections are stored with the events and delivered to a
webhook receiver, a JSON-lines file, a Kafka topic and the server-sent-events stream. What
each sink receives is checked against `hela hunt` over the same events with the same rules,
through kill -9 of the server and restarts. Correlations keep their open windows through a
kill -9; a rule added while the server runs is run over the lake's history; scheduled SQL
queries raise each row once across their overlapping windows and a restart."""

import http.client
import json
import signal
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

import hela
from test_kafka import broker, lines  # noqa: F401 (the broker fixture)
from test_server import Server, sample_actions

RULES = {
    "whoami.yml": ("Whoami Run", "medium", "category: process_creation", "Image|endswith: '\\whoami.exe'"),
    "powershell.yml": ("PowerShell Started", "high", "category: process_creation", "Image|endswith: '\\powershell.exe'"),
    "network_logon.yml": ("Network Logon", "low", "service: security", "EventID: 4624\n    LogonType: 3"),
    "svchost_network.yml": ("Svchost Network Connection", "informational", "category: network_connection", "Image|endswith: '\\svchost.exe'"),
}


def write_rule(directory: Path, name: str, number: int) -> None:
    title, level, source, selection = RULES[name]
    (directory / name).write_text(
        f"title: {title}\nid: 5a3c0c6e-000{number}-4000-8000-00000000000{number}\nstatus: test\nlevel: {level}\n"
        f"logsource:\n  product: windows\n  {source}\ndetection:\n  selection:\n    {selection}\n  condition: selection\n"
    )


@pytest.fixture()
def rules(tmp_path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    for number, name in enumerate(RULES, start=1):
        write_rule(directory, name, number)
    return directory


def hunted(rules: Path, events: Path, tmp_path: Path) -> Counter:
    """What `hela hunt` finds in the same events with the same rules, by rule and event."""
    out = tmp_path / f"{events.stem}.hunt.jsonl"
    assert hela.command("hunt", "--sigma", rules, "--format", "jsonl", "--output", out, "--quiet", events) == 0
    return Counter(key(json.loads(line)) for line in out.read_text().splitlines())


def key(detection: dict) -> tuple:
    return detection["rule_id"], detection["Hostname"], detection["EventRecordID"]


class Receiver:
    """A webhook receiver on a free loopback port: it keeps every alert POSTed, answers 503
    to the first `refuse` requests, and holds requests while `hold` is set."""

    def __init__(self, refuse: int = 0):
        self.alerts: list[dict] = []
        self.headers: list[str] = []
        self.refuse = refuse
        self.hold = threading.Event()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hold.is_set():
                    receiver.released.wait(60)
                    self.send_response(503)
                    self.end_headers()
                    return
                if receiver.refuse > 0:
                    receiver.refuse -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.alerts.append(json.loads(body))
                receiver.headers.append(self.headers["Idempotency-Key"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/hela"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def distinct(self) -> dict:
        """The alerts received, one per detection id (a repeat must be the same alert)."""
        by_id = {}
        for alert in self.alerts:
            seen = by_id.setdefault(alert["detection_id"], alert)
            assert {k: v for k, v in seen.items() if k != "detected_at"} == {k: v for k, v in alert.items() if k != "detected_at"}
        return by_id

    def wait_for(self, count: int, server: Server, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while len(self.distinct()) < count:
            assert time.monotonic() < deadline, f"{len(self.distinct())} of {count} alerts received\n{server.log.read_text()}"
            time.sleep(0.1)
        return self.distinct()


class EventStream:
    """A client of GET /_hela/alerts, collecting the alert events."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.connection.request("GET", "/_hela/alerts")
        response = self.connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
        self.alerts: list[dict] = []
        self.ended = threading.Event()

        def read():
            event = None
            for line in response:
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: ") and event == "alert":
                    self.alerts.append(json.loads(line[len("data: "):]))
            self.ended.set()

        threading.Thread(target=read, daemon=True).start()


def stored(server: Server, sql: str) -> list[dict]:
    return hela.connect(server.url).sql(sql).to_arrow().to_pylist()


def bulk(server: Server, actions: list[dict], refresh: str | bool) -> None:
    from elasticsearch import Elasticsearch, helpers

    shipped, errors = helpers.bulk(Elasticsearch(server.url, request_timeout=60), actions, chunk_size=500, refresh=refresh)
    assert (shipped, errors) == (len(actions), [])


def wait_until(server: Server, condition, what: str, timeout: float = 20) -> None:
    """Waits until `condition()` holds; fails after `timeout` s naming what was awaited,
    with the server's log."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}\n{server.log.read_text()}"
        time.sleep(0.2)


def alerts_in(path: Path, count: int, timeout: float = 30) -> list[dict]:
    """The alerts a JSON-lines file holds, once they are `count` or `timeout` s have passed."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if len(alerts) >= count or time.monotonic() >= deadline:
            return alerts
        time.sleep(0.1)


def standing_rules(server: Server) -> list[dict]:
    """What GET /_hela/rules says stands."""
    with urllib.request.urlopen(server.url + "/_hela/rules", timeout=10) as answer:
        return json.load(answer)["standing"]


@pytest.fixture()
def receiver():
    running = Receiver(refuse=3)
    yield running
    running.close()


def test_detections_are_stored_with_their_events_and_every_sink_gets_each_once_through_kill_9(tmp_path, rules, sample_file, receiver):
    expected = hunted(rules, sample_file, tmp_path)
    assert sum(expected.values()) > 900 and len(expected) == sum(expected.values()), "one detection per rule and event"
    alerts_file = tmp_path / "alerts.jsonl"
    lake = tmp_path / "served"
    args = ("--rules", str(rules), "--webhook", receiver.url, "--alerts-file", str(alerts_file))

    server = Server(lake, *args)
    try:
        stream = EventStream(server.url)
        # The receiver holds the alerts: they are committed with their events and not
        # delivered when the server is killed.
        receiver.hold.set()
        bulk(server, sample_actions(sample_file), refresh="wait_for")
        detections = stored(server, "SELECT count(*) AS n, count(DISTINCT detection_id) AS ids, max(detection_seq) AS last FROM detections")
        assert detections == [{"n": len(expected), "ids": len(expected), "last": len(expected)}]
        deadline = time.monotonic() + 30
        while len(stream.alerts) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Counter(key(a) for a in stream.alerts) == expected, "the event stream gets every alert as it is committed"
        server.kill()
    finally:
        server.kill()
    receiver.hold.clear()
    receiver.released.set()
    assert receiver.distinct() == {}, "nothing was delivered before the kill"

    # Restarted, the server delivers what the lake holds and the webhook never took.
    server = Server(lake, *args)
    try:
        received = receiver.wait_for(len(expected), server)
        assert Counter(key(a) for a in received.values()) == expected
        assert receiver.headers == [a["detection_id"] for a in receiver.alerts], "the id is the Idempotency-Key too"
        assert receiver.refuse == 0 and "warning: alerts to webhook" in server.log.read_text(), "refusals are retried"
        # Events acknowledged and killed before their commit are detected when the log is
        # replayed at the next start, and delivered then.
        bulk(server, sample_actions(sample_file, index="second"), refresh=False)
        server.kill()
    finally:
        server.kill()

    server = Server(lake, *args)
    try:
        received = receiver.wait_for(2 * len(expected), server)
        second = [a for a in received.values() if a["source"] == "second"]
        assert Counter(key(a) for a in second) == expected
        detections = stored(server, "SELECT source, count(*) AS n, count(DISTINCT detection_id) AS ids FROM detections GROUP BY 1 ORDER BY 1")
        assert detections == [{"source": s, "n": len(expected), "ids": len(expected)} for s in ("second", "winlogbeat")]
        # A detection names the stored event it fired on.
        joined = stored(
            server,
            "SELECT count(*) AS n FROM detections d JOIN events e ON d.source = e._index AND d.source_id = e._id "
            "WHERE d.rule_title = 'Whoami Run' AND lower(e.Image) LIKE '%whoami.exe'",
        )
        assert joined == [{"n": 2}]
        assert server.stop() == 0
    finally:
        server.kill()
    filed = {json.loads(line)["detection_id"] for line in alerts_file.read_text().splitlines()}
    assert filed == set(received), "the alerts file holds every alert"


def test_rules_reload_when_their_files_change_and_a_broken_file_keeps_the_rules_standing(tmp_path, sample_file):
    rules = tmp_path / "rules"
    rules.mkdir()
    write_rule(rules, "whoami.yml", 1)
    alerts_file = tmp_path / "alerts.jsonl"
    server = Server(tmp_path / "served", "--rules", str(rules), "--alerts-file", str(alerts_file))

    def standing() -> list[str]:
        return sorted(rule["title"] for rule in standing_rules(server))

    try:
        assert standing() == ["Whoami Run"]
        write_rule(rules, "powershell.yml", 2)
        wait_until(server, lambda: standing() == ["PowerShell Started", "Whoami Run"], "a new rule file is loaded")
        # Saved as editors save: written beside it, then renamed over it.
        (rules / "whoami.yml.partial").write_text("title: Whoami Run\ndetection: [unclosed\n")
        (rules / "whoami.yml.partial").replace(rules / "whoami.yml")
        wait_until(server, lambda: "rules not reloaded" in server.log.read_text(), "a broken rule file is reported")
        assert standing() == ["PowerShell Started", "Whoami Run"], "the rules standing stay"
        server.process.send_signal(signal.SIGHUP)
        wait_until(server, lambda: server.log.read_text().count("rules not reloaded") == 2, "SIGHUP reloads")
        assert str(rules / "whoami.yml") in server.log.read_text()

        bulk(server, sample_actions(sample_file), refresh="wait_for")
        titles = sorted(alert["rule_title"] for alert in alerts_in(alerts_file, 2, timeout=10))
        assert titles == ["PowerShell Started", "Whoami Run"]
        assert server.stop() == 0
    finally:
        server.kill()


def test_rules_stand_on_kafka_topics_of_both_shapes_and_alerts_are_written_to_a_topic(tmp_path, rules, sample_file, broker):
    from confluent_kafka import Consumer

    winlogbeat_file = tmp_path / "winlogbeat.json"
    assert hela.command("sample", "--out", winlogbeat_file, "--events", "1000", "--shape", "winlogbeat") == 0
    expected = hunted(rules, sample_file, tmp_path) + hunted(rules, winlogbeat_file, tmp_path)
    broker.create_topic("nxlog", 2)
    broker.create_topic("winlogbeat", 1)
    broker.create_topic("alerts", 1)
    broker.produce("nxlog", lines(sample_file))
    broker.produce("winlogbeat", lines(winlogbeat_file))
    server = Server(tmp_path / "served", "--kafka", broker.address, "--topic", "nxlog,winlogbeat", "--rules", str(rules), "--alerts-topic", "alerts")
    try:
        consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "soc", "auto.offset.reset": "earliest"})
        consumer.subscribe(["alerts"])
        alerts = {}
        deadline = time.monotonic() + 90
        while len(alerts) < sum(expected.values()):
            assert time.monotonic() < deadline, f"{len(alerts)} of {sum(expected.values())} alerts\n{server.log.read_text()}"
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                alert = json.loads(message.value())
                assert message.key().decode() == alert["detection_id"]
                alerts[alert["detection_id"]] = alert
        consumer.close()
        # Winlogbeat's nested events fire the same rules as the flat ones.
        assert Counter(key(a) for a in alerts.values()) == expected
        assert {a["source"] for a in alerts.values()} == {"nxlog", "winlogbeat"}
        assert server.stop() == 0
    finally:
        server.kill()


EXAMPLE_CORRELATIONS = Path(__file__).resolve().parents[2] / "examples" / "correlations"


def correlation_key(detection: dict) -> tuple:
    return detection["rule_id"], detection["@timestamp"], json.dumps(detection["correlation"]["group"]), detection["correlation"]["value"]


def test_a_correlation_window_open_at_a_kill_9_is_read_back_and_fires_after_the_restart(tmp_path, sample_file):
    out = tmp_path / "hunt.jsonl"
    assert hela.command("hunt", "--sigma", EXAMPLE_CORRELATIONS, "--format", "jsonl", "--output", out, "--quiet", sample_file) == 0
    expected = Counter(correlation_key(json.loads(line)) for line in out.read_text().splitlines())
    assert sum(expected.values()) == 3, "the logon, then three processes in its session"
    actions = sample_actions(sample_file)
    logon = next(i for i, a in enumerate(actions) if a["_source"].get("TargetLogonId") == "0x3e8a1f2")
    alerts_file = tmp_path / "alerts.jsonl"
    lake = tmp_path / "served"
    args = ("--rules", str(EXAMPLE_CORRELATIONS), "--alerts-file", str(alerts_file))

    # The logon is committed, opening the correlation's window, and the server is killed.
    server = Server(lake, *args)
    try:
        bulk(server, actions[: logon + 1], refresh="wait_for")
        server.kill()
    finally:
        server.kill()
    assert not alerts_file.exists() or alerts_file.read_text() == ""
    assert list((lake / "live" / "windows").iterdir()), "the open window was saved with the commit"

    # Restarted, the server reads the window back: the processes that follow fire it.
    server = Server(lake, *args)
    try:
        bulk(server, actions[logon + 1 :], refresh="wait_for")
        alerts = alerts_in(alerts_file, 3)
        assert Counter(correlation_key(a) for a in alerts) == expected
        assert [len(a["correlation"]["events"]) for a in alerts] == [2, 3, 4]
        first = alerts[0]["correlation"]["events"][0]
        assert (first["source"], first["source_id"]) == ("winlogbeat", f"sample-{logon}"), "the logon stored before the kill"
        stored_detections = stored(server, "SELECT count(*) AS n, count(DISTINCT detection_id) AS ids FROM detections WHERE correlation IS NOT NULL")
        assert stored_detections == [{"n": 3, "ids": 3}]
        assert server.stop() == 0
    finally:
        server.kill()


def test_a_rule_added_while_the_server_runs_is_run_over_the_lakes_history(tmp_path, sample_file):
    rules = tmp_path / "rules"
    rules.mkdir()
    write_rule(rules, "powershell.yml", 2)
    alerts_file = tmp_path / "alerts.jsonl"
    lake = tmp_path / "served"
    server = Server(lake, "--rules", str(rules), "--alerts-file", str(alerts_file))

    def wait_for_log(text: str) -> None:
        wait_until(server, lambda: text in server.log.read_text(), f"{text!r} never logged", timeout=60)

    def standing() -> dict:
        return {rule["title"]: rule for rule in standing_rules(server)}

    try:
        bulk(server, sample_actions(sample_file), refresh="wait_for")
        live = len(alerts_file.read_text().splitlines())
        assert live > 0
        # A Sigma rule and a correlation are added: they are run over what the lake holds.
        write_rule(rules, "whoami.yml", 1)
        for example in EXAMPLE_CORRELATIONS.iterdir():
            (rules / example.name).write_text(example.read_text())
        # Whoami's rule and the correlation (its two rules feed it and raise nothing alone).
        wait_for_log("retro-hunt: 2 rules run over the lake's history")
        expected_whoami = sum(1 for d in hunted(rules, sample_file, tmp_path) if d[0] == "5a3c0c6e-0001-4000-8000-000000000001")
        out = tmp_path / "correlations.jsonl"
        assert hela.command("hunt", "--sigma", EXAMPLE_CORRELATIONS, "--format", "jsonl", "--output", out, "--quiet", sample_file) == 0
        correlated = sorted(json.loads(line)["@timestamp"] for line in out.read_text().splitlines())
        found = standing()
        assert found["Whoami Run"]["past_detections"] == expected_whoami
        assert found["Whoami Run"]["first_seen"].startswith("2020-09-21T")
        correlation = found["Network logon followed by a process in its logon session"]
        assert (correlation["correlation"], correlation["past_detections"], correlation["first_seen"]) == (True, 3, correlated[0])
        assert "past_detections" not in found["PowerShell Started"], "a rule that stood as the events came is not run again"
        rows = stored(server, "SELECT rule_title, count(*) AS n, count(detection_seq) AS numbered FROM detections WHERE retro_hunt GROUP BY 1 ORDER BY 1")
        assert rows == [
            {"rule_title": "Network logon followed by a process in its logon session", "n": 3, "numbered": 0},
            {"rule_title": "Whoami Run", "n": expected_whoami, "numbered": 0},
        ]
        assert len(alerts_file.read_text().splitlines()) == live, "past detections are stored, not delivered as alerts"

        # An edited rule is a new rule; what it finds that live detection stored already is
        # not stored twice.
        text = (rules / "powershell.yml").read_text()
        (rules / "powershell.yml").write_text(text.replace("level: high", "level: critical"))
        wait_for_log("retro-hunt: 1 rules run over the lake's history")
        assert "(0 new to the lake)" in server.log.read_text()
        twice = stored(server, "SELECT count(*) AS n FROM (SELECT detection_id FROM detections GROUP BY 1 HAVING count(*) > 1)")
        assert twice == [{"n": 0}]
        server.kill()
    finally:
        server.kill()

    # Restarted, the rules run over the history are remembered.
    server = Server(lake, "--rules", str(rules), "--alerts-file", str(alerts_file))
    try:
        time.sleep(3)
        assert "retro-hunt:" not in server.log.read_text()
        assert server.stop() == 0
    finally:
        server.kill()


SCHEDULED = """title: Network logons by source and account
id: 7d1f0a3e-3b2c-4e55-9d61-0c2b9a7e4f11
level: medium
status: test
every: 1s
lookback: 36500d
sql: |
  SELECT IpAddress, TargetUserName, count(*) AS logons, min(`@timestamp`) AS `@timestamp`
  FROM events WHERE EventID = 4624 AND LogonType = '3'
  GROUP BY IpAddress, TargetUserName
"""


def test_a_scheduled_query_raises_each_row_once_across_its_runs_and_a_restart(tmp_path, sample_file):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "logons.yml").write_text(SCHEDULED)
    (rules / "broken.yml").write_text("title: Broken\nid: b1\nevery: 1s\nsql: SELECT no_such_column FROM events\n")
    alerts_file = tmp_path / "alerts.jsonl"
    lake = tmp_path / "served"
    args = ("--rules", str(rules), "--alerts-file", str(alerts_file))
    query = SCHEDULED.split("sql: |\n")[1]

    def settle(count: int) -> list[dict]:
        alerts_in(alerts_file, count)
        time.sleep(3)  # three more runs over the same window
        return alerts_in(alerts_file, 0)

    def last_runs() -> dict:
        return {rule["title"]: rule["last_run"] for rule in standing_rules(server)}

    server = Server(lake, *args)
    try:
        bulk(server, sample_actions(sample_file), refresh="wait_for")
        expected = stored(server, query)
        assert len(expected) >= 1
        raised = settle(len(expected))
        assert sorted(a["fields"]["IpAddress"] for a in raised) == sorted(r["IpAddress"] for r in expected), "each row once"
        assert [a["detection_seq"] for a in raised] == list(range(1, len(expected) + 1))
        assert raised[0]["rule_title"] == "Network logons by source and account" and raised[0]["@timestamp"].startswith("2020-09-21T")
        # A logon from a new address makes a new row; the rows seen before are not raised again.
        newcomer = dict(sample_actions(sample_file)[0]["_source"], EventID=4624, LogonType="3", IpAddress="10.9.9.9", TargetUserName="mallory", Channel="security")
        bulk(server, [{"_index": "winlogbeat", "_id": "newcomer", "_source": newcomer}], refresh="wait_for")
        raised = settle(len(expected) + 1)
        assert len(raised) == len(expected) + 1 and raised[-1]["fields"]["IpAddress"] == "10.9.9.9"
        runs = last_runs()
        assert (runs["Network logons by source and account"]["rows"], runs["Network logons by source and account"]["raised"]) == (len(expected) + 1, 0)
        assert "no_such_column" in runs["Broken"]["error"]
        assert server.log.read_text().count("unknown column `no_such_column`") == 1, "an error is reported when it starts"
        server.kill()
    finally:
        server.kill()

    # Restarted, the rows raised within the lookback are read back and not raised again.
    server = Server(lake, *args)
    try:
        assert len(settle(len(expected) + 1)) == len(expected) + 1
        assert last_runs()["Network logons by source and account"]["raised"] == 0
        assert server.stop() == 0
    finally:
        server.kill()
