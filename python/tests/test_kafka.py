"""``hela serve --kafka``: a real broker (tansu) on loopback, a librdkafka producer
(confluent-kafka) writing hela's sample and a Security-Datasets file to it, and hela
consuming them into the lake exactly once, through a kill -9 and restarts."""

import json
import os
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

import hela

from test_server import Server

SHARED = Path(__file__).resolve().parents[3] / "shared"
TANSU = shutil.which("tansu") or str(Path.home() / ".cargo" / "bin" / "tansu")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """tansu, the Kafka-compatible broker, keeping its topics in memory, on a free loopback
    port."""

    def __init__(self, log: Path):
        if not os.path.exists(TANSU):
            pytest.fail("the Kafka tests need tansu: cargo install --locked tansu@0.6.0 --features dynostore")
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        url = f"tcp://{self.address}"
        self.process = subprocess.Popen(
            [TANSU, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    def create_topic(self, name: str, partitions: int) -> None:
        admin = AdminClient({"bootstrap.servers": self.address})
        for future in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
            future.result(timeout=30)

    def produce(self, topic: str, payloads: list[bytes]) -> None:
        """Sends every payload (keyed, so each key's partition is fixed) and waits for the
        broker to acknowledge all of them."""
        producer = Producer({"bootstrap.servers": self.address, "linger.ms": 5, "compression.type": "gzip"})
        failures = []
        for n, payload in enumerate(payloads):
            producer.produce(topic, payload, key=str(n).encode(), on_delivery=lambda err, _: err and failures.append(err))
            producer.poll(0)
        assert producer.flush(60) == 0 and failures == [], failures

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture()
def broker(tmp_path):
    running = Broker(tmp_path / "tansu.log")
    yield running
    running.stop()


def served_count(server: Server) -> int:
    """The events the server's lake holds (none before its first commit makes the table)."""
    try:
        return hela.connect(server.url).sql("SELECT count(*) AS n FROM events").to_arrow().column(0)[0].as_py()
    except hela.HelaError as error:
        if "table `events` not found" in str(error):
            return 0
        raise


def wait_for_count(server: Server, expected: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while (count := served_count(server)) < expected:
        assert time.monotonic() < deadline, f"{count} of {expected} stored\n{server.log.read_text()}"
        time.sleep(0.2)
    assert count == expected, f"{count} stored, {expected} produced"


def lines(path: Path) -> list[bytes]:
    return [line.encode() for line in path.read_text().splitlines() if line.strip()]


def test_both_record_shapes_are_consumed_as_an_ingest_stores_them_and_bad_messages_are_quarantined(broker, tmp_path, sample_file, lake):
    winlogbeat_file = tmp_path / "winlogbeat.json"
    assert hela.command("sample", "--out", winlogbeat_file, "--events", "500", "--shape", "winlogbeat") == 0
    nxlog, winlogbeat = lines(sample_file), lines(winlogbeat_file)
    broker.create_topic("nxlog", 3)
    broker.create_topic("winlogbeat", 2)
    broker.produce("nxlog", nxlog)
    broker.produce("winlogbeat", [*winlogbeat, b"not json", b"[1, 2]"])

    server = Server(tmp_path / "served", "--kafka", broker.address, "--topic", "nxlog,winlogbeat", "--group", "hunters")
    try:
        wait_for_count(server, len(nxlog) + len(winlogbeat))
        remote = hela.connect(server.url)
        by_topic = remote.sql("SELECT _index, count(*) AS n, count(DISTINCT _id) AS ids FROM events GROUP BY 1 ORDER BY 1").to_arrow().to_pylist()
        assert by_topic == [
            {"_index": "nxlog", "n": len(nxlog), "ids": len(nxlog)},
            {"_index": "winlogbeat", "n": len(winlogbeat), "ids": len(winlogbeat)},
        ]
        # The flat records are stored as `hela ingest` stores the same file: the lateral
        # movement hunt finds the same processes.
        hunt = (
            "SELECT p.Image, p.CommandLine FROM events s JOIN events p ON s.TargetLogonId = p.LogonId "
            "WHERE s.EventID = 4624 AND s.LogonType = '3' AND p.EventID = 1 {} ORDER BY p.Image, p.CommandLine"
        )
        served = remote.sql(hunt.format("AND s._index = 'nxlog' AND p._index = 'nxlog'")).to_arrow().to_pylist()
        assert served == lake.sql(hunt.format("")).to_arrow().to_pylist() and served[-1]["Image"].lower().endswith("whoami.exe")
        # The nested records keep their structure.
        nested = remote.sql("SELECT count(*) AS n FROM events WHERE _index = 'winlogbeat' AND event_data.LogonType IS NOT NULL").to_arrow().to_pylist()
        assert nested[0]["n"] > 0
        assert server.stop() == 0
    finally:
        server.kill()

    quarantined = [json.loads(line) for f in (tmp_path / "served" / "quarantine").iterdir() for line in f.read_text().splitlines()]
    assert sorted(q["text"] for q in quarantined) == ["[1, 2]", "not json"]
    for q in quarantined:
        assert q["source"].startswith("kafka topic winlogbeat partition "), q
        assert q["reason"].startswith(f"offset {q['line']}: the message is not"), q


def security_dataset() -> list[bytes]:
    archive = SHARED / "datasets" / "security-datasets" / "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
    if not archive.exists():
        pytest.skip(f"{archive} is not there (../shared/datasets)")
    with zipfile.ZipFile(archive) as z:
        member = next(name for name in z.namelist() if name.endswith(".json"))
        return [line for line in z.read(member).splitlines() if line.strip()]


def test_a_security_dataset_replayed_through_kill_9_and_restarts_is_stored_exactly_once(broker, tmp_path):
    records = security_dataset()
    half = len(records) // 2
    broker.create_topic("winlogbeat", 4)
    broker.produce("winlogbeat", records[:half])
    lake = tmp_path / "served"
    args = ("--kafka", broker.address, "--topic", "winlogbeat")

    # Killed as soon as the first commits are in: some of the topic is stored, some only read.
    server = Server(lake, *args)
    try:
        deadline = time.monotonic() + 60
        while served_count(server) == 0:
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.05)
    finally:
        server.kill()
    stored_before = hela.Connection(lake).sql("SELECT count(*) FROM events").to_arrow().column(0)[0].as_py()
    assert 0 < stored_before <= half

    # Restarted: it resumes from the lake's positions, while the rest is produced.
    server = Server(lake, *args)
    try:
        broker.produce("winlogbeat", records[half:])
        wait_for_count(server, len(records))
        assert server.stop() == 0
    finally:
        server.kill()

    # Restarted again with nothing new: nothing is read twice.
    server = Server(lake, *args)
    try:
        time.sleep(3)
        assert served_count(server) == len(records)
        assert server.stop() == 0
    finally:
        server.kill()

    stored = hela.Connection(lake)
    assert stored.sql("SELECT count(*) AS n, count(DISTINCT _id) AS ids FROM events").to_arrow().to_pylist() == [{"n": len(records), "ids": len(records)}]
    # Every produced record is there, once: the same records, by their Windows record number.
    produced = sorted((r["Hostname"], r["Channel"], r["RecordNumber"]) for r in map(json.loads, records))
    rows = stored.sql("SELECT Hostname, Channel, RecordNumber FROM events ORDER BY 1, 2, 3").to_arrow().to_pylist()
    assert sorted((r["Hostname"], r["Channel"], r["RecordNumber"]) for r in rows) == produced
