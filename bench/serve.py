#!/usr/bin/env python3
"""hela serve under load, against `hela ingest` of the same data in the same run.

* `hela ingest` of the corpus (bench/corpus.py, scale factor N): wall time and MB/s.
* `hela serve` on an empty lake: 4 bulk clients ship the corpus (requests of --batch
  documents, `index` actions with ids); then the benchmark queries (the ThreatHunter-Playbook
  analytics and the seeds' two hunts, as bench/run.py runs them) are timed idle through
  /_sql; then the 4 clients ship the corpus again (other ids) while 2 clients run the
  queries in a loop. Reported: sustained documents/s and MB/s until the last document is
  acknowledged (durable), alone and under the query load, bulk latency p50/p99, query
  latency under load against idle (geometric means; under load the lake holds one to two
  copies of the corpus, idle one), the server's peak RSS, and the ratio of serve's MB/s to
  `hela ingest`'s. Clients run on the same machine and take CPU from the server.
* Cold queries through the server (a fresh `hela sql --server` process per query, the lake
  holding one copy of the corpus) against DuckDB's cold queries (a fresh connection per
  query, as bench/run.py runs them) on a database of the same corpus, in the same run.

    python3 bench/serve.py --hela target/release/hela --scale 1
"""
import argparse
import atexit
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from run import SHARED, Served, compare, hela_views, in_worker, log, queries, run  # noqa: E402


def geomean(values):
    return math.exp(sum(math.log(max(v, 1e-6)) for v in values) / len(values))


class Server(Served):
    def __init__(self, hela, lake, log_path):
        self.process = subprocess.Popen([hela, 'serve', '--lake', lake, '--listen', '127.0.0.1:0'],
                                        stdout=subprocess.PIPE, stderr=open(log_path, 'w'), text=True)
        line = self.process.stdout.readline()
        if not line.startswith('listening on '):
            raise RuntimeError(f'hela serve did not start: {open(log_path).read()[-2000:]}')
        self.url = line.split()[-1]
        self.host, self.port = self.url.removeprefix('http://').rsplit(':', 1)
        atexit.register(self.kill)

    def connection(self):
        return http.client.HTTPConnection(self.host, int(self.port), timeout=600)


def query_once(connection, sql):
    body = json.dumps({'query': hela_views() + sql})
    started = time.perf_counter()
    connection.request('POST', '/_sql?format=arrow', body, {'Content-Type': 'application/json'})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f'query failed ({response.status}): {sql[:80]}')
    return time.perf_counter() - started


def stored_count(server, expected):
    """The documents the lake holds, once it holds `expected` or 30 s have passed."""
    connection = server.connection()
    deadline = time.monotonic() + 30
    while True:
        body = json.dumps({'query': 'SELECT count(DISTINCT _id) FROM events'})
        connection.request('POST', '/_sql', body, {'Content-Type': 'application/json'})
        stored = json.loads(connection.getresponse().read())['rows'][0][0]
        if stored == expected or time.monotonic() > deadline:
            return stored
        time.sleep(0.2)


def bulk_bodies(path, batch, shares, prefix):
    """The corpus as bulk request bodies, dealt round-robin to `shares` clients; ids are
    `prefix` and the line number."""
    bodies = [[] for _ in range(shares)]
    lines, count = [], 0
    with open(path, 'rb') as f:
        for number, line in enumerate(f):
            if not line.strip():
                continue
            lines.append(b'{"index":{"_index":"winlogbeat","_id":"%s%d"}}\n' % (prefix, number) + line.rstrip(b'\n') + b'\n')
            if len(lines) == batch:
                bodies[count % shares].append(b''.join(lines))
                lines, count = [], count + 1
    if lines:
        bodies[count % shares].append(b''.join(lines))
    return bodies


def ship(server, bodies, latencies, failures):
    connection = server.connection()
    for body in bodies:
        while True:
            started = time.perf_counter()
            connection.request('POST', '/_bulk', body, {'Content-Type': 'application/x-ndjson'})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 429:
                break
            # Back-pressure: the server is folding; send the same body again, as Beats do.
            time.sleep(0.5)
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or b'"errors":true' in answer[:200]:
            failures.append(answer[:300])


def duckdb_cold_times(data, qs, work):
    """DuckDB's cold query times on a database of `data`, or none without DuckDB."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        log('no duckdb (pip install duckdb sqlglot): the cold comparison is skipped')
        return {}
    db = os.path.join(work, 'duckdb-serve.db')
    in_worker('duckdb-ingest', data, db)
    queries_file = os.path.join(work, 'serve-queries.json')
    with open(queries_file, 'w') as out:
        json.dump(qs, out)
    _, _, inner = in_worker('duckdb-queries', db, 'cold', queries_file)
    log(f"duckdb cold queries done ({len(inner['errors'])} not answered)")
    return inner['times']


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hela', default=os.path.join(os.path.dirname(HERE), 'target', 'release', 'hela'))
    parser.add_argument('--scale', type=int, default=1)
    parser.add_argument('--batch', type=int, default=1000, help='documents per bulk request')
    parser.add_argument('--work', default=os.path.join(tempfile.gettempdir(), 'hela-bench'))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    data = corpus.build(args.scale, os.path.join(args.work, f'corpus-sf{args.scale}.json'), hela=args.hela)
    size_mb = os.path.getsize(data) / 1e6
    qs = queries(os.path.join(SHARED, 'conformance', 'thp', 'cases.jsonl'))

    lake = os.path.join(args.work, 'ingest-lake')
    shutil.rmtree(lake, ignore_errors=True)
    ingest_seconds, ingest_rss, _, _ = run([args.hela, 'ingest', '--quiet', '--lake', lake, data])
    log(f'hela ingest: {ingest_seconds:.1f} s, {size_mb / ingest_seconds:.0f} MB/s')

    duckdb_cold = duckdb_cold_times(data, qs, args.work)

    served = os.path.join(args.work, 'served-lake')
    shutil.rmtree(served, ignore_errors=True)
    server = Server(args.hela, served, os.path.join(args.work, 'serve.log'))
    documents = 0

    def ship_all(prefix, latencies, during=None):
        nonlocal documents
        bodies = bulk_bodies(data, args.batch, 4, prefix.encode())
        documents = sum(body.count(b'\n') // 2 for share in bodies for body in share)
        failures = []
        started = time.perf_counter()
        shippers = [threading.Thread(target=ship, args=(server, share, latencies, failures)) for share in bodies]
        for thread in shippers:
            thread.start()
        for thread in shippers:
            thread.join()
        if failures:
            raise RuntimeError(f'{len(failures)} bulk requests failed: {failures[0]!r}')
        return time.perf_counter() - started

    alone_latencies = []
    alone = ship_all('a', alone_latencies)
    log(f'hela serve, shipping alone: {alone:.1f} s, {size_mb / alone:.0f} MB/s')
    # Idle means idle: the lake holds every acknowledged document and folds nothing more.
    stored_count(server, documents)
    connection = server.connection()
    idle = {q['id']: statistics.median(query_once(connection, q['sql']) for _ in range(3)) for q in qs}
    cold = {q['id']: run([args.hela, 'sql', '--server', server.url, '--format', 'csv', hela_views() + q['sql']])[0] for q in qs}

    latencies, query_times, running = [], {q['id']: [] for q in qs}, [True]

    def hunt():
        connection = server.connection()
        while running[0]:
            for q in qs:
                if not running[0]:
                    break
                query_times[q['id']].append(query_once(connection, q['sql']))

    hunters = [threading.Thread(target=hunt) for _ in range(2)]
    for thread in hunters:
        thread.start()
    shipped = ship_all('b', latencies)
    running[0] = False
    for thread in hunters:
        thread.join()
    log(f'hela serve, shipping under query load: {shipped:.1f} s, {size_mb / shipped:.0f} MB/s')

    loaded = {i: statistics.median(t) for i, t in query_times.items() if t}
    rss = server.peak_rss_mb()
    stored = stored_count(server, 2 * documents)
    if stored != 2 * documents:
        raise RuntimeError(f'the lake holds {stored} documents of the {2 * documents} acknowledged')
    server.stop()

    latencies.sort()
    result = {
        'documents': documents, 'corpus_mb': size_mb, 'ingest_seconds': ingest_seconds,
        'ingest_mb_s': size_mb / ingest_seconds,
        'serve_alone_seconds': alone, 'serve_alone_mb_s': size_mb / alone, 'serve_alone_vs_ingest': ingest_seconds / alone,
        'serve_seconds': shipped,
        'serve_documents_s': documents / shipped, 'serve_mb_s': size_mb / shipped,
        'serve_vs_ingest': (size_mb / shipped) / (size_mb / ingest_seconds),
        'bulk_alone_p99_ms': sorted(alone_latencies)[int(len(alone_latencies) * 0.99)] * 1e3,
        'bulk_p50_ms': latencies[len(latencies) // 2] * 1e3, 'bulk_p99_ms': latencies[int(len(latencies) * 0.99)] * 1e3,
        'queries_idle_geomean_ms': geomean(idle.values()) * 1e3,
        'queries_loaded_geomean_ms': geomean([loaded[i] for i in loaded]) * 1e3,
        'queries_loaded_vs_idle': geomean([loaded[i] / idle[i] for i in loaded]),
        'query_rounds_under_load': min((len(t) for t in query_times.values()), default=0),
        'cold_server_geomean_ms': geomean(cold.values()) * 1e3,
        'cold_server_vs_duckdb_cold': compare(cold, duckdb_cold), 'serve_peak_rss_mb': rss,
    }
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    with open(os.path.join(HERE, 'results', 'serve.json'), 'w') as out:
        json.dump(result, out, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
