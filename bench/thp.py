#!/usr/bin/env python3
"""Benchmark hela against Apache Spark on the ThreatHunter-Playbook analytics.

What is measured
----------------
Every case of the THP conformance file (``<shared>/conformance/thp/cases.jsonl``, one
analytic per line: its Spark SQL, the Security-Datasets archives it runs on and the rows
Apache Spark returned) is answered by both engines starting from the raw data, so each
timing covers reading the JSON events *and* answering the query:

* **hela** -- the exact command the conformance check (``check.py``) runs, as a fresh
  process every time::

      hela sql --table dataTable=ARCHIVE --table sparkTable=ARCHIVE [...] --format arrow SQL

  (one ``--table`` pair per archive of the case). The wall time of the whole process is
  measured (start-up, opening the zip/tar.gz, parsing, planning, executing, writing the
  Arrow IPC stream to a pipe). The stream is then read with pyarrow, outside the timing, to
  count the result rows.

* **Spark** -- one warm ``SparkSession`` for the whole run (``local[2]`` by default,
  driver memory 4g, UI off, log level WARN, ``spark.sql.caseSensitive`` as recorded in the
  case). Spark cannot read zip archives, so the JSON member(s) of every archive are
  extracted once, before any timing, into a temporary directory (truncated tar.gz archives
  are extracted as far as they are readable, cut back to the last complete line). Per case
  the timed work is::

      spark.read.json(files).createOrReplaceTempView("dataTable")
      spark.read.json(files).createOrReplaceTempView("sparkTable")
      spark.sql(sql).collect()

  i.e. the same work hela does: schema inference and reading of the raw JSON, then the
  answer brought back to the driver. JVM start-up and the archive extraction are *not*
  timed, which favours Spark; one untimed warm-up case runs first so JIT compilation and
  class loading of the first case are not counted either.

Each case is run ``--repeat`` times per engine and the median wall time is reported. All
hela runs happen before the Spark session starts, so the idle JVM does not disturb them.
Row counts of both engines are compared with the rows recorded in the cases file; a
mismatch is reported (in the table and the JSON), never fatal.

Output
------
A Markdown table on stdout (case, rows hela/spark, hela ms, spark ms, spark/hela ratio)
closed by the geometric mean of the ratios and the total times, and a JSON file
(``--out``, default ``bench/results/thp.json``) with every run's times, the row counts and
a description of the machine (nproc, CPU model, memory), the hela and pyspark versions and
the date. Progress goes to stderr.

If pyspark or Java is missing the reason is printed and hela is timed alone (exit 0). A
missing hela binary is an error (exit status 1).

Other processes compete for the CPU and skew both engines' times: the load average at the
start is recorded, and a warning printed when the machine is busy.

Needs pyarrow; pyspark (and Java 17+) for the Spark side.

Examples::

    python3 bench/thp.py                       # everything, 3 runs per case and engine
    python3 bench/thp.py --repeat 1 --only RemotePwsh
    python3 bench/thp.py --skip-spark --hela ./target/debug/hela
"""
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)                                   # the project root
SHARED = os.path.join(os.path.dirname(ROOT), 'shared')         # <project>/../shared
DEFAULT_CASES = os.path.join(SHARED, 'conformance', 'thp', 'cases.jsonl')
DEFAULT_DATA = os.path.join(SHARED, 'datasets', 'security-datasets')
DEFAULT_HELA = os.path.join(ROOT, 'target', 'release', 'hela')
DEFAULT_OUT = os.path.join(HERE, 'results', 'thp.json')
RESULTS_DIR = os.path.join(HERE, 'results')

JSON_SUFFIXES = ('.json', '.jsonl', '.ndjson')


def log(*args):
    """Progress message on stderr (stdout carries only the Markdown table)."""
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- machine

def machine_info():
    """nproc, CPU model and memory of this machine, as far as /proc tells."""
    info = {'nproc': os.cpu_count(), 'platform': platform.platform(),
            'python': platform.python_version()}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.lower().startswith(('model name', 'hardware', 'cpu model')):
                    info['cpu'] = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info.setdefault('cpu', platform.processor() or 'unknown')
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    kib = int(line.split()[1])
                    info['memory_bytes'] = kib * 1024
                    info['memory'] = f'{kib / 1024 / 1024:.1f} GiB'
                    break
    except OSError:
        pass
    try:
        with open('/proc/loadavg') as f:
            info['loadavg_at_start'] = [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        pass
    try:
        info['available_cpus'] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    return info


# --------------------------------------------------------------------------- hela

def hela_command(hela, case, data_dir):
    """The command check.py runs for a case: a dataTable/sparkTable pair per archive."""
    cmd = [hela, 'sql']
    for ds in case['datasets']:
        path = os.path.join(data_dir, ds)
        cmd += ['--table', f'dataTable={path}', '--table', f'sparkTable={path}']
    return cmd + ['--format', 'arrow', case['sql']]


def run_hela_once(cmd, timeout):
    """Run hela once; return (seconds, stdout bytes) or raise RuntimeError."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f'timed out after {timeout}s')
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        err = p.stderr.decode('utf-8', 'replace').strip()[-400:]
        raise RuntimeError(f'exit {p.returncode}: {err}')
    return elapsed, p.stdout


def count_arrow_rows(stream):
    """Rows of an Arrow IPC stream."""
    import pyarrow as pa
    return pa.ipc.open_stream(stream).read_all().num_rows


def bench_hela(case, args):
    """Time one case in hela; return a result dict (times in seconds)."""
    cmd = hela_command(args.hela, case, args.data)
    res = {'times': [], 'rows': None, 'error': None}
    try:
        for _ in range(args.repeat):
            elapsed, out = run_hela_once(cmd, args.timeout)
            res['times'].append(elapsed)
            rows = count_arrow_rows(out)
            if res['rows'] is not None and rows != res['rows']:
                res['error'] = f'row count changed between runs ({res["rows"]} -> {rows})'
            res['rows'] = rows
    except Exception as e:  # a failing case is reported, not fatal
        res['error'] = str(e)
    res['median'] = statistics.median(res['times']) if res['times'] and not res['error'] else None
    return res


def hela_version(hela):
    try:
        p = subprocess.run([hela, '--version'], capture_output=True, text=True, timeout=30)
        return p.stdout.strip() or p.stderr.strip()
    except Exception as e:
        return f'unknown ({e})'


# --------------------------------------------------------------------------- archives

def _copy_truncated(src, dst_path):
    """Copy a file object into dst_path as far as it is readable.

    A truncated archive raises part-way; what was read is kept, cut back to the last
    complete line so Spark does not see a half JSON record. Returns True if complete."""
    complete = True
    with open(dst_path, 'wb') as dst:
        try:
            shutil.copyfileobj(src, dst, 1 << 20)
        except (EOFError, OSError, tarfile.TarError, zipfile.BadZipFile) as e:
            complete = False
            log(f'    {os.path.basename(dst_path)}: archive truncated ({e}); keeping what was read')
    if not complete:
        with open(dst_path, 'rb+') as f:
            data = f.read()
            f.seek(0)
            f.truncate(data.rfind(b'\n') + 1)
    return complete


def _is_json(name):
    return name.lower().endswith(JSON_SUFFIXES)


def extract_archive(path, dest):
    """Extract the JSON member(s) of a zip or tar(.gz) archive (or copy a plain file) into
    the directory dest. Returns the list of extracted files (non-empty ones)."""
    os.makedirs(dest, exist_ok=True)
    files = []

    def target(name):
        out = os.path.join(dest, f'{len(files):03d}_' + os.path.basename(name))
        files.append(out)
        return out

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            members = [i for i in z.infolist() if not i.is_dir()]
            wanted = [i for i in members if _is_json(i.filename)] or members
            for info in wanted:
                with z.open(info) as src:
                    _copy_truncated(src, target(info.filename))
    elif path.lower().endswith(('.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tar.xz')):
        # Stream mode reads member by member, so a truncated archive yields every member
        # before the damage and the readable part of the damaged one.
        try:
            with tarfile.open(path, 'r|*') as t:
                for member in t:
                    if not member.isfile() or not _is_json(member.name):
                        continue
                    src = t.extractfile(member)
                    if not _copy_truncated(src, target(member.name)):
                        break
        except (EOFError, OSError, tarfile.TarError) as e:
            log(f'    {os.path.basename(path)}: stopped reading ({e})')
    else:
        with open(path, 'rb') as src:
            _copy_truncated(src, target(path))
    return [f for f in files if os.path.getsize(f) > 0]


# --------------------------------------------------------------------------- spark

def spark_unavailable_reason():
    """None if pyspark and Java are there, else why not."""
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        return f'pyspark is not installed ({e}); pip install pyspark'
    java_home = os.environ.get('JAVA_HOME')
    if not shutil.which('java') and not (java_home and os.path.exists(
            os.path.join(java_home, 'bin', 'java'))):
        return 'Java is not installed (no java on PATH and no JAVA_HOME)'
    return None


def start_spark(args, scratch):
    """The one SparkSession of the run (its warehouse directory in scratch)."""
    from pyspark.sql import SparkSession
    b = (SparkSession.builder.master(args.spark_master).appName('hela-thp-bench')
         .config('spark.ui.enabled', 'false')
         .config('spark.ui.showConsoleProgress', 'false')
         .config('spark.driver.memory', args.spark_driver_memory)
         .config('spark.sql.warehouse.dir', os.path.join(scratch, 'spark-warehouse')))
    for kv in args.spark_conf:
        k, _, v = kv.partition('=')
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel('WARN')
    return spark


def run_spark_once(spark, case, files_of):
    """One timed Spark answer of a case; returns (seconds, row count).

    spark.sql.caseSensitive is set (untimed) as the case records Spark was run: some
    datasets hold fields differing only in case (SourceProcessGUID / SourceProcessGuid),
    which spark.read.json rejects when case-insensitive."""
    files = [f for ds in case['datasets'] for f in files_of[ds]]
    sensitive = case['expected'].get('case_sensitive', False)
    spark.conf.set('spark.sql.caseSensitive', 'true' if sensitive else 'false')
    t0 = time.perf_counter()
    spark.read.json(files).createOrReplaceTempView('dataTable')
    spark.read.json(files).createOrReplaceTempView('sparkTable')
    rows = spark.sql(case['sql']).collect()
    return time.perf_counter() - t0, len(rows)


def bench_spark(spark, case, files_of, repeat):
    res = {'times': [], 'rows': None, 'error': None}
    try:
        for _ in range(repeat):
            elapsed, rows = run_spark_once(spark, case, files_of)
            res['times'].append(elapsed)
            res['rows'] = rows
    except Exception as e:
        msg = str(e).strip().splitlines()
        res['error'] = (msg[0] if msg else type(e).__name__)[:400]
    res['median'] = statistics.median(res['times']) if res['times'] and not res['error'] else None
    return res


# --------------------------------------------------------------------------- report

def fmt_ms(seconds):
    return '—' if seconds is None else f'{seconds * 1000:,.0f}'


def fmt_rows(res, expected):
    if res is None:
        return '—'
    if res.get('error'):
        return 'error'
    n = res['rows']
    return f'{n}' if n == expected else f'**{n}** (≠{expected})'


def markdown(results, spark_ran):
    lines = ['| case | rows (expected) | rows hela / spark | hela ms | spark ms | spark/hela |',
             '|---|---:|---:|---:|---:|---:|']
    ratios, tot_h, tot_s = [], 0.0, 0.0
    for r in results:
        h, s = r['hela'], r.get('spark')
        ratio = None
        if h['median'] is not None and s and s['median'] is not None:
            ratio = s['median'] / h['median']
            ratios.append(ratio)
            tot_h += h['median']
            tot_s += s['median']
        lines.append('| {} | {} | {} / {} | {} | {} | {} |'.format(
            r['id'], r['expected_rows'], fmt_rows(h, r['expected_rows']),
            fmt_rows(s, r['expected_rows']) if spark_ran else '—',
            fmt_ms(h['median']), fmt_ms(s['median']) if s else '—',
            f'{ratio:.1f}×' if ratio else '—'))
    all_h = sum(r['hela']['median'] for r in results if r['hela']['median'] is not None)
    lines.append('')
    if ratios:
        gm = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        lines.append(f'Geometric mean of spark/hela over {len(ratios)} cases: **{gm:.2f}×**; '
                     f'total of medians over those cases: hela {tot_h:.2f} s, '
                     f'spark {tot_s:.2f} s ({tot_s / tot_h:.1f}×).')
    else:
        gm = None
        lines.append(f'Spark not timed; total of hela medians over {len(results)} cases: '
                     f'{all_h:.2f} s.')
    summary = {'geomean_spark_over_hela': gm, 'cases_compared': len(ratios),
               'total_hela_s_compared': tot_h, 'total_spark_s_compared': tot_s,
               'total_hela_s_all': all_h}
    return '\n'.join(lines), summary


def write_json(path, doc):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    if os.path.abspath(d) == os.path.abspath(RESULTS_DIR):
        gi = os.path.join(d, '.gitignore')
        if not os.path.exists(gi):
            with open(gi, 'w') as f:
                f.write('# benchmark output: keep it out of git\n*\n!.gitignore\n')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')


# --------------------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(
        description='Time every ThreatHunter-Playbook analytic in hela and in Apache Spark '
                    '(PySpark, one warm local session) from the raw Security-Datasets '
                    'archives; print a Markdown table and write a JSON results file.',
        epilog='Defaults are relative to this script: the project is its parent directory '
               'and the shared data is <project>/../shared.',
    )
    ap.add_argument('--hela', default=DEFAULT_HELA, help='the hela binary (default: %(default)s)')
    ap.add_argument('--cases', default=DEFAULT_CASES, help='THP cases file, JSON lines (default: %(default)s)')
    ap.add_argument('--data', default=DEFAULT_DATA,
                    help='directory of the Security-Datasets archives the cases name '
                         '(default: %(default)s)')
    ap.add_argument('--only', default='', metavar='SUBSTR',
                    help='run only the cases whose id contains SUBSTR (default: all)')
    ap.add_argument('--repeat', type=int, default=3, metavar='N',
                    help='timed runs per case and engine; the median is reported '
                         '(default: %(default)s)')
    ap.add_argument('--skip-spark', action='store_true', help='time hela alone')
    ap.add_argument('--spark-master', default='local[2]', help='Spark master URL (default: %(default)s)')
    ap.add_argument('--spark-driver-memory', default='4g', help='spark.driver.memory (default: %(default)s)')
    ap.add_argument('--spark-conf', action='append', default=[], metavar='KEY=VALUE',
                    help='extra Spark configuration (repeatable)')
    ap.add_argument('--timeout', type=int, default=300,
                    help='seconds before one hela run is abandoned (default: %(default)s)')
    ap.add_argument('--out', default=DEFAULT_OUT, help='JSON results file (default: %(default)s)')
    a = ap.parse_args()
    if a.repeat < 1:
        ap.error('--repeat must be at least 1')
    return a


def main():
    args = parse_args()
    started = time.perf_counter()
    args.hela = os.path.abspath(args.hela)
    if not (os.path.isfile(args.hela) and os.access(args.hela, os.X_OK)):
        sys.exit(f'error: hela binary not found or not executable: {args.hela} '
                 '(build it with cargo build --release, or pass --hela)')
    if not os.path.isfile(args.cases):
        sys.exit(f'error: cases file not found: {args.cases} (pass --cases)')

    with open(args.cases) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    cases = [c for c in cases if args.only in c['id']]
    if not cases:
        sys.exit(f'error: no case id contains {args.only!r}')
    missing = sorted({ds for c in cases for ds in c['datasets']
                      if not os.path.exists(os.path.join(args.data, ds))})
    if missing:
        sys.exit(f'error: archives missing from {args.data}: {", ".join(missing)} (pass --data)')

    version = hela_version(args.hela)
    machine = machine_info()
    log(f'{version}: {len(cases)} cases, {args.repeat} run(s) each')
    load = machine.get('loadavg_at_start', [0])[0]
    if load > 0.5 * (machine['nproc'] or 1):
        log(f'warning: load average {load:.2f} on {machine["nproc"]} CPUs: '
            'other processes will skew the times')

    # ---- hela, before any JVM exists. One untimed run first warms the page cache.
    try:
        run_hela_once(hela_command(args.hela, cases[0], args.data), args.timeout)
    except RuntimeError:
        pass  # reported by the timed runs
    results = []
    for c in cases:
        h = bench_hela(c, args)
        exp = len(c['expected']['rows'])
        results.append({'id': c['id'], 'datasets': c['datasets'], 'expected_rows': exp,
                        'case_sensitive': c['expected'].get('case_sensitive', False),
                        'hela': h, 'spark': None})
        log(f'hela  {c["id"]}: ' + (f'ERROR {h["error"]}' if h['error'] else
                                    f'{h["rows"]} rows, {fmt_ms(h["median"])} ms'))

    # ---- Spark
    spark_version, spark_skipped, spark_conf = None, None, None
    if args.skip_spark:
        spark_skipped = '--skip-spark'
    else:
        spark_skipped = spark_unavailable_reason()
        if spark_skipped:
            print(f'Spark not timed: {spark_skipped}', file=sys.stderr)
    if not spark_skipped:
        import pyspark
        spark_version = pyspark.__version__
        tmp = tempfile.mkdtemp(prefix='hela-thp-bench-')
        try:
            log(f'extracting archives into {tmp}')
            files_of = {}
            for ds in sorted({ds for c in cases for ds in c['datasets']}):
                files_of[ds] = extract_archive(os.path.join(args.data, ds),
                                               os.path.join(tmp, ds.replace(os.sep, '_')))
            log(f'starting Spark {spark_version} ({args.spark_master})')
            try:
                spark = start_spark(args, tmp)
            except Exception as e:
                spark = None
                spark_skipped = f'SparkSession failed to start: {str(e).strip()[:400]}'
                print(f'Spark not timed: {spark_skipped}', file=sys.stderr)
            if spark is not None:
                try:
                    for c in cases:  # warm-up: the first case Spark answers, untimed
                        log(f'warm-up (untimed): {c["id"]}')
                        if not bench_spark(spark, c, files_of, 1)['error']:
                            break
                    for r, c in zip(results, cases):
                        s = bench_spark(spark, c, files_of, args.repeat)
                        r['spark'] = s
                        log(f'spark {c["id"]}: ' + (f'ERROR {s["error"]}' if s['error'] else
                                                    f'{s["rows"]} rows, {fmt_ms(s["median"])} ms'))
                    spark_conf = {k: v for k, v in spark.sparkContext.getConf().getAll()
                                  if k.startswith(('spark.master', 'spark.driver.memory',
                                                   'spark.sql', 'spark.ui'))
                                  and k != 'spark.sql.warehouse.dir'}
                    spark_conf['spark.sql.caseSensitive'] = 'per case (expected.case_sensitive)'
                finally:
                    spark.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    spark_ran = not spark_skipped

    table, summary = markdown(results, spark_ran)
    print(table)
    if spark_skipped:
        print(f'\n(Spark not timed: {spark_skipped})')

    mismatches = []
    for r in results:
        for eng in ('hela', 'spark'):
            res = r[eng]
            if res is None:
                continue
            if res['error']:
                mismatches.append(f'{eng} {r["id"]}: error: {res["error"]}')
            elif res['rows'] != r['expected_rows']:
                mismatches.append(f'{eng} {r["id"]}: {res["rows"]} rows, '
                                  f'expected {r["expected_rows"]}')
    if mismatches:
        print('\nRow counts that disagree with the cases file:')
        for m in mismatches:
            print(f'- {m}')
    elapsed = time.perf_counter() - started
    print(f'\nBenchmark wall time: {elapsed:.0f} s.')

    doc = {
        'benchmark': 'ThreatHunter-Playbook analytics, hela vs Apache Spark',
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': machine,
        'hela': {'binary': args.hela, 'version': version},
        'spark': {'pyspark_version': spark_version, 'skipped': spark_skipped,
                  'master': args.spark_master,
                  'conf': spark_conf},
        'settings': {'repeat': args.repeat, 'only': args.only, 'cases': args.cases,
                     'data': args.data, 'timeout_s': args.timeout},
        'method': 'hela: wall time of a fresh `hela sql ... --format arrow` process; '
                  'spark: read.json + temp views + sql().collect() in a warm session on '
                  'pre-extracted JSON; median of `repeat` runs, seconds',
        'summary': summary,
        'row_mismatches': mismatches,
        'wall_time_s': elapsed,
        'cases': results,
    }
    write_json(args.out, doc)
    log(f'results written to {args.out}')


if __name__ == '__main__':
    main()
