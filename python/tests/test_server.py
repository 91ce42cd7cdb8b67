"""hela serve with the clients shippers and hunters use: the official Elasticsearch and
OpenSearch Python clients ship events (hela's sample, a Security-Datasets archive), curl
asks for SQL, and hela.connect reads the answers into pandas, which must equal the answers
of a lake ingested from the same events."""

import gzip
import json
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

import hela

ROOT = Path(__file__).resolve().parents[2]
WMI_LATERAL = ROOT.parent / "shared" / "datasets" / "security-datasets" / "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
BY_EVENT = "SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY EventID"
LATERAL = (
    "SELECT s.Hostname, s.TargetUserName, p.ParentImage, p.Image FROM events s JOIN events p "
    "ON s.TargetLogonId = p.LogonId WHERE s.EventID = 4624 AND s.LogonType = '3' AND p.EventID = 1 ORDER BY 4, 3, 1, 2"
)


class Server:
    """``python -m hela serve`` on a free loopback port (and with ``flight``, Flight SQL on
    another); its log goes to a file."""

    def __init__(self, lake: Path, *args: str, flight: bool = False):
        self.log = lake.parent / f"{lake.name}.log"
        ports = ["--listen", "127.0.0.1:0", *(["--flight", "127.0.0.1:0"] if flight else [])]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hela", "serve", "--lake", str(lake), *ports, "--commit-interval", "200", *args],
            stdout=subprocess.PIPE,
            stderr=open(self.log, "w"),
            text=True,
        )
        if flight:
            line = self.process.stdout.readline()
            assert line.startswith("flight sql on "), f"{line!r}\n{self.log.read_text()}"
            self.flight = line.split()[-1]
        line = self.process.stdout.readline()
        assert line.startswith("listening on "), f"{line!r}\n{self.log.read_text()}"
        self.url = line.split()[-1]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture()
def server(tmp_path):
    running = Server(tmp_path / "served")
    yield running
    running.kill()


def sample_actions(sample_file: Path, index: str = "winlogbeat") -> list[dict]:
    lines = [line for line in sample_file.read_text().splitlines() if line.strip()]
    return [{"_index": index, "_id": f"sample-{n}", "_source": json.loads(line)} for n, line in enumerate(lines)]


def test_the_elasticsearch_client_ships_the_sample_and_pandas_reads_what_a_lake_holds(server, lake, sample_file):
    from elasticsearch import Elasticsearch, helpers

    es = Elasticsearch(server.url, request_timeout=60)
    assert es.info()["version"]["number"].startswith("8.")
    actions = sample_actions(sample_file)
    shipped, errors = helpers.bulk(es, actions, chunk_size=500, refresh="wait_for")
    assert (shipped, errors) == (len(actions), [])

    remote = hela.connect(server.url)
    assert remote.tables() == ["events"]
    pandas_remote = remote.sql(BY_EVENT).to_pandas()
    pandas_local = lake.sql(BY_EVENT).to_pandas()
    assert pandas_remote.equals(pandas_local), f"{pandas_remote}\n{pandas_local}"
    assert remote.sql(LATERAL).to_arrow().equals(lake.sql(LATERAL).to_arrow())
    assert remote.sql(LATERAL).to_arrow().column("Image").to_pylist()[-1].lower().endswith("whoami.exe")

    # A shipper's retry of the whole batch stores nothing twice.
    shipped, errors = helpers.bulk(es, actions, chunk_size=1000, refresh="wait_for")
    assert (shipped, errors) == (len(actions), [])
    total = remote.sql("SELECT count(*) AS n, count(DISTINCT _id) AS ids FROM events").to_pandas()
    assert total.to_dict("records") == [{"n": len(actions), "ids": len(actions)}]

    # streaming_bulk with bad documents among good ones: each bad one gets its error, the
    # good ones are stored.
    mixed = [
        {"_index": "winlogbeat", "_id": "good-1", "_source": {"EventID": 4688, "Hostname": "WKS9"}},
        {"_index": "winlogbeat", "_id": "bad-1", "_source": "a string, not an object"},
        {"_index": "winlogbeat", "_id": "good-2", "_source": {"EventID": 4688, "Hostname": "WKS9"}},
        {"_index": "winlogbeat", "_id": "bad-2", "_source": {"_id": "metadata in the document"}},
    ]
    results = list(helpers.streaming_bulk(es, mixed, raise_on_error=False, refresh="wait_for"))
    assert [ok for ok, _ in results] == [True, False, True, False]
    assert results[1][1]["index"]["status"] == 400
    assert "metadata field" in results[3][1]["index"]["error"]["reason"]
    assert remote.sql("SELECT count(*) AS n FROM events WHERE Hostname = 'WKS9'").to_pandas()["n"][0] == 2
    assert server.stop() == 0
    quarantined = [json.loads(line) for path in (server.log.parent / "served" / "quarantine").iterdir() for line in path.read_text().splitlines()]
    texts = sorted(q["text"] for q in quarantined)
    assert texts[0] == "a string, not an object" and json.loads(texts[1]) == {"_id": "metadata in the document"}, texts


def test_the_opensearch_client_ships_a_security_dataset_as_hela_ingest_stores_it(tmp_path):
    if not WMI_LATERAL.exists():
        pytest.skip(f"{WMI_LATERAL} is not there (the shared datasets are absent)")
    from opensearchpy import OpenSearch, helpers

    with zipfile.ZipFile(WMI_LATERAL) as archive:
        lines = [line for name in archive.namelist() for line in archive.read(name).splitlines() if line.strip()]
    local = hela.Connection(tmp_path / "local")
    local.ingest(WMI_LATERAL)
    running = Server(tmp_path / "served")
    try:
        client = OpenSearch(hosts=[running.url], timeout=60)
        actions = ({"_index": "mordor", "_source": json.loads(line)} for line in lines)
        shipped, errors = helpers.bulk(client, actions, chunk_size=1000, refresh="wait_for")
        assert (shipped, errors) == (len(lines), [])
        remote = hela.connect(running.url)
        assert remote.sql(BY_EVENT).to_pandas().equals(local.sql(BY_EVENT).to_pandas())
        assert remote.sql(LATERAL).to_arrow().equals(local.sql(LATERAL).to_arrow())
        assert len(remote.sql(LATERAL).to_arrow()) > 0
        assert running.stop() == 0
    finally:
        running.kill()


def test_curl_speaks_to_it_with_compressed_bulk_bodies_and_sql_formats(server, sample_file, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    body = "".join(f'{{"index":{{"_index":"winlogbeat"}}}}\n{line}\n' for line in sample_file.read_text().splitlines()[:100])
    compressed = tmp_path / "bulk.ndjson.gz"
    compressed.write_bytes(gzip.compress(body.encode()))

    def curl(*args: str) -> str:
        return subprocess.run(["curl", "-sS", "--fail-with-body", *args], check=True, capture_output=True, text=True).stdout

    answer = json.loads(curl(f"{server.url}/_bulk?refresh=wait_for", "-H", "Content-Type: application/x-ndjson", "-H", "Content-Encoding: gzip", "--data-binary", f"@{compressed}"))
    assert answer["errors"] is False and len(answer["items"]) == 100
    query = json.dumps({"query": "SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY n DESC, EventID LIMIT 3"})
    elastic = json.loads(curl(f"{server.url}/_sql", "-H", "Content-Type: application/json", "-d", query))
    assert [c["name"] for c in elastic["columns"]] == ["EventID", "n"]
    assert [c["type"] for c in elastic["columns"]] == ["long", "long"]
    csv = curl(f"{server.url}/_sql?format=csv", "-H", "Content-Type: application/json", "-d", query)
    assert csv.splitlines() == ["EventID,n", *(f"{a},{b}" for a, b in elastic["rows"])]
    text = curl(f"{server.url}/_sql?format=txt", "-H", "Content-Type: application/json", "-d", query)
    assert "| EventID | n " in text and "3 rows" in text
    metrics = curl(f"{server.url}/metrics")
    assert "hela_documents_acknowledged_total 100" in metrics
    health = json.loads(urllib.request.urlopen(f"{server.url}/_hela/health").read())
    assert health["status"] == "green"
