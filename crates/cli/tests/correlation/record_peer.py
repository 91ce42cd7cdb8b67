#!/usr/bin/env python3
"""Records RSigma's answers for the correlation cases beside this script.

Each case directory holds `rules.yml` and `events.jsonl` (and `peer-rules.yml` when RSigma
needs the rules written differently: it does not read `| count()` aggregations). RSigma
0.23.0 (`cargo install rsigma --version 0.23.0`) evaluates the same events with the same
rules, and its correlation results are written to `peer.jsonl`, which
`crates/cli/tests/correlation.rs` compares with hela's detections.

    python3 crates/cli/tests/correlation/record_peer.py
"""

import pathlib
import subprocess
import sys

VERSION = "0.23.0"


def main() -> int:
    here = pathlib.Path(__file__).resolve().parent
    version = subprocess.run(["rsigma", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if VERSION not in version:
        print(f"RSigma {VERSION} is needed, found: {version}", file=sys.stderr)
        return 1
    for case in sorted(p for p in here.iterdir() if p.is_dir()):
        rules = case / "peer-rules.yml"
        if not rules.exists():
            rules = case / "rules.yml"
        result = subprocess.run(
            ["rsigma", "engine", "eval", "-q", "-r", str(rules), "-e", f"@{case / 'events.jsonl'}",
             "--correlation-event-mode", "refs"],
            capture_output=True, text=True, check=True,
        )
        lines = [line for line in result.stdout.splitlines() if '"correlation_type"' in line]
        (case / "peer.jsonl").write_text("".join(line + "\n" for line in lines))
        print(f"{case.name}: {len(lines)} correlation results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
