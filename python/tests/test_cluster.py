"""hela on a Ballista cluster from Python: a scheduler and two executors started with
`python -m hela cluster` on loopback, and `hela.connect(lake, cluster=URL)` giving the
local connection's answers; and a lake on an object store, written and read from Python."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hela
from test_server import BY_EVENT, LATERAL


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "hela", "cluster", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process, process.stdout.readline().strip()


@pytest.fixture()
def s3(tmp_path, monkeypatch):
    """An S3-compatible server (s3s-fs, which `.ci/run` installs) on loopback with a bucket
    `hunt`, and this process's environment (so the processes it starts later) pointed at it."""
    program = shutil.which("s3s-fs") or str(Path.home() / ".cargo/bin/s3s-fs")
    root = tmp_path / "s3"
    (root / "hunt").mkdir(parents=True)
    # s3s-fs cannot choose its own port: a free one is handed to it, and if another process
    # takes it first, s3s-fs exits and is started on another.
    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [program, "--host", "127.0.0.1", "--port", str(port), "--access-key", "hunter", "--secret-key", "hunter-secret", str(root)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while server.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        if server.poll() is None:
            break
    else:
        pytest.fail("s3s-fs did not start on any of five free ports")
    settings = {"AWS_ENDPOINT": f"http://127.0.0.1:{port}", "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "hunter", "AWS_SECRET_ACCESS_KEY": "hunter-secret", "AWS_REGION": "us-east-1"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    yield root
    server.kill()
    server.wait()


@pytest.fixture()
def cluster(tmp_path):
    scheduler, line = _start("scheduler", "--bind", "127.0.0.1:0")
    assert line.startswith("scheduler listening on df://"), line
    url = line.split()[-1]
    processes = [scheduler]
    for n in range(2):
        executor, line = _start("executor", "--scheduler", url, "--port", "0", "--cores", "1", "--work-dir", str(tmp_path / f"executor-{n}"))
        assert line.startswith("executor serving on "), line
        processes.append(executor)
    yield url
    for process in processes:
        process.kill()
        process.wait()


def test_a_connection_on_the_cluster_answers_as_the_local_one(lake, cluster):
    remote = hela.connect(lake.lake, cluster=cluster)
    for query in (BY_EVENT, LATERAL):
        assert remote.sql(query).to_pandas().equals(lake.sql(query).to_pandas()), query
    with pytest.raises(ValueError, match="cluster="):
        hela.connect("http://127.0.0.1:9200", cluster=cluster)


def test_a_lake_on_an_object_store_is_written_and_read_from_python_here_and_on_the_cluster(lake, sample_file, s3, cluster):
    store = hela.connect("s3://hunt/lakes/sample")
    store.ingest(sample_file)
    assert (s3 / "hunt/lakes/sample/catalog.json").is_file()
    remote = hela.connect("s3://hunt/lakes/sample", cluster=cluster)
    for query in (BY_EVENT, LATERAL):
        expected = lake.sql(query).to_pandas()
        assert store.sql(query).to_pandas().equals(expected), query
        assert remote.sql(query).to_pandas().equals(expected), query
