"""hela on a Ballista cluster from Python: a scheduler and two executors started with
`python -m hela cluster` on loopback, and `hela.connect(lake, cluster=URL)` giving the
local connection's answers."""

import subprocess
import sys

import pytest

import hela
from test_server import BY_EVENT, LATERAL


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "hela", "cluster", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process, process.stdout.readline().strip()


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
