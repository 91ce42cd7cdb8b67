#!/usr/bin/env python3
"""hela locally and on a Ballista cluster, the same lake and queries in the same run.

Over the lake of the corpus at `--scale` (as bench/run.py builds it), three ways:

* local: `hela sql` and `hela hunt` in one process;
* one executor: `hela cluster scheduler` and one `hela cluster executor --cores 1`;
* two executors: the same scheduler with two executors of one core each.

It times the benchmark's queries (the ThreatHunter-Playbook analytics and the seeds' two,
each warm: one process runs them all, best of `--repeat`) and a Sigma hunt of the whole
lake with `--rules` (best of `--repeat`). Every way must return the same row counts and
detections. Reports the speed-up from one executor to two, over every query and over the
scan-heavy ones (those taking at least `--heavy` seconds locally), and what the cluster
adds to the small queries (under `--small` seconds locally).

Every process runs on this machine: the numbers measure Ballista's work and overhead with
the cores given, not a network.

    python3 bench/cluster.py --hela target/release/hela --scale 4 --work bench/work

Writes bench/results/cluster.json.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from run import SHARED, geomean, hela_ingest, hela_warm, log, queries, run  # noqa: E402
from thp import machine_info  # noqa: E402


class Cluster:
    """A scheduler and `executors` executors of one core each, on loopback."""

    def __init__(self, hela, executors, work):
        self.processes = []
        scheduler = self.start([hela, 'cluster', 'scheduler', '--bind', '127.0.0.1:0', '--executor-timeout', '30'])
        self.url = scheduler.removeprefix('scheduler listening on ')
        for n in range(executors):
            self.start([hela, 'cluster', 'executor', '--scheduler', self.url, '--port', '0', '--cores', '1',
                        '--work-dir', os.path.join(work, f'executor-{n}')])

    def start(self, command):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.processes.append(process)
        return process.stdout.readline().strip()

    def stop(self):
        for process in self.processes:
            process.terminate()
            process.wait(timeout=60)


def warm(hela, lake, qs, extra, repeat):
    """Each query's best time of `repeat` passes, and its rows."""
    passes = [hela_warm(hela, lake, qs, extra) for _ in range(repeat)]
    times = {q: min(p[0][q] for p in passes) for q in passes[0][0]}
    return times, passes[0][1]


def hunt(hela, lake, rules, extra, repeat, work):
    """The hunt's best time of `repeat`, and its detections (sorted JSON lines)."""
    out = os.path.join(work, 'detections.jsonl')
    seconds = min(run([hela, 'hunt', '--sigma', rules, '--lake', lake, '--quiet', '--format', 'jsonl', '--output', out, *extra])[0]
                  for _ in range(repeat))
    with open(out) as f:
        return seconds, sorted(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hela', default=os.path.join(os.path.dirname(HERE), 'target', 'release', 'hela'))
    parser.add_argument('--scale', type=int, default=4)
    parser.add_argument('--work', default=os.path.join(HERE, 'work'), help='corpora and lakes')
    parser.add_argument('--rules', default=os.path.join(SHARED, 'sigma', 'rules-corpus', 'rules', 'windows'))
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--heavy', type=float, default=0.2, help='seconds locally that make a query scan-heavy')
    parser.add_argument('--small', type=float, default=0.05, help='seconds locally under which a query is small')
    parser.add_argument('--skip', nargs='*', default=[], help='ids of queries left out (those a cluster cannot run yet)')
    args = parser.parse_args()
    hela = os.path.abspath(args.hela)

    path = corpus.build(args.scale, os.path.join(args.work, f'corpus-sf{args.scale}.jsonl'), hela=hela)
    lake = os.path.join(args.work, f'lake-sf{args.scale}')
    if not os.path.isdir(lake):
        log(f'ingesting {path}: {hela_ingest(hela, path, lake)}')
    qs = [q for q in queries(os.path.join(SHARED, 'conformance', 'thp', 'cases.jsonl')) if q['id'] not in args.skip]
    report = {'machine': machine_info(), 'scale': args.scale, 'queries': len(qs), 'skipped': args.skip, 'ways': {}}

    ways = [('local', 0), ('one executor', 1), ('two executors', 2)]
    results = {}
    for name, executors in ways:
        scratch = tempfile.mkdtemp(prefix='hela-cluster-bench-')
        cluster = Cluster(hela, executors, scratch) if executors else None
        try:
            extra = ['--cluster', cluster.url] if cluster else []
            times, rows = warm(hela, lake, qs, extra, args.repeat)
            hunted = hunt(hela, lake, args.rules, extra, args.repeat, scratch) if os.path.isdir(args.rules) else (None, [])
        finally:
            if cluster:
                cluster.stop()
            shutil.rmtree(scratch, ignore_errors=True)
        results[name] = {'times': times, 'rows': rows, 'hunt_s': hunted[0], 'detections': hunted[1]}
        log(f'{name}: queries {sum(times.values()):.2f} s in all, hunt {hunted[0]} s, {len(hunted[1])} detections')

    local, one, two = (results[name] for name, _ in ways)
    for name in ('one executor', 'two executors'):
        differ = [q for q in local['rows'] if results[name]['rows'].get(q) != local['rows'][q]]
        if differ or results[name]['detections'] != local['detections']:
            sys.exit(f'{name} disagrees with the local run: queries {differ}, detections '
                     f'{len(results[name]["detections"])} against {len(local["detections"])}')

    heavy = [q for q, t in local['times'].items() if t >= args.heavy]
    small = [q for q, t in local['times'].items() if t < args.small]
    speedup = lambda ids: geomean([one['times'][q] for q in ids]) / geomean([two['times'][q] for q in ids]) if ids else None
    summary = {
        'speedup_1_to_2_all': speedup(list(local['times'])),
        'speedup_1_to_2_heavy': speedup(heavy),
        'heavy_queries': len(heavy),
        'hunt_speedup_1_to_2': one['hunt_s'] / two['hunt_s'] if one['hunt_s'] else None,
        'small_queries': len(small),
        'small_local_median_ms': statistics.median(local['times'][q] for q in small) * 1e3 if small else None,
        'small_cluster_median_ms': statistics.median(two['times'][q] for q in small) * 1e3 if small else None,
        'detections': len(local['detections']),
    }
    for name, result in results.items():
        report['ways'][name] = {'times': result['times'], 'hunt_s': result['hunt_s'], 'queries_geomean_s': geomean(list(result['times'].values()))}
    report['summary'] = summary

    print(f'\n### Local and on a cluster, SF{args.scale}, {len(qs)} queries and a Sigma hunt\n')
    print('| | queries, geometric mean | queries, sum | Sigma hunt |')
    print('|---|---:|---:|---:|')
    for name, result in results.items():
        hunt_s = f'{result["hunt_s"]:.2f} s' if result['hunt_s'] else '-'
        print(f'| {name} | {geomean(list(result["times"].values())) * 1e3:.0f} ms | {sum(result["times"].values()):.2f} s | {hunt_s} |')
    print(f'\none to two executors: {summary["speedup_1_to_2_all"]:.2f}x over every query, '
          f'{summary["speedup_1_to_2_heavy"] or float("nan"):.2f}x over the {len(heavy)} scan-heavy ones (>= {args.heavy} s locally), '
          f'{summary["hunt_speedup_1_to_2"] or float("nan"):.2f}x for the hunt ({summary["detections"]} detections)')
    if small:
        print(f'{len(small)} small queries (< {args.small * 1e3:.0f} ms locally): median {summary["small_local_median_ms"]:.1f} ms locally, '
              f'{summary["small_cluster_median_ms"]:.1f} ms on two executors')
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    with open(os.path.join(HERE, 'results', 'cluster.json'), 'w') as f:
        json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
