"""The example notebooks, executed by a real Jupyter kernel (nbclient), on project-made data
and on the real datasets in ../shared when they are there; their findings are checked
against plain pandas computed here from the same files."""

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "datasets"
SECURITY_DATASETS = SHARED / "security-datasets"
WINLOGBEAT_2019 = [SECURITY_DATASETS / "empire_wdigest_downgrade.tar.gz", SECURITY_DATASETS / "empire_enable_rdp.tar.gz"]
WMI_LATERAL = SECURITY_DATASETS / "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
ZEEK = SHARED / "zeek"


def run_notebook(name: str, tmp_path: Path, monkeypatch, **env: str) -> tuple[dict, nbformat.NotebookNode]:
    """Executes a notebook with `env` set for its kernel; returns the JSON its last cell
    printed, and the executed notebook. The notebook's own working directory (made with
    `tempfile`) is made under `tmp_path`, so that runs leave nothing behind."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    for key in ("HELA_EXAMPLE_DATA", "HELA_ZEEK_CONN", "HELA_SYSMON_DATA", "HELA_LATERAL_DATA"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    book = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = [o["text"] for o in book.cells[-1].outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
    assert printed, f"{name}: the last cell printed nothing"
    return json.loads(printed[-1]), book


def shared_or_skip(*paths: Path) -> None:
    missing = [p for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"{missing[0]} is not there (the shared datasets are absent)")


def json_lines(path: Path) -> list[dict]:
    """Every JSON record of a file, zip or tar.gz, read without hela (a truncated archive
    gives what it holds)."""
    def parse(data: bytes) -> list[dict]:
        rows = []
        for line in data.splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
        return rows

    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return [r for member in archive.namelist() for r in parse(archive.read(member))]
    if path.name.endswith(".tar.gz"):
        rows = []
        with tarfile.open(path, "r|gz") as archive:
            try:
                for member in archive:
                    if member.isfile():
                        buffer = io.BytesIO()
                        source = archive.extractfile(member)
                        try:
                            while chunk := source.read(1 << 20):
                                buffer.write(chunk)
                        except (EOFError, tarfile.ReadError, OSError):
                            pass
                        rows += parse(buffer.getvalue())
            except (EOFError, tarfile.ReadError, OSError):
                pass
        return rows
    return parse(path.read_bytes())


def pandas_parent_counts(records: list[dict]) -> dict:
    flat = pd.json_normalize(records)
    creations = flat[(flat["source_name"] == "Microsoft-Windows-Sysmon") & (flat["event_id"] == 1)]
    return creations.groupby("event_data.ParentImage").size().to_dict()


def test_dataframe_analysis_finds_wmiprvse_encoded_powershell(tmp_path, monkeypatch):
    found, book = run_notebook("01-dataframe-analysis.ipynb", tmp_path, monkeypatch)
    children = found["wmi_children"]
    assert len(children) == 1
    image, command = children[0]
    assert image.lower().endswith("powershell.exe") and " -enc " in command
    records = json_lines(Path(found["data"][0]))
    assert found["rows"] == len(records)
    assert found["parents"] == pandas_parent_counts(records)
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for c in book.cells for o in c.get("outputs", [])), "no chart"


def test_dataframe_analysis_on_the_2019_winlogbeat_datasets(tmp_path, monkeypatch):
    shared_or_skip(*WINLOGBEAT_2019)
    found, _ = run_notebook("01-dataframe-analysis.ipynb", tmp_path, monkeypatch, HELA_EXAMPLE_DATA=os.pathsep.join(map(str, WINLOGBEAT_2019)))
    records = [r for path in WINLOGBEAT_2019 for r in json_lines(path)]
    assert found["rows"] == len(records)
    assert "Microsoft-Windows-Sysmon" in found["sources"]
    assert found["parents"] == pandas_parent_counts(records)
    wmi = [r for r in records if r.get("event_id") == 1 and r.get("source_name") == "Microsoft-Windows-Sysmon"
           and r["event_data"].get("ParentImage", "").lower() == r"c:\windows\system32\wbem\wmiprvse.exe"]
    assert found["wmi_children"] == [[r["event_data"]["Image"], r["event_data"]["CommandLine"]] for r in wmi]


def pandas_outliers(flows: pd.DataFrame) -> list[str]:
    both = pd.concat([flows.groupby("src").size().rename("o"), flows.groupby("dst").size().rename("i")], axis=1).fillna(0)
    limit = both.mean() + 3 * both.std(ddof=0)
    return sorted(both.index[(both.o > limit.o) | (both.i > limit.i)])


def test_outlier_hosts_on_project_made_flows(tmp_path, monkeypatch):
    found, _ = run_notebook("02-outlier-hosts.ipynb", tmp_path, monkeypatch)
    flows = pd.DataFrame(json_lines(Path(found["zeek"]["data"][0]))).rename(columns={"id_orig_h": "src", "id_resp_h": "dst"})
    assert found["zeek"]["outliers"] == pandas_outliers(flows)
    # The scanner, and the four servers every workstation talks to.
    assert found["zeek"]["outliers"] == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.1.66"]
    assert found["sysmon"]["flows"] > 0


def test_outlier_hosts_on_zeek_conn_logs_and_sysmon_3(tmp_path, monkeypatch):
    shared_or_skip(ZEEK, WMI_LATERAL)
    logs = sorted(ZEEK.glob("*_conn.log"))
    found, _ = run_notebook("02-outlier-hosts.ipynb", tmp_path, monkeypatch,
                            HELA_ZEEK_CONN=os.pathsep.join(map(str, logs)), HELA_SYSMON_DATA=str(WMI_LATERAL))
    zeek = pd.DataFrame([r for log in logs for r in json_lines(log)]).rename(columns={"id_orig_h": "src", "id_resp_h": "dst"})
    assert found["zeek"]["flows"] == len(zeek)
    assert found["zeek"]["outliers"] == pandas_outliers(zeek)
    assert found["zeek"]["outliers"], "the real conn logs have 3-sigma hosts"
    sysmon = pd.DataFrame([r for r in json_lines(WMI_LATERAL)
                           if r.get("Channel") == "Microsoft-Windows-Sysmon/Operational" and r.get("EventID") == 3])
    sysmon = sysmon.rename(columns={"SourceIp": "src", "DestinationIp": "dst"})
    assert found["sysmon"]["flows"] == len(sysmon)
    assert found["sysmon"]["outliers"] == pandas_outliers(sysmon)


def test_lateral_movement_from_python(tmp_path, monkeypatch):
    found, _ = run_notebook("03-lateral-movement.ipynb", tmp_path, monkeypatch)
    assert ["172.18.39.5", "pgustavo", "wmiprvse.exe", "powershell.exe"] in found["raw"]
    assert ["172.18.39.5", "pgustavo", "wmiprvse.exe", "powershell.exe"] in found["helk"]
    assert found["raw"] == found["helk"]


def test_lateral_movement_on_the_mordor_wmi_dataset(tmp_path, monkeypatch):
    shared_or_skip(WMI_LATERAL)
    found, _ = run_notebook("03-lateral-movement.ipynb", tmp_path, monkeypatch, HELA_LATERAL_DATA=str(WMI_LATERAL))
    assert any(parent == "wmiprvse.exe" and image == "powershell.exe" for _, _, parent, image in found["raw"]), found
    assert found["raw"] == found["helk"]


def pandas_rarest_pairs(records: list[dict]) -> set:
    """Each host's least frequent (ParentImage, Image) pairs of process creations, counted
    by pandas."""
    flat = pd.json_normalize(records)
    creations = flat[(flat["EventID"] == 1) & flat["ParentImage"].notna() & flat["Image"].notna()]
    counts = creations.groupby(["Hostname", "ParentImage", "Image"]).size().rename("count").reset_index()
    least = counts.groupby("Hostname")["count"].transform("min")
    return {tuple(row) for row in counts[counts["count"] == least].values.tolist()}


def test_graphs_and_rarity_see_the_lateral_movement(tmp_path, monkeypatch):
    found, _ = run_notebook("04-graphs-and-rarity.ipynb", tmp_path, monkeypatch)
    assert ["172.18.39.5", "WORKSTATION5"] in found["paths"], found["paths"]
    assert any(image.lower().endswith("powershell.exe") for image in found["tree"]), found["tree"]
    rare = {tuple(row) for row in found["rare"]}
    assert rare == pandas_rarest_pairs(json_lines(Path(found["data"])))
    assert any(parent.lower().endswith("wmiprvse.exe") and image.lower().endswith("powershell.exe") for _, parent, image, _ in rare)


def test_graphs_and_rarity_on_the_mordor_wmi_dataset(tmp_path, monkeypatch):
    shared_or_skip(WMI_LATERAL)
    found, _ = run_notebook("04-graphs-and-rarity.ipynb", tmp_path, monkeypatch, HELA_LATERAL_DATA=str(WMI_LATERAL))
    assert found["paths"], "network logons between hosts"
    assert any(image.lower().endswith("powershell.exe") for image in found["tree"]), found["tree"]
    assert {tuple(row) for row in found["rare"]} == pandas_rarest_pairs(json_lines(WMI_LATERAL))
