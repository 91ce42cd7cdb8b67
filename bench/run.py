#!/usr/bin/env python3
"""hela against DuckDB and Apache Spark on the same data, in the same run.

For each scale factor (a corpus of the Security-Datasets JSON repeated N times with host
names and GUIDs varied per copy; `hela sample` events when ../shared is absent):

* ingest: JSON lines into each engine's store -- hela's lake (`hela ingest`), a DuckDB
  table (`CREATE TABLE events AS SELECT * FROM read_json_auto(...)`) in its database file
  and, as `duckdb in memory`, in an in-memory database, Parquet written by
  Spark (`spark.read.json(...).write.parquet(...)`, JVM start not counted). Wall time,
  throughput and peak RSS of the process.
* queries: the ThreatHunter-Playbook analytics (../shared/conformance/thp/cases.jsonl) over
  the whole corpus, plus the seeds' lateral-movement join and 3-sigma outlier query, each as
  Spark SQL with `dataTable`/`sparkTable` naming the events. DuckDB runs them translated by
  sqlglot on its own table; Spark on its Parquet.
  - warm: one `hela sql --timings` process running every query in turn; one DuckDB
    connection; one Spark session. hela's lake is compacted (`hela lake compact`, timed on
    its own) after the ingest; `hela-ingested` is the same run on the lake before it.
  - cold: a fresh `hela sql` process per query (start-up and opening the lake included);
    a fresh DuckDB connection on its database file per query.

Prints Markdown tables and, for each peer, the queries whose row count differs from hela's;
writes bench/results/run.json and bench/results/run.svg.

    pip install duckdb pyspark sqlglot pyarrow pytz     # and Java 17 for Spark
    python3 bench/run.py --scale 1 4
    python3 bench/run.py --scale 1 --engines hela,duckdb --repeat 1
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from thp import machine_info  # noqa: E402

VIEWS = ['dataTable', 'sparkTable']

LATERAL_MOVEMENT = """SELECT s.Hostname, s.IpAddress, s.TargetUserName, p.ParentImage, p.Image
FROM dataTable s JOIN dataTable p ON s.TargetLogonId = p.LogonId AND s.Hostname = p.Hostname
WHERE lower(s.Channel) = 'security' AND s.EventID = 4624 AND s.LogonType = 3
  AND p.Channel = 'Microsoft-Windows-Sysmon/Operational' AND p.EventID = 1"""

THREE_SIGMA = """WITH flows AS (SELECT SourceIp, DestinationIp FROM dataTable
    WHERE Channel = 'Microsoft-Windows-Sysmon/Operational' AND EventID = 3),
  outgoing AS (SELECT SourceIp AS ip, count(*) AS n FROM flows GROUP BY SourceIp),
  incoming AS (SELECT DestinationIp AS ip, count(*) AS n FROM flows GROUP BY DestinationIp),
  counts AS (SELECT coalesce(o.ip, i.ip) AS ip, coalesce(o.n, 0) AS n_out, coalesce(i.n, 0) AS n_in
    FROM outgoing o FULL OUTER JOIN incoming i ON o.ip = i.ip),
  stats AS (SELECT avg(n_out) AS m_out, stddev(n_out) AS s_out, avg(n_in) AS m_in, stddev(n_in) AS s_in FROM counts)
SELECT ip, n_out, n_in FROM counts CROSS JOIN stats
WHERE n_out > m_out + 3 * s_out OR n_in > m_in + 3 * s_in ORDER BY ip"""


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def peak_rss_mb(pid):
    """The peak resident memory of a running process, in MB."""
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return float('nan')


class Served:
    """A server process the benchmark started (`self.process`), stopped at exit."""

    def peak_rss_mb(self):
        return peak_rss_mb(self.process.pid)

    def stop(self):
        self.process.terminate()
        return self.process.wait(timeout=600)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()


def run(command, stdout=subprocess.DEVNULL, cwd=None):
    """Runs a command: (seconds, peak RSS MB, stdout text or None, stderr text)."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out if stdout is None else stdout, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        err.seek(0)
        out.seek(0)
        error = err.read().decode(errors='replace')
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f'{command[0]} failed: {error[-1500:]}')
        return seconds, usage.ru_maxrss / 1024, out.read().decode(errors='replace') if stdout is None else None, error


def read_through(path):
    """Reads a file once, so that every engine's ingest starts with it in the page cache (the
    first engine would otherwise also pay for the disk)."""
    with open(path, 'rb') as f:
        while f.read(16 << 20):
            pass


def queries(cases_file):
    cases = [json.loads(line) for line in open(cases_file)] if os.path.exists(cases_file) else []
    found = [{'id': c['id'], 'sql': c['sql']} for c in cases]
    return found + [{'id': 'seeds-lateral-movement', 'sql': LATERAL_MOVEMENT}, {'id': 'seeds-3-sigma', 'sql': THREE_SIGMA}]


# ------------------------------------------------------------------------------ hela

def hela_views():
    return ''.join(f'CREATE OR REPLACE TEMP VIEW {v} AS SELECT * FROM events; ' for v in VIEWS)


def hela_ingest(hela, path, lake):
    shutil.rmtree(lake, ignore_errors=True)
    seconds, rss, _, _ = run([hela, 'ingest', '--quiet', '--lake', lake, path])
    return {'seconds': seconds, 'peak_rss_mb': rss}


def hela_compact(hela, lake):
    seconds, rss, _, err = run([hela, 'lake', 'compact', '--lake', lake])
    return {'seconds': seconds, 'peak_rss_mb': rss, 'said': err.strip()}


def hela_warm(hela, lake, qs, extra=()):
    """Each query's time and row count, from one process's `--timings` lines
    ("statement 3/38: 12 rows, 5.1 ms"); `extra` are more `hela sql` arguments."""
    text = hela_views() + ''.join(q['sql'].rstrip().rstrip(';') + ';\n' for q in qs) + 'SELECT 1'
    _, _, _, err = run([hela, 'sql', '--lake', lake, '--timings', '--format', 'csv', *extra, text])
    lines = [line for line in err.splitlines() if line.startswith('statement ')][len(VIEWS):]
    ids = [q['id'] for q in qs]
    times = {i: float(line.split(', ')[-1].split()[0]) / 1e3 for i, line in zip(ids, lines)}
    rows = {i: int(line.split(': ')[1].split()[0]) for i, line in zip(ids, lines)}
    return times, rows


def hela_cold(hela, lake, qs):
    return {q['id']: run([hela, 'sql', '--lake', lake, '--format', 'csv', hela_views() + q['sql']])[0] for q in qs}


# ------------------------------------------------------------------------------ workers

def duckdb_ingest(path, db):
    """Into the database file `db`, or into memory for `:memory:` (the table then dropped)."""
    import duckdb
    for suffix in ('', '.wal'):
        if db != ':memory:' and os.path.exists(db + suffix):
            os.remove(db + suffix)
    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json_auto('{path}', union_by_name = true, sample_size = -1, "
                "maximum_object_size = 104857600)")
    con.close()


def duckdb_queries(db, qs, mode):
    import duckdb
    import sqlglot
    setup = [f'CREATE OR REPLACE TEMP VIEW {v} AS SELECT * FROM events' for v in VIEWS]
    times, rows, errors = {}, {}, {}
    con = None
    for q in qs:
        try:
            sql = sqlglot.transpile(q['sql'], read='spark', write='duckdb')[0]
        except Exception as e:  # noqa: BLE001 -- reported per query
            errors[q['id']] = f'sqlglot: {e}'[:300]
            continue
        started = time.perf_counter()
        try:
            if con is None or mode == 'cold':
                con = duckdb.connect(db, read_only=True)
                for s in setup:
                    con.execute(s)
            answer = con.execute(sql).fetchall()
            times[q['id']] = time.perf_counter() - started
            rows[q['id']] = len(answer)
        except Exception as e:  # noqa: BLE001
            errors[q['id']] = str(e).splitlines()[0][:300]
    return {'times': times, 'rows': rows, 'errors': errors}


def spark_session():
    from pyspark.sql import SparkSession
    return (SparkSession.builder.master('local[2]').appName('hela-bench')
            .config('spark.driver.memory', '6g').config('spark.ui.enabled', 'false')
            .config('spark.sql.caseSensitive', 'true').getOrCreate())


def spark_ingest(path, parquet):
    spark = spark_session()
    spark.sparkContext.setLogLevel('ERROR')
    shutil.rmtree(parquet, ignore_errors=True)
    started = time.perf_counter()
    spark.read.json(path).write.parquet(parquet)
    return {'seconds': time.perf_counter() - started}


def spark_queries(parquet, qs):
    spark = spark_session()
    spark.sparkContext.setLogLevel('ERROR')
    frame = spark.read.parquet(parquet)
    for v in VIEWS:
        frame.createOrReplaceTempView(v)
    spark.sql('SELECT count(*) FROM dataTable').collect()   # warm-up: JIT, class loading
    times, rows, errors = {}, {}, {}
    for q in qs:
        started = time.perf_counter()
        try:
            answer = spark.sql(q['sql']).collect()
            times[q['id']] = time.perf_counter() - started
            rows[q['id']] = len(answer)
        except Exception as e:  # noqa: BLE001
            errors[q['id']] = str(e).splitlines()[0][:300]
    return {'times': times, 'rows': rows, 'errors': errors}


def worker(kind, args):
    """Runs in a child process so its time and memory are its own; prints JSON."""
    qs = json.load(open(args[-1])) if kind.endswith('queries') else None
    result = {
        'duckdb-ingest': lambda: duckdb_ingest(*args),
        'duckdb-queries': lambda: duckdb_queries(args[0], qs, args[1]),
        'spark-ingest': lambda: spark_ingest(*args),
        'spark-queries': lambda: spark_queries(args[0], qs),
    }[kind]()
    print(json.dumps(result))


def in_worker(kind, *args):
    seconds, rss, out, _ = run([sys.executable, os.path.abspath(__file__), '--worker', kind, *args], stdout=None)
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    return seconds, rss, result


# ------------------------------------------------------------------------------ report

def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def compare(hela_times, peer_times):
    """Geometric means over the queries both answered, and the peer/hela ratio."""
    common = [q for q in hela_times if q in peer_times]
    h = geomean([hela_times[q] for q in common])
    p = geomean([peer_times[q] for q in common])
    return {'queries': len(common), 'hela_geomean_s': h, 'peer_geomean_s': p, 'ratio': (p / h) if h and p else None}


def print_disagreements(rows):
    """Says, for each peer, on how many queries its row count is hela's, and names the others."""
    for peer, counts in rows.items():
        if peer == 'hela':
            continue
        common = [q for q in counts if q in rows['hela']]
        differ = [q for q in common if counts[q] != rows['hela'][q]]
        print(f'\nrow counts, {peer} against hela: {len(common) - len(differ)} of {len(common)} queries agree')
        for q in differ:
            print(f'  {q}: hela {rows["hela"][q]}, {peer} {counts[q]}')


def svg_chart(rows, path):
    """A small bar chart of how many times faster hela is than each peer (log scale)."""
    width, bar, gap, left = 720, 22, 8, 260
    height = 40 + len(rows) * (bar + gap)
    scale = (width - left - 60) / math.log10(max([r[1] for r in rows] + [10]) * 1.2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<text x="10" y="20" font-size="14">hela speed-up over each peer (×, log scale; 1× = as fast)</text>']
    for i, (label, ratio) in enumerate(rows):
        y = 35 + i * (bar + gap)
        w = max(1.0, math.log10(max(ratio, 1.0)) * scale)
        colour = '#2b8a3e' if ratio >= 1 else '#c92a2a'
        parts.append(f'<text x="10" y="{y + 15}">{label}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 5:.1f}" y="{y + 15}">{ratio:.1f}×</text>')
    parts.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--scale', type=int, nargs='+', default=[1])
    parser.add_argument('--hela', default=os.path.join(ROOT, 'target', 'release', 'hela'))
    parser.add_argument('--engines', default='hela,duckdb,spark')
    parser.add_argument('--repeat', type=int, default=3, help='cold query runs per query (median)')
    parser.add_argument('--work', default=os.path.join(HERE, 'work'), help='corpora, lakes, databases')
    parser.add_argument('--cases', default=os.path.join(SHARED, 'conformance', 'thp', 'cases.jsonl'))
    parser.add_argument('--worker', nargs='+', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], args.worker[1:])
    engines = args.engines.split(',')
    hela = os.path.abspath(args.hela)
    os.makedirs(args.work, exist_ok=True)
    qs = queries(args.cases)
    queries_file = os.path.join(args.work, 'queries.json')
    json.dump(qs, open(queries_file, 'w'))
    report = {'machine': machine_info(), 'date': time.strftime('%Y-%m-%d %H:%M'), 'queries': len(qs), 'scales': {}}
    chart = []
    for scale in args.scale:
        path = corpus.build(scale, os.path.join(args.work, f'corpus-sf{scale}.jsonl'), hela=hela)
        size = os.path.getsize(path)
        log(f'scale factor {scale}: {path} ({size / 1e6:.0f} MB)')
        lake = os.path.join(args.work, f'lake-sf{scale}')
        db = os.path.join(args.work, f'duck-sf{scale}.db')
        parquet = os.path.join(args.work, f'spark-sf{scale}.parquet')
        result = {'bytes': size, 'ingest': {}, 'warm': {}, 'cold': {}, 'rows': {}, 'errors': {}}
        read_through(path)
        result['ingest']['hela'] = hela_ingest(hela, path, lake)
        log(f"  hela ingest {result['ingest']['hela']['seconds']:.1f} s")
        if 'duckdb' in engines:
            read_through(path)
            seconds, rss, _ = in_worker('duckdb-ingest', path, db)
            result['ingest']['duckdb'] = {'seconds': seconds, 'peak_rss_mb': rss}
            log(f'  duckdb ingest {seconds:.1f} s')
            read_through(path)
            seconds, rss, _ = in_worker('duckdb-ingest', path, ':memory:')
            result['ingest']['duckdb in memory'] = {'seconds': seconds, 'peak_rss_mb': rss}
            log(f'  duckdb ingest in memory {seconds:.1f} s')
        if 'spark' in engines:
            read_through(path)
            _, _, inner = in_worker('spark-ingest', path, parquet)
            # The JVM is not a process this script waits for: its memory is not measured.
            result['ingest']['spark'] = {'seconds': inner['seconds'], 'peak_rss_mb': None}
            log(f"  spark ingest {inner['seconds']:.1f} s")
        for engine, r in result['ingest'].items():
            r['mb_per_s'] = size / 1e6 / r['seconds']
        # The lake as the ingest leaves it, then compacted (`hela lake compact`): the
        # comparison `warm-hela-ingested` is what compaction gains.
        ingested, _ = hela_warm(hela, lake, qs)
        result['compact'] = hela_compact(hela, lake)
        log(f"  hela compact {result['compact']['seconds']:.1f} s: {result['compact']['said']}")
        result['warm']['hela'], result['rows']['hela'] = hela_warm(hela, lake, qs)
        result['warm']['hela-ingested'] = ingested
        cold_runs = [hela_cold(hela, lake, qs) for _ in range(args.repeat)]
        result['cold']['hela'] = {q['id']: statistics.median(r[q['id']] for r in cold_runs) for q in qs}
        log('  hela queries done')
        if 'duckdb' in engines:
            for mode in ('warm', 'cold'):
                _, _, inner = in_worker('duckdb-queries', db, mode, queries_file)
                result[mode]['duckdb'] = inner['times']
                result['errors'][f'duckdb-{mode}'] = inner['errors']
                result['rows'].setdefault('duckdb', inner['rows'])
            log(f"  duckdb queries done ({len(result['errors']['duckdb-warm'])} not answered)")
        if 'spark' in engines:
            _, _, inner = in_worker('spark-queries', parquet, queries_file)
            result['warm']['spark'] = inner['times']
            result['rows']['spark'] = inner['rows']
            result['errors']['spark-warm'] = inner['errors']
            log(f"  spark queries done ({len(inner['errors'])} not answered)")
        result['comparison'] = {}
        for mode in ('warm', 'cold'):
            for peer, times in result[mode].items():
                if peer != 'hela':
                    result['comparison'][f'{mode}-{peer}'] = compare(result[mode]['hela'], times)
        report['scales'][str(scale)] = result
        print(f'\n### Scale factor {scale} ({size / 1e6:.0f} MB of JSON lines)\n')
        cores = os.cpu_count()
        print(f'| ingest | seconds | MB/s | MB/s per core ({cores}) | peak RSS MB | hela faster by |')
        print('|---|---:|---:|---:|---:|---:|')
        for engine, r in result['ingest'].items():
            ratio = r['seconds'] / result['ingest']['hela']['seconds']
            rss = 'n/a' if r['peak_rss_mb'] is None else f"{r['peak_rss_mb']:.0f}"
            print(f"| {engine} | {r['seconds']:.2f} | {r['mb_per_s']:.0f} | {r['mb_per_s'] / cores:.0f} | {rss} | {'' if engine == 'hela' else f'{ratio:.2f}×'} |")
            if engine != 'hela':
                chart.append((f'SF{scale} ingest vs {engine}', ratio))
        c = result['compact']
        print(f"| hela lake compact | {c['seconds']:.1f} | | | {c['peak_rss_mb']:.0f} | |")
        print('\n| queries | answered by both | hela geomean ms | peer geomean ms | hela faster by |')
        print('|---|---:|---:|---:|---:|')
        for key, c in result['comparison'].items():
            if c['ratio']:
                print(f"| {key} | {c['queries']} | {c['hela_geomean_s'] * 1e3:.0f} | {c['peer_geomean_s'] * 1e3:.0f} | {c['ratio']:.1f}× |")
                chart.append((f'SF{scale} queries {key}', c['ratio']))
        print_disagreements(result['rows'])
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    with open(os.path.join(HERE, 'results', 'run.json'), 'w') as f:
        json.dump(report, f, indent=2)
    if chart:
        svg_chart(chart, os.path.join(HERE, 'results', 'run.svg'))


if __name__ == '__main__':
    main()
