#!/usr/bin/env python3
"""Sigma correlations over a corpus of Windows events: `hela hunt` against RSigma's
`engine eval`, same events, same rules, same run.

The rules are HELK's KSQL join as shipped (`examples/correlations`: a network logon, then a
process in its session within five minutes) and three written here: password guessing
(`event_count` of failed logons per account), password spraying (`value_count` of accounts
per source address) and a process burst (`event_count` of process creations per host and
user). Each tool reads the corpus' JSON lines once; the wall time, events/s, peak RSS and
the firings of each correlation are reported. Firings differ where the two read the events
differently: hela correlates in event time, RSigma in arrival order (the corpus' datasets
are not in time order; sorted by `@timestamp`, RSigma fires the process burst as often as
hela); RSigma counts time in whole seconds, hela in milliseconds (in the Empire WMI
dataset Sysmon logged PowerShell 65 ms before Security logged the logon: for RSigma, in
the same second, the logon came first).

    python3 bench/corpus.py --scale 1 --out bench/work/corpus-sf1.jsonl
    python3 bench/correlations.py --hela target/release/hela --corpus bench/work/corpus-sf1.jsonl

Writes bench/results/correlations.json.
"""

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import log, run  # noqa: E402  (wall time and peak RSS of one command)

RULES = """
title: Password guessing
id: b7e2d4a0-0c1f-4f3e-9a55-6d2e8c1f0a01
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 5m
    condition: {gte: 3}
level: high
---
title: Password spraying
id: b7e2d4a0-0c1f-4f3e-9a55-6d2e8c1f0a02
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 1h
    condition: {field: TargetUserName, gte: 2}
level: high
---
title: Failed logon
id: b7e2d4a0-0c1f-4f3e-9a55-6d2e8c1f0a03
name: failed_logon
logsource: {product: windows, service: security}
detection:
    selection: {Channel: Security, EventID: 4625}
    condition: selection
level: low
---
title: Process burst
id: b7e2d4a0-0c1f-4f3e-9a55-6d2e8c1f0a04
correlation:
    type: event_count
    rules: [process_started]
    group-by: [Hostname, User]
    timespan: 1m
    condition: {gte: 10}
level: medium
---
title: Process started
id: b7e2d4a0-0c1f-4f3e-9a55-6d2e8c1f0a05
name: process_started
logsource: {product: windows, category: process_creation}
detection:
    selection: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1}
    condition: selection
level: informational
"""


def firings_hela(text):
    return Counter(json.loads(line)["rule_title"] for line in text.splitlines() if '"correlation"' in line)


def firings_rsigma(text):
    counts = Counter()
    for line in text.splitlines():
        if '"correlation_type"' in line:
            counts[json.loads(line)["rule_title"]] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hela", default=str(HERE.parent / "target" / "release" / "hela"))
    parser.add_argument("--rsigma", default="rsigma")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", default=str(HERE / "results" / "correlations.json"))
    args = parser.parse_args()
    events = sum(1 for _ in open(args.corpus, "rb"))
    log(f"{args.corpus}: {events} events")
    with tempfile.TemporaryDirectory() as work:
        rules = Path(work) / "rules"
        rules.mkdir()
        (rules / "bench.yml").write_text(RULES.lstrip())
        for example in (HERE.parent / "examples" / "correlations").iterdir():
            (rules / example.name).write_text(example.read_text())
        hela_seconds, hela_rss, hela_out, _ = run(
            [args.hela, "hunt", "--quiet", "--format", "jsonl", "--sigma", str(rules), args.corpus], stdout=None)
        log(f"hela: {hela_seconds:.2f} s, {events / hela_seconds:,.0f} events/s, peak RSS {hela_rss:.0f} MB")
        peer_seconds, peer_rss, peer_out, _ = run(
            [args.rsigma, "engine", "eval", "-q", "-r", str(rules), "-e", f"@{args.corpus}", "--no-detections"], stdout=None)
        log(f"rsigma: {peer_seconds:.2f} s, {events / peer_seconds:,.0f} events/s, peak RSS {peer_rss:.0f} MB")
    result = {
        "corpus": os.path.basename(args.corpus),
        "events": events,
        "hela": {"seconds": hela_seconds, "events_per_second": events / hela_seconds, "peak_rss_mb": hela_rss,
                 "firings": dict(firings_hela(hela_out))},
        "rsigma": {"seconds": peer_seconds, "events_per_second": events / peer_seconds, "peak_rss_mb": peer_rss,
                   "firings": dict(firings_rsigma(peer_out))},
        "speedup": peer_seconds / hela_seconds,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
