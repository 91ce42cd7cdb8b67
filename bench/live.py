#!/usr/bin/env python3
"""Live detection: events from Kafka into the lake with the SigmaHQ Windows rules standing.

* The corpus (bench/corpus.py, scale factor N) is produced to a topic of tansu, a
  Kafka-compatible broker on loopback (2 partitions), before the server starts.
* `hela serve --kafka` consumes the backlog into an empty lake, without rules and then
  (another lake) with every SigmaHQ Windows rule standing and alerts to a JSON-lines file:
  events/s from the first message to the last stored, the detections committed, the
  server's peak RSS.
* Then, with the rules standing and the backlog stored, the corpus is produced again at a
  steady rate (--rate events/s): for every alert, the time from the broker acknowledging its
  event to the alert's line appearing in the alerts file; p50 and p99.
* RSigma's daemon (`rsigma engine daemon`, the streaming Sigma peer) in the same run, with
  the same rules, fed the same events on its standard input (it reads no Kafka) and writing
  its matches to a file: events/s from its start to the last event processed, its matches,
  its peak RSS. RSigma only evaluates; hela also stores every event in the lake.

    python3 bench/live.py --hela target/release/hela --scale 1

Clients run on the same machine and take CPU from the server.
"""
import argparse
import atexit
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from run import SHARED, Served, log, peak_rss_mb  # noqa: E402

RULES = os.path.join(SHARED, 'sigma', 'rules-corpus', 'rules', 'windows')
TOPIC = 'winlogbeat'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, tansu, work):
        self.address = f'127.0.0.1:{free_port()}'
        url = f'tcp://{self.address}'
        self.process = subprocess.Popen([tansu, 'broker', '--listener-url', url, '--advertised-listener-url', url,
                                         '--storage-engine', 'memory://tansu/'],
                                        stdout=open(os.path.join(work, 'tansu.log'), 'w'), stderr=subprocess.STDOUT)
        atexit.register(self.process.kill)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(self.address.split(':'), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError('tansu did not start')
                time.sleep(0.1)

    def create_topic(self, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({'bootstrap.servers': self.address})
        for future in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
            future.result(timeout=30)

    def produce(self, lines, rate=None, acked=None):
        """Produces `lines` (at `rate` per second if given); `acked[(partition, offset)]` gets
        the time the broker acknowledged each."""
        from confluent_kafka import Producer
        producer = Producer({'bootstrap.servers': self.address, 'linger.ms': 5, 'compression.type': 'gzip',
                             'queue.buffering.max.messages': 1_000_000})

        def delivered(err, message):
            if err is not None:
                raise RuntimeError(err)
            if acked is not None:
                acked[(message.partition(), message.offset())] = time.monotonic()

        started = time.monotonic()
        for n, line in enumerate(lines):
            while True:
                try:
                    producer.produce(TOPIC, line, key=str(n).encode(), on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            if rate and n % 100 == 0:
                ahead = started + n / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        producer.flush(600)


class Server(Served):
    def __init__(self, hela, lake, broker, group, *args):
        self.log_path = lake + '.log'
        self.process = subprocess.Popen([hela, 'serve', '--lake', lake, '--listen', '127.0.0.1:0', '--kafka', broker.address,
                                         '--topic', TOPIC, '--group', group, *args],
                                        stdout=subprocess.PIPE, stderr=open(self.log_path, 'w'), text=True)
        line = self.process.stdout.readline()
        if not line.startswith('listening on '):
            raise RuntimeError(f'hela serve did not start: {open(self.log_path).read()[-2000:]}')
        self.url = line.split()[-1]
        atexit.register(self.kill)

    def metric(self, name):
        return prometheus(self.url + '/metrics', name)

    def wait_stored(self, expected, timeout=3600):
        """Waits until the lake holds `expected` documents; returns the time and count of
        the first commit seen, and the time of the last."""
        deadline = time.monotonic() + timeout
        first = None
        while (stored := self.metric('hela_documents_stored_total')) < expected:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f'{stored:.0f} of {expected} stored: {open(self.log_path).read()[-2000:]}')
            if stored > 0 and first is None:
                first = (time.monotonic(), stored)
            time.sleep(0.02)
        return first or (time.monotonic(), stored), time.monotonic()


def consume_backlog(hela, work, broker, name, count, *args):
    lake = os.path.join(work, name)
    started = time.monotonic()
    server = Server(hela, lake, broker, name, *args)
    (first_at, first_count), last_at = server.wait_stored(count)
    took = last_at - started
    # From the first commit on: the start, the rules' loading and joining the group aside.
    steady = (count - first_count) / max(last_at - first_at, 1e-3)
    result = {'events_per_s': count / took, 'steady_events_per_s': steady, 'seconds': took,
              'detections': server.metric('hela_detections_total'), 'peak_rss_mb': server.peak_rss_mb()}
    return server, result


def prometheus(url, name):
    import urllib.request
    with urllib.request.urlopen(url, timeout=60) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + ' '):
                return float(line.split()[-1])
    return 0.0


def rsigma_run(rsigma, work, path, count):
    """RSigma's daemon over the corpus on stdin: events/s, matches, peak RSS."""
    port = free_port()
    url = f'http://127.0.0.1:{port}/metrics'
    out = os.path.join(work, 'rsigma-matches.ndjson')
    started = time.monotonic()
    process = subprocess.Popen([rsigma, 'engine', 'daemon', '-r', RULES, '--api-addr', f'127.0.0.1:{port}',
                                '--output', f'file://{out}', '--batch-size', '64', '--buffer-size', '50000'],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(work, 'rsigma.log'), 'w'),
                               # Its back-pressure warnings, one per event, would cost it time.
                               env={**os.environ, 'RUST_LOG': 'error'})
    atexit.register(process.kill)

    def feed():
        # Standard input stays open: the daemon stops at its end.
        with open(path, 'rb') as f:
            shutil.copyfileobj(f, process.stdin, 1 << 20)
        process.stdin.flush()

    threading.Thread(target=feed, daemon=True).start()
    processed = 0.0
    while processed < count:
        if process.poll() is not None:
            raise RuntimeError(f'rsigma stopped: {open(os.path.join(work, "rsigma.log")).read()[-2000:]}')
        try:
            processed = prometheus(url, 'rsigma_events_processed_total')
        except OSError:
            pass
        time.sleep(0.05)
    took = time.monotonic() - started
    matches = prometheus(url, 'rsigma_detection_matches_total')
    rss = peak_rss_mb(process.pid)
    process.terminate()
    process.wait(timeout=60)
    return {'events_per_s': count / took, 'seconds': took, 'matches': matches, 'peak_rss_mb': rss, 'file': out}


def by_rule(path, limit=None):
    """Matches per rule title in a file of JSON lines (the first `limit` lines)."""
    counts = {}
    with open(path) as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            title = json.loads(line)['rule_title']
            counts[title] = counts.get(title, 0) + 1
    return counts


def tail_alerts(path, seen, stop):
    """Notes when each alert's line appears in the alerts file, by its event's position."""
    while not os.path.exists(path):
        time.sleep(0.01)
    with open(path) as f:
        partial = ''
        while not stop.is_set():
            chunk = f.read()
            if not chunk:
                time.sleep(0.005)
                continue
            now = time.monotonic()
            lines = (partial + chunk).split('\n')
            partial = lines.pop()
            for line in lines:
                alert = json.loads(line)
                partition, offset = alert['source_id'].split('-')
                seen.append(((int(partition), int(offset)), now))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hela', default=os.path.join(os.path.dirname(HERE), 'target', 'release', 'hela'))
    parser.add_argument('--tansu', default=shutil.which('tansu') or os.path.expanduser('~/.cargo/bin/tansu'))
    parser.add_argument('--rsigma', default=shutil.which('rsigma') or os.path.expanduser('~/.cargo/bin/rsigma'))
    parser.add_argument('--scale', type=int, default=1)
    parser.add_argument('--rate', type=int, default=20_000, help='events/s produced in the latency phase')
    parser.add_argument('--commit-interval', type=int, default=None, help="the server's --commit-interval, ms")
    parser.add_argument('--work', default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix='hela-live-')
    path = corpus.build(args.scale, os.path.join(HERE, 'work', f'corpus-sf{args.scale}.jsonl'), hela=args.hela)
    with open(path, 'rb') as f:
        lines = [line.rstrip(b'\n') for line in f if line.strip()]
    count = len(lines)
    log(f'corpus: {count} events, {os.path.getsize(path) / 1e6:.0f} MB')

    broker = Broker(args.tansu, work)
    broker.create_topic(TOPIC, 2)
    started = time.monotonic()
    broker.produce(lines)
    log(f'produced the backlog in {time.monotonic() - started:.1f} s')

    plain, plain_result = consume_backlog(args.hela, work, broker, 'plain', count, *(
        ['--commit-interval', str(args.commit_interval)] if args.commit_interval else []))
    plain.stop()
    log(f'no rules: {plain_result}')
    alerts_file = os.path.join(work, 'alerts.jsonl')
    interval = ['--commit-interval', str(args.commit_interval)] if args.commit_interval else []
    live, live_result = consume_backlog(args.hela, work, broker, 'rules', count, '--rules', RULES, '--alerts-file', alerts_file, *interval)
    log(f'SigmaHQ Windows rules standing: {live_result}')

    seen, stop = [], threading.Event()
    before = sum(1 for _ in open(alerts_file))
    tail = threading.Thread(target=tail_alerts, args=(alerts_file, seen, stop), daemon=True)
    tail.start()
    acked = {}
    commits_before = live.metric('hela_commit_seconds_sum'), live.metric('hela_commit_seconds_count')
    broker.produce(lines, rate=args.rate, acked=acked)
    live.wait_stored(2 * count)
    commit_seconds = live.metric('hela_commit_seconds_sum') - commits_before[0]
    commits = live.metric('hela_commit_seconds_count') - commits_before[1]
    deadline = time.monotonic() + 30
    while len(seen) < before + live_result['detections'] and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    latencies = sorted(when - acked[position] for position, when in seen[before:] if position in acked)
    rss = live.peak_rss_mb()
    live.stop()
    rsigma = rsigma_run(args.rsigma, work, path, count)
    log(f'RSigma: {rsigma}')
    result = {
        'events': count,
        'consume_no_rules_events_per_s': round(plain_result['events_per_s']),
        'consume_rules_events_per_s': round(live_result['events_per_s']),
        'consume_no_rules_steady_events_per_s': round(plain_result['steady_events_per_s']),
        'consume_rules_steady_events_per_s': round(live_result['steady_events_per_s']),
        'detections': int(live_result['detections']),
        'peak_rss_mb_no_rules': round(plain_result['peak_rss_mb']),
        'peak_rss_mb_rules': round(rss),
        'latency_rate_events_per_s': args.rate,
        'latency_alerts': len(latencies),
        'latency_p50_ms': round(1000 * statistics.median(latencies), 1) if latencies else None,
        'latency_p99_ms': round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        'latency_phase_commits': int(commits),
        'latency_phase_commit_mean_ms': round(1000 * commit_seconds / commits, 1) if commits else None,
        'rsigma_events_per_s': round(rsigma['events_per_s']),
        'rsigma_matches': int(rsigma['matches']),
        'rsigma_peak_rss_mb': round(rsigma['peak_rss_mb']),
        'hela_rules_over_rsigma_events_per_s': round(live_result['events_per_s'] / rsigma['events_per_s'], 2),
    }
    hela_rules = by_rule(alerts_file, limit=int(live_result['detections']))
    rsigma_rules = by_rule(rsigma['file'])
    differ = sorted(set(hela_rules) | set(rsigma_rules), key=lambda t: -abs(hela_rules.get(t, 0) - rsigma_rules.get(t, 0)))
    result['rules_that_differ'] = [
        {'rule': t, 'hela': hela_rules.get(t, 0), 'rsigma': rsigma_rules.get(t, 0)}
        for t in differ if hela_rules.get(t, 0) != rsigma_rules.get(t, 0)
    ][:15]
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
