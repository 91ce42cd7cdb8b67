#!/usr/bin/env python3
"""Seeds the fuzz targets' corpora (fuzz/corpus/TARGET, not kept in git) with real inputs:
lines, archives and event logs from ../shared's datasets, SigmaHQ rules, the Spark SQL of
the ThreatHunter-Playbook analytics and of the function suite, HELK's mapping files, bulk
bodies and Kafka messages made of real records, motifs, and indicator files of each format.

    python3 fuzz/seed.py            # then, e.g.:
    cargo +nightly fuzz run json_lines fuzz/corpus/json_lines -- -max_total_time=600

The layered_input and evtx_file targets want `-max_len=131072` to take the seeds whole.
"""

import gzip
import io
import json
import random
import sys
import tarfile
import zipfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
PROJECT = FUZZ.parent
SHARED = PROJECT.parent / "shared"
CORPUS = FUZZ / "corpus"


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def dataset_lines(per_dataset=60):
    """The first lines of the first member of each Security-Datasets archive."""
    found = {}
    for archive in sorted((SHARED / "datasets" / "security-datasets").glob("*")):
        try:
            if archive.suffix == ".zip":
                with zipfile.ZipFile(archive) as z:
                    member = next(n for n in z.namelist() if not n.endswith("/"))
                    with z.open(member) as f:
                        lines = [f.readline() for _ in range(per_dataset)]
            elif archive.name.endswith((".tar.gz", ".tgz")):
                with tarfile.open(archive, "r:gz") as t:
                    member = next(m for m in t if m.isfile())
                    f = t.extractfile(member)
                    lines = [f.readline() for _ in range(per_dataset)]
            else:
                continue
        except (OSError, EOFError, StopIteration, zipfile.BadZipFile, tarfile.TarError):
            continue
        found[archive.stem] = [l for l in lines if l.strip()]
    return found


def main():
    if not SHARED.exists():
        sys.exit(f"{SHARED} is not present: the seeds come from its datasets and rules")
    random.seed(7)
    lines = dataset_lines()
    for name, sample in lines.items():
        for i in range(0, len(sample), 5):
            write("json_lines", f"{name}-{i}", b"".join(sample[i : i + 5]))
        body = b"".join(b'{"index":{"_index":"winlogbeat"}}\n' + l for l in sample[:10])
        write("bulk_body", name, body)
        for i, line in enumerate(sample[:5]):
            write("kafka_message", f"{name}-{i}", b"\x05" + line.strip())
        text = b"".join(sample[:20])
        write("layered_input", f"{name}.json", text)
        write("layered_input", f"{name}.json.gz", gzip.compress(text))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{name}.json", text)
            z.writestr("inner.json.gz", gzip.compress(text[:2000]))
        write("layered_input", f"{name}.zip", buffer.getvalue())
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as t:
            info = tarfile.TarInfo(f"{name}.json")
            info.size = len(text)
            t.addfile(info, io.BytesIO(text))
        write("layered_input", f"{name}.tar.gz", buffer.getvalue())

    samples = SHARED / "datasets" / "evtx-attack-samples"
    small = sorted(p for p in samples.rglob("*.evtx") if p.stat().st_size <= 131072)
    for path in small[:60]:
        write("evtx_file", path.name, path.read_bytes())
        write("layered_input", path.name, path.read_bytes())
        write("layered_input", path.name + ".gz", gzip.compress(path.read_bytes()))

    rules = sorted((SHARED / "sigma" / "rules-corpus").rglob("*.yml"))
    for path in random.sample(rules, min(600, len(rules))):
        write("sigma_rule", path.name, path.read_bytes())

    thp = SHARED / "conformance" / "thp" / "cases.jsonl"
    for line in thp.read_text().splitlines():
        case = json.loads(line)
        write("spark_sql", case["id"].replace("/", "_"), case["sql"])
    cases = PROJECT / "crates" / "sql" / "tests" / "spark_functions" / "cases.sql"
    for i, line in enumerate(cases.read_text().splitlines()):
        if "|" in line and not line.startswith("--"):
            write("spark_sql", f"function-{i}", line.split("|", 1)[1].strip())

    for path in sorted((PROJECT / "crates" / "helk" / "mappings").glob("*.toml")):
        text = path.read_text()
        write("helk_mapping", path.name, "common\n" + text if path.name == "common.toml" else text)

    motifs = ["(a)-[e]->(b); (b)-[e2]->(c); !(c)-[]->(a)", "(a)-[]->(b); (b)-[]->(a)", "(x)", "!(a)-[]->(b)", "(a)-[e]->()"]
    for i, motif in enumerate(motifs):
        write("motif_pattern", f"motif-{i}", motif)

    stix = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "identity", "id": "identity--1", "name": "CERT"},
        {"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "created_by_ref": "identity--1",
         "pattern": "[ipv4-addr:value ISSUBSET '10.0.0.0/8'] OR [file:hashes.'SHA-256' = '" + "a" * 64 + "']"},
        {"type": "indicator", "id": "indicator--2", "pattern": "[domain-name:value = 'x.example' AND url:value = 'http://x']"}]}
    misp = {"Event": {"info": "i", "Attribute": [{"type": "filename|md5", "value": "a.exe|" + "b" * 32}, {"type": "ip-dst|port", "value": "1.2.3.4|80"}]}}
    otx = {"results": [{"id": "p", "indicators": [{"indicator": "2001:db8::/32", "type": "CIDR"}, {"indicator": "evil.example", "type": "hostname"}]}]}
    for name, document in [("stix", stix), ("misp", misp), ("otx", otx)]:
        write("indicator_file", name, json.dumps(document))
    write("indicator_file", "csv", "type,value,labels\nip,10.0.0.0/8,a;b\nurl,http://E.x/p,\n")
    write("indicator_file", "pattern", "[file:name IN ('a.exe', 'b\\'s.exe')] OR ([url:value = 'http://x/'])")

    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{target}: {sum(1 for _ in (CORPUS / target).iterdir())} seeds")


if __name__ == "__main__":
    main()
