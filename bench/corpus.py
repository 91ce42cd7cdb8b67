"""Scaled benchmark corpora: the Security-Datasets JSON lines repeated N times, each copy
with its host names and GUIDs changed so that copies are not identical values; or, without
the datasets, events from `hela sample` (realistic Sysmon and Security events).

    python3 bench/corpus.py --scale 4 --out bench/work/corpus-sf4.jsonl
"""
import argparse
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATASETS = os.path.join(os.path.dirname(ROOT), 'shared', 'datasets', 'security-datasets')

# "Hostname":"WORKSTATION5.theshire.local" -> "WORKSTATION5-c2.theshire.local" (first label).
HOST = re.compile(rb'("(?:Hostname|host|computer_name|Computer|hostname)"\s*:\s*")([^".\\]+)')
# {b34bc01c-22ae-...} -> the first group shifted per copy, case kept.
GUID = re.compile(rb'([0-9A-Fa-f]{8})(-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})')


def archive_lines(path):
    """Every complete JSON line of every member of a zip or (possibly truncated) tar.gz."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if not name.endswith('/'):
                    yield from complete_lines(z.open(name))
        return
    try:
        with tarfile.open(path, 'r:*') as tar:
            for member in tar:
                if member.isfile():
                    yield from complete_lines(tar.extractfile(member))
    except (tarfile.TarError, EOFError, OSError) as e:
        print(f'{os.path.basename(path)}: read as far as it goes ({e})', file=sys.stderr)


def complete_lines(stream):
    try:
        for line in io.BufferedReader(stream, 1 << 20):
            if line.endswith(b'\n') and line.strip():
                yield line
    except (EOFError, OSError, tarfile.TarError):
        return


def vary(line, copy):
    """The line as copy number `copy` has it (copy 0 is the original)."""
    if copy == 0:
        return line
    suffix = b'-c%d' % copy

    def guid(m):
        head = m.group(1)
        value = (int(head, 16) + copy * 0x9E3779B1) & 0xFFFFFFFF
        text = b'%08x' % value
        return (text.upper() if head.isupper() else text) + m.group(2)

    line = HOST.sub(lambda m: m.group(1) + m.group(2) + suffix, line)
    return GUID.sub(guid, line)


def build(scale, out, datasets=DATASETS, hela=None):
    """Writes the corpus at scale factor `scale` to `out` (kept if it is already there)."""
    if os.path.exists(out):
        return out
    os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
    partial = out + '.partial'
    if os.path.isdir(datasets):
        archives = sorted(os.path.join(datasets, n) for n in os.listdir(datasets) if n.endswith(('.zip', '.tar.gz')))
        with open(partial, 'wb') as f:
            for copy in range(scale):
                for archive in archives:
                    for line in archive_lines(archive):
                        f.write(vary(line, copy))
    else:
        print(f'{datasets} is not there: the corpus is `hela sample` events', file=sys.stderr)
        subprocess.run([hela or os.path.join(ROOT, 'target', 'release', 'hela'), 'sample', '--out', partial,
                        '--events', str(150_000 * scale)], check=True)
    os.replace(partial, out)
    return out


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--scale', type=int, default=1)
    parser.add_argument('--out', required=True)
    parser.add_argument('--datasets', default=DATASETS)
    args = parser.parse_args()
    print(build(args.scale, args.out, args.datasets))
