#!/usr/bin/env python3
"""Graph functions and indicator matching at scale: hela's SQL against networkx on the same
graph, and ioc_match's throughput, same run.

Graphs: a random multigraph of --vertices vertices and --edges edges (a million by
default), written to Parquet and read in place by `hela sql --table`; PageRank (reset 0.15,
tolerance 1e-6) and weakly connected components, timed as whole `hela sql` runs (reading the
file included) against networkx on a MultiDiGraph built beforehand (building not timed).
The answers are compared (the largest PageRank difference, the components' partition).

Indicators: --indicators indicators (addresses, networks, domains, hashes and file names;
up to 300 addresses of them occur in the events) against `hela sample` events (--events), or
with --scale N against the scaled Security-Datasets corpus of bench/corpus.py (SF N), both in
a hela lake; `SELECT count(*) FROM ioc_match(events, indicators)`, timed warm.

    pip install . networkx pyarrow
    cargo build --release
    python3 bench/analytics.py --hela target/release/hela --work /tmp/hela-analytics
    python3 bench/analytics.py --only indicators --scale 4
"""
import argparse
import csv
import os
import random
import subprocess
import time

import corpus
from to_pandas import timed


def run_hela(hela, *args):
    begun = time.perf_counter()
    out = subprocess.run([hela, *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - begun, out.stdout


def graphs(args):
    import networkx as nx
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(1)
    src = [f"v{rng.randrange(args.vertices)}" for _ in range(args.edges)]
    dst = [f"v{rng.randrange(args.vertices)}" for _ in range(args.edges)]
    path = os.path.join(args.work, "edges.parquet")
    pq.write_table(pa.table({"src": src, "dst": dst}), path)
    graph = nx.MultiDiGraph()
    graph.add_edges_from(zip(src, dst))
    table = f"edges={path}"
    print(f"graph: {graph.number_of_nodes()} vertices, {graph.number_of_edges()} edges")

    def hela_sql(sql):
        return run_hela(args.hela, "sql", "--lake", os.path.join(args.work, "no-lake"), "--table", table, "--format", "csv", sql)

    hela_pr, _, (_, text) = timed(lambda: hela_sql("SELECT * FROM pagerank(edges)"), args.repeat)
    ranks = {row["id"]: float(row["pagerank"]) for row in csv.DictReader(text.splitlines())}
    nx_pr, _, expected = timed(lambda: nx.pagerank(graph, alpha=0.85, tol=1e-6), args.repeat)
    worst = max(abs(ranks[v] - expected[v]) for v in expected)
    print(f"pagerank: hela {hela_pr:.2f} s, networkx {nx_pr:.2f} s ({nx_pr / hela_pr:.1f}x); largest difference {worst:.1e}")

    hela_cc, _, (_, text) = timed(lambda: hela_sql("SELECT * FROM connected_components(edges)"), args.repeat)
    groups = {}
    for row in csv.DictReader(text.splitlines()):
        groups.setdefault(row["component"], set()).add(row["id"])
    nx_cc, _, components = timed(lambda: list(nx.weakly_connected_components(graph)), args.repeat)
    same = {frozenset(g) for g in groups.values()} == {frozenset(c) for c in components}
    print(f"connected components: hela {hela_cc:.2f} s, networkx {nx_cc:.2f} s ({nx_cc / hela_cc:.1f}x); same partition: {same}")


def indicators(args):
    if args.scale:
        lake = os.path.join(args.work, f"lake-sf{args.scale}")
        events = corpus.build(args.scale, os.path.join(args.work, f"corpus-sf{args.scale}.jsonl"), hela=args.hela)
    else:
        lake = os.path.join(args.work, "lake")
        events = os.path.join(args.work, "sample.json")
        if not os.path.exists(events):
            run_hela(args.hela, "sample", "--out", events, "--events", str(args.events))
    if not os.path.exists(lake):
        run_hela(args.hela, "ingest", "--lake", lake, events)
    _, text = run_hela(args.hela, "sql", "--lake", lake, "--format", "csv",
                       "SELECT DISTINCT DestinationIp AS v FROM events WHERE DestinationIp IS NOT NULL")
    seen = sorted(row["v"] for row in csv.DictReader(text.splitlines()))
    rng = random.Random(2)
    rows = [("ip", v) for v in rng.sample(seen, min(300, len(seen)))]
    while len(rows) < args.indicators:
        kind = rng.randrange(5)
        if kind == 0:
            rows.append(("ip", f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"))
        elif kind == 1:
            rows.append(("ip", f"{rng.randrange(1, 224)}.{rng.randrange(256)}.0.0/16"))
        elif kind == 2:
            rows.append(("domain", f"{rng.getrandbits(48):x}.example"))
        elif kind == 3:
            rows.append(("sha256", f"{rng.getrandbits(256):064x}"))
        else:
            rows.append(("file_name", f"{rng.getrandbits(40):x}.exe"))
    feed = os.path.join(args.work, "feed.csv")
    with open(feed, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["type", "value"])
        writer.writerows(rows)
    subprocess.run([args.hela, "intel", "load", "--lake", lake, feed], capture_output=True)
    seconds, _, (_, text) = timed(lambda: run_hela(args.hela, "sql", "--lake", lake, "--format", "csv", "SELECT count(*) AS n FROM ioc_match(events, indicators)"), args.repeat)
    _, events = run_hela(args.hela, "sql", "--lake", lake, "--format", "csv", "SELECT count(*) AS n FROM events")
    count = int(events.splitlines()[1])
    print(f"ioc_match: {count} events x {len(rows)} indicators: {seconds:.2f} s ({count / seconds / 1e6:.2f} M events/s), {text.splitlines()[1]} matches")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hela", default="target/release/hela")
    parser.add_argument("--work", default="bench/work/analytics")
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--scale", type=int, help="match the scaled Security-Datasets corpus of this scale factor instead of sample events")
    parser.add_argument("--only", choices=["graphs", "indicators"], help="run only one of the two")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    if args.only != "indicators":
        graphs(args)
    if args.only != "graphs":
        indicators(args)


if __name__ == "__main__":
    main()
