"""The hela package: a lake's SQL from Python, results as Arrow, pandas and polars."""

import json
import os

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pytest

import hela

LATERAL_MOVEMENT = """
SELECT s.IpAddress, s.TargetUserName, p.ParentImage, p.Image, p.CommandLine
FROM events s JOIN events p ON s.TargetLogonId = p.LogonId
WHERE s.EventID = 4624 AND s.LogonType = '3' AND p.EventID = 1
ORDER BY p.Image
"""


def test_ingest_reports_what_it_stored(tmp_path, sample_file):
    connection = hela.Connection(tmp_path / "lake")
    summary = connection.ingest(sample_file)
    lines = sum(1 for _ in open(sample_file, encoding="utf-8"))
    assert summary["records_stored"] == lines
    assert (summary["inputs_read"], summary["records_quarantined"], summary["inputs_failed"]) == (1, 0, 0)
    again = connection.ingest(sample_file)
    assert (again["inputs_skipped"], again["records_stored"]) == (1, 0)
    assert any("skipped" in m for m in again["messages"])


def test_bad_lines_are_quarantined_and_counted(tmp_path, capsys):
    data = tmp_path / "mixed.json"
    data.write_text('{"EventID": 1, "Channel": "x"}\nnot json\n{"EventID": 2, "Channel": "x"}\n')
    summary = hela.Connection(tmp_path / "lake").ingest(data)
    assert (summary["records_stored"], summary["records_quarantined"]) == (2, 1)
    assert "mixed.json:2" in capsys.readouterr().err


def test_lateral_movement_join_from_python(lake):
    found = lake.sql(LATERAL_MOVEMENT).to_pandas()
    assert sorted(found["Image"].str.rsplit("\\", n=1).str[-1]) == ["conhost.exe", "powershell.exe", "whoami.exe"]
    powershell = found[found["Image"].str.endswith("powershell.exe")].iloc[0]
    assert powershell["ParentImage"].lower().endswith("wmiprvse.exe")
    assert "-enc" in powershell["CommandLine"]
    assert set(found["IpAddress"]) == {"172.18.39.5"}


def test_results_agree_across_arrow_pandas_and_polars(lake):
    result = lake.sql("SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY EventID")
    table = result.to_arrow()
    assert table.schema == result.schema
    assert table.column("EventID").to_pylist() == [1, 3, 4624]
    frame = result.to_pandas()
    assert frame["n"].sum() == lake.sql("SELECT count(*) FROM events").to_arrow().column(0)[0].as_py()
    assert pl.from_arrow(table).equals(result.to_polars())
    # polars reads the result through the Arrow stream interface.
    assert pl.DataFrame(result).equals(result.to_polars())


def test_results_are_hela_memory_taken_without_a_copy(lake):
    allocated = pa.total_allocated_bytes()
    table = lake.sql("SELECT Image, EventID FROM events WHERE EventID = 1").to_arrow()
    assert table.num_rows > 0 and table.nbytes > 0
    # pyarrow allocated none of it: the columns are hela's, handed over by the C stream.
    assert pa.total_allocated_bytes() == allocated
    # A stream is taken once; a second reader is told to ask again.
    stream = lake._native.sql("SELECT 1 AS one").collect()
    assert pa.table(stream).column("one").to_pylist() == [1]
    with pytest.raises(hela.HelaError, match="read already"):
        pa.table(stream)


def test_large_results_stream_batch_by_batch(tmp_path):
    connection = hela.Connection(tmp_path / "lake")
    connection.register("numbers", pd.DataFrame({"n": range(200_000)}))
    reader = connection.sql("SELECT n, n % 7 AS r FROM numbers WHERE n % 2 = 0").batches()
    sizes = [batch.num_rows for batch in reader]
    assert len(sizes) > 1
    assert sum(sizes) == 100_000
    # An error in a later batch is hela's, with hela's message.
    failing = connection.sql("SELECT assert_true(n < 150000) FROM numbers").batches()
    with pytest.raises(hela.HelaError, match="^Execution error: assert_true: the condition is not true"):
        for _ in failing:
            pass


def test_dataframes_and_files_become_tables(tmp_path, sample_file):
    connection = hela.Connection(tmp_path / "no-lake-yet")
    hosts = pd.DataFrame({"Hostname": ["WORKSTATION5.theshire.local"], "owner": ["pgustavo"]})
    connection.register("sample", sample_file).register("owners", hosts)
    connection.register("owners_arrow", pa.Table.from_pandas(hosts))
    rows = connection.sql(
        "SELECT o.owner, count(*) AS n FROM sample s JOIN owners o ON s.Hostname = o.Hostname "
        "JOIN owners_arrow a ON a.owner = o.owner GROUP BY o.owner"
    ).to_arrow()
    assert rows.column("owner").to_pylist() == ["pgustavo"]
    assert rows.column("n")[0].as_py() > 0
    assert set(connection.tables()) >= {"sample", "owners", "owners_arrow"}


def test_parquet_written_by_pyarrow_is_read_in_place(tmp_path, lake):
    import pyarrow.parquet as pq

    logons = lake.sql("SELECT Hostname, TargetLogonId FROM events WHERE EventID = 4624").to_arrow()
    assert logons.num_rows > 1
    out = tmp_path / "logons"
    out.mkdir()
    half = logons.num_rows // 2
    pq.write_table(logons.slice(0, half), out / "part-0.parquet")
    pq.write_table(logons.slice(half).append_column("extra", pa.array([1] * (logons.num_rows - half))), out / "part-1.parquet")
    (out / "_SUCCESS").write_text("")
    lake.register("written", out)
    got = lake.sql("SELECT count(*) AS n, count(extra) AS e, count(DISTINCT TargetLogonId) AS ids FROM written").to_pandas()
    expected_ids = logons.column("TargetLogonId").unique()
    assert got.to_dict("records") == [{"n": logons.num_rows, "e": logons.num_rows - half, "ids": len(expected_ids.drop_null())}]


def test_columns_keep_the_names_the_query_gave_them(lake):
    query = "SELECT a.EventID, b.EventID, count(*) FROM events a JOIN events b ON a.LogonId = b.TargetLogonId GROUP BY 1, 2"
    result = lake.sql(query)
    assert result.schema.names == ["EventID", "EventID", "count(*)"]
    assert result.to_arrow().column_names == ["EventID", "EventID", "count(*)"]
    assert [batch.schema.names for batch in result.batches()][0] == ["EventID", "EventID", "count(*)"]


def test_views_made_by_one_statement_are_seen_by_the_next(lake):
    lake.sql("CREATE OR REPLACE TEMP VIEW logons AS SELECT * FROM events WHERE EventID = 4624")
    assert lake.sql("SELECT count(*) AS n FROM logons").to_arrow().column("n")[0].as_py() > 0


def test_a_new_ingest_is_seen_by_the_open_connection(tmp_path, sample_file):
    connection = hela.Connection(tmp_path / "lake")
    with pytest.raises(hela.HelaError, match="events"):
        connection.sql("SELECT count(*) FROM events").to_arrow()
    connection.ingest(sample_file)
    assert connection.sql("SELECT count(*) AS n FROM events").to_arrow().column("n")[0].as_py() > 0


def test_errors_carry_hela_messages(lake, tmp_path):
    with pytest.raises(hela.HelaError, match="unknown column `ParentImagee`.*ParentImage"):
        lake.sql("SELECT ParentImagee FROM events").to_arrow()
    with pytest.raises(hela.HelaError, match="cannot parse the SQL"):
        lake.sql("SELEC 1")
    missing = tmp_path / "missing.json"
    with pytest.raises(hela.HelaError, match="missing.json"):
        lake.register("t", missing)
    with pytest.raises(hela.HelaError, match="unknown schema `elk`"):
        hela.Connection(tmp_path / "x", schema="elk")
    with pytest.raises(TypeError, match="cannot make a table from int"):
        lake.register("t", 42)


def test_helk_schema_from_python(tmp_path, sample_file):
    connection = hela.Connection(tmp_path / "helk", schema="helk")
    connection.ingest(sample_file)
    names = connection.sql(
        "SELECT DISTINCT process_name FROM `logs-endpoint-winevent-sysmon-*` WHERE process_parent_name = 'wmiprvse.exe'"
    ).to_arrow()
    assert names.column(0).to_pylist() == ["powershell.exe"]


RULE = """title: Whoami Run From PowerShell
id: 0f6e5b1a-5c8e-4b8e-9a55-5b3c2f0d7a11
status: test
level: high
tags: [attack.discovery]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\\\\whoami.exe'
        ParentImage|endswith: '\\\\powershell.exe'
    condition: selection
"""


def test_hunt_returns_detections_and_saves_them(lake, sample_file, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "whoami.yml").write_text(RULE)
    from_files = lake.hunt(rules, sample_file)
    assert from_files.num_rows == 1
    row = from_files.to_pylist()[0]
    assert (row["rule_title"], row["level"], row["tags"]) == ("Whoami Run From PowerShell", "high", ["attack.discovery"])
    assert json.loads(row["event"])["Image"].endswith("whoami.exe")
    assert row["source"].endswith("sample.json")
    from_lake = lake.hunt(rules, save=True)
    assert from_lake.num_rows == 1
    assert lake.sql("SELECT rule_title FROM detections").to_arrow().column(0).to_pylist() == ["Whoami Run From PowerShell"]
    with pytest.raises(hela.HelaError, match="no rules to run"):
        lake.hunt(rules, sample_file, min_level="critical")


def test_any_command_line_runs_in_process(lake, capfd):
    assert hela.command("tables", "--lake", lake.lake) == 0
    assert "events" in capfd.readouterr().out
    with pytest.raises(hela.HelaError, match="unrecognized subcommand"):
        hela.command("nosuchcommand")


def test_the_default_connection_is_the_last_one_opened(tmp_path, sample_file, monkeypatch):
    monkeypatch.setattr(hela.connection, "_default", None)
    monkeypatch.setenv("HELA_LAKE", os.fspath(tmp_path / "env-lake"))
    assert hela.default_connection().lake == tmp_path / "env-lake"
    connection = hela.connect(tmp_path / "other")
    connection.ingest(sample_file)
    assert hela.sql("SELECT count(*) AS n FROM events").to_arrow().column("n")[0].as_py() > 0
