#!/usr/bin/env python3
"""A million-row result into pandas: hela's Python package against DuckDB's, same data, same
run.

Writes `hela sample` events (NXLog-shaped Sysmon and Security, --events N), ingests them into
a hela lake and into a DuckDB table (`read_json_auto`), then times one query returning every
row with ten columns, into a pandas DataFrame (and into a pyarrow Table), in one warm session
each: `hela.Connection(lake).sql(q).to_pandas()` against `duckdb.connect(db).sql(q).df()` (and
against DuckDB's Arrow result turned into pandas by pyarrow, as hela's is).
The answers are compared (row count, and the sorted EventID and Hostname columns).

    pip install maturin duckdb pandas pyarrow
    # hela's package as a release build (`pip install .` builds the slower dev profile)
    maturin build --release -o bench/work/wheels && pip install --force-reinstall bench/work/wheels/hela-*.whl
    python3 bench/to_pandas.py --events 1000000 --work /tmp/hela-pandas
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

COLUMNS = ['@timestamp', 'Hostname', 'Channel', 'EventID', 'Image', 'ParentImage', 'CommandLine',
           'SourceIp', 'DestinationIp', 'TargetUserName']


def timed(run, repeat):
    """Median and all wall times of `repeat` runs after one warm-up; the last result."""
    result = run()
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - begun)
    return statistics.median(times), times, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--events', type=int, default=1_000_000)
    parser.add_argument('--work', default='bench/work/pandas')
    parser.add_argument('--hela', default='target/release/hela', help='the hela program, to write and ingest the sample')
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()

    import duckdb
    import hela

    os.makedirs(args.work, exist_ok=True)
    data = os.path.join(args.work, f'sample-{args.events}.json')
    lake = os.path.join(args.work, f'lake-{args.events}')
    db = os.path.join(args.work, f'duck-{args.events}.db')
    if not os.path.exists(data):
        subprocess.run([args.hela, 'sample', '--events', str(args.events), '--out', data], check=True)
    if not os.path.exists(lake):
        subprocess.run([args.hela, 'ingest', '--quiet', '--lake', lake, data], check=True)
    if not os.path.exists(db):
        with duckdb.connect(db) as con:
            con.execute(f"CREATE TABLE events AS SELECT * FROM read_json_auto('{data}', sample_size=-1, union_by_name=true)")

    select = ', '.join(f'"{c}"' for c in COLUMNS)
    hela_sql = f"SELECT {', '.join(f'`{c}`' for c in COLUMNS)} FROM events"
    duck_sql = f'SELECT {select} FROM events'

    conn = hela.Connection(lake)
    duck = duckdb.connect(db, read_only=True)
    rows = {}
    report = []
    for name, run in [
        ('hela → pandas', lambda: conn.sql(hela_sql).to_pandas()),
        ('DuckDB → pandas', lambda: duck.sql(duck_sql).df()),
        ('DuckDB → pyarrow → pandas', lambda: duck.sql(duck_sql).to_arrow_table().to_pandas()),
        ('hela → pyarrow', lambda: conn.sql(hela_sql).to_arrow()),
        ('DuckDB → pyarrow', lambda: duck.sql(duck_sql).to_arrow_table()),
    ]:
        median, times, result = timed(run, args.repeat)
        rows[name] = result
        report.append((name, median, times, len(result)))
        print(f'{name}: {median * 1e3:.0f} ms median of {args.repeat} ({", ".join(f"{t * 1e3:.0f}" for t in times)}), {len(result)} rows', flush=True)

    hela_frame, duck_frame = rows['hela → pandas'], rows['DuckDB → pandas']
    assert len(hela_frame) == len(duck_frame) == args.events + 4, (len(hela_frame), len(duck_frame))
    for column in ('EventID', 'Hostname'):
        assert sorted(hela_frame[column].astype(str)) == sorted(duck_frame[column].astype(str)), column
    print('answers agree: same rows, same EventID and Hostname values')
    by = {name: median for name, median, _, _ in report}
    print(f"\n| into | hela ms | DuckDB ms | DuckDB / hela |\n|---|---:|---:|---:|")
    for target, duck_path in (('pandas', 'DuckDB → pandas'), ('pandas', 'DuckDB → pyarrow → pandas'), ('pyarrow', 'DuckDB → pyarrow')):
        h, d = by[f'hela → {target}'], by[duck_path]
        print(f'| {target} ({duck_path}) | {h * 1e3:.0f} | {d * 1e3:.0f} | {d / h:.2f}× |')


if __name__ == '__main__':
    sys.exit(main())
