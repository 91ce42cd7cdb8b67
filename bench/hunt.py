#!/usr/bin/env python3
"""Sigma hunting over EVTX files: hela against Chainsaw and Hayabusa, same files, same run.

Each tool runs `--runs` times over the same directory of .evtx files; the median wall time,
the peak RSS, the detections and the distinct rules that fired are reported, and every
(rule, file, event record) pair a peer reports is checked against hela's.

The peers are not part of hela: build them yourself and pass their paths. Chainsaw runs the
same SigmaHQ rules as hela (it needs its own mapping file, `mappings/sigma-event-logs-all.yml`
in its repository). Hayabusa does not read Sigma logsources; it runs its converted copy of
the SigmaHQ rules (the `sigma/` folder of hayabusa-rules), whose rule files name the SigmaHQ
rule they derive from, so its detections are compared by that id. A peer whose paths are
not given is skipped with the reason.

    python3 bench/hunt.py --hela target/release/hela \\
        --rules ../shared/sigma/rules-corpus/rules/windows \\
        --evtx ../shared/datasets/evtx-attack-samples \\
        --chainsaw PATH --chainsaw-mapping PATH \\
        --hayabusa PATH --hayabusa-rules DIR --hayabusa-config DIR

Writes bench/results/hunt.json.
"""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import run  # noqa: E402  (wall time and peak RSS of one command)


def measure(name, command, runs, cwd=None):
    results = [run(command, cwd=cwd) for _ in range(runs)]
    seconds = statistics.median(r[0] for r in results)
    rss = max(r[1] for r in results)
    print(f"{name}: {', '.join(f'{r[0]:.2f}' for r in results)} s, peak RSS {rss:.0f} MB", file=sys.stderr)
    return {"seconds": seconds, "runs": [r[0] for r in results], "peak_rss_mb": rss}


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def hela_pairs(path):
    return {(d["rule_id"], d["source"], int(d["EventRecordID"])) for d in jsonl(path)}


def chainsaw_pairs(path):
    pairs = set()
    for d in jsonl(path):
        system = d["document"]["data"]["Event"]["System"]
        pairs.add((d["id"], d["document"]["path"], int(system["EventRecordID"])))
    return pairs


def hayabusa_sigma_ids(rules_dir):
    """Hayabusa's converted rule id -> the SigmaHQ rule id it derives from."""
    ids = {}
    for path in Path(rules_dir).rglob("*.yml"):
        text = path.read_text(errors="replace")
        own = re.search(r"^id:\s*(\S+)", text, re.M)
        derived = re.findall(r"-\s*id:\s*(\S+)\s*\n\s*type:\s*derived", text)
        if own and derived:
            ids[own.group(1)] = derived[-1]
    return ids


def hayabusa_pairs(path, ids):
    return {(ids.get(d["RuleID"], d["RuleID"]), d["EvtxFile"], int(d["RecordID"])) for d in jsonl(path)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hela", default="target/release/hela")
    parser.add_argument("--rules", default="../shared/sigma/rules-corpus/rules/windows")
    parser.add_argument("--evtx", default="../shared/datasets/evtx-attack-samples")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chainsaw", default=os.environ.get("HELA_BENCH_CHAINSAW"))
    parser.add_argument("--chainsaw-mapping", default=os.environ.get("HELA_BENCH_CHAINSAW_MAPPING"))
    parser.add_argument("--hayabusa", default=os.environ.get("HELA_BENCH_HAYABUSA"))
    parser.add_argument("--hayabusa-rules", default=os.environ.get("HELA_BENCH_HAYABUSA_RULES"))
    parser.add_argument("--hayabusa-config", default=os.environ.get("HELA_BENCH_HAYABUSA_CONFIG"))
    args = parser.parse_args()
    evtx = str(Path(args.evtx).resolve())
    rules = str(Path(args.rules).resolve())
    work = Path(tempfile.mkdtemp(prefix="hela-bench-hunt-"))
    files = list(Path(evtx).rglob("*.evtx"))
    report = {"evtx": evtx, "files": len(files), "bytes": sum(f.stat().st_size for f in files), "rules": rules, "tools": {}}

    out = work / "hela.jsonl"
    hela = [str(Path(args.hela).resolve()), "hunt", "--sigma", rules, "--format", "jsonl", "--quiet", "--output", str(out), evtx]
    report["tools"]["hela"] = measure("hela", hela, args.runs)
    pairs = {"hela": hela_pairs(out)}

    if args.chainsaw and args.chainsaw_mapping:
        out = work / "chainsaw.jsonl"
        command = [args.chainsaw, "--no-banner", "hunt", evtx, "-s", rules, "--mapping", args.chainsaw_mapping,
                   "--skip-errors", "--jsonl", "-o", str(out)]
        report["tools"]["chainsaw"] = measure("chainsaw", command, args.runs)
        pairs["chainsaw"] = chainsaw_pairs(out)
    else:
        print("chainsaw skipped: give --chainsaw and --chainsaw-mapping", file=sys.stderr)

    if args.hayabusa and args.hayabusa_rules and args.hayabusa_config:
        out = work / "hayabusa.jsonl"
        command = [args.hayabusa, "dfir-timeline", "-d", evtx, "-r", args.hayabusa_rules, "-c", args.hayabusa_config,
                   "-w", "-q", "-K", "-Q", "-n", "-m", "informational", "-O", "-b", "-p", "super-verbose",
                   "-t", "jsonl", "-o", str(out), "-C"]
        report["tools"]["hayabusa"] = measure("hayabusa", command, args.runs, cwd=work)
        pairs["hayabusa"] = hayabusa_pairs(out, hayabusa_sigma_ids(args.hayabusa_rules))
    else:
        print("hayabusa skipped: give --hayabusa, --hayabusa-rules and --hayabusa-config", file=sys.stderr)

    for name, found in pairs.items():
        tool = report["tools"][name]
        tool["detections"] = len(found)
        tool["rules_fired"] = len({rule for rule, _, _ in found})
        if name != "hela":
            missed = sorted(found - pairs["hela"])
            tool["pairs_missed_by_hela"] = [list(p) for p in missed]
            tool["pairs_only_hela"] = len(pairs["hela"] - found)
            tool["hela_speedup"] = tool["seconds"] / report["tools"]["hela"]["seconds"]

    print("| tool | wall s (median) | peak RSS MB | detections | rules fired | hela faster by | peer pairs hela lacks |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, tool in report["tools"].items():
        speedup = f"{tool['hela_speedup']:.1f}×" if "hela_speedup" in tool else ""
        missed = len(tool.get("pairs_missed_by_hela", [])) if name != "hela" else ""
        print(f"| {name} | {tool['seconds']:.2f} | {tool['peak_rss_mb']:.0f} | {tool['detections']} | {tool['rules_fired']} | {speedup} | {missed} |")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "hunt.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
