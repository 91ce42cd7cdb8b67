"""The IPython magics %hela and %%hela, in a real IPython shell."""

import pandas as pd
import pyarrow as pa
import pytest
from IPython.testing.globalipapp import get_ipython

import hela
from hela.magics import MagicOptions


@pytest.fixture(scope="module")
def shell():
    ip = get_ipython()
    ip.run_line_magic("load_ext", "hela")
    return ip


def test_line_magic_queries_the_lake_named(shell, lake):
    result = shell.run_line_magic("hela", f"--lake {lake.lake} SELECT EventID, count(*) AS n FROM events WHERE Channel = 'security' GROUP BY EventID")
    assert isinstance(result, pd.DataFrame)
    assert result["EventID"].tolist() == [4624]


def test_cell_magic_stores_its_result(shell, lake):
    hela.connect(lake.lake)
    shown = shell.run_cell_magic("hela", "-o logons --arrow", "SELECT TargetUserName FROM events\nWHERE EventID = 4624 AND LogonType = '3'")
    stored = shell.user_ns["logons"]
    assert isinstance(stored, pa.Table) and stored is shown
    assert stored.column(0).to_pylist() == ["pgustavo"]
    assert shell.run_cell_magic("hela", "--quiet -o n", "SELECT count(*) AS n FROM events") is None
    assert shell.user_ns["n"]["n"][0] > 0


def test_magic_registers_tables_from_files(shell, sample_file, tmp_path):
    hela.connect(tmp_path / "empty")
    result = shell.run_line_magic("hela", f"--table s={sample_file} SELECT count(DISTINCT Hostname) AS hosts FROM s")
    assert result["hosts"][0] == 3


def test_cell_magic_runs_in_a_notebook_shell(shell, lake):
    shell.user_ns["wanted"] = 4624
    cell = shell.run_cell(f"%hela --lake {lake.lake} SELECT count(*) AS n FROM events WHERE EventID = {{wanted}}")
    assert cell.success and cell.result["n"][0] > 0


def test_options_are_read_before_the_sql():
    options = MagicOptions("--lake /l --table a=/x.json -o out SELECT 'a -o b' AS x")
    assert (options.lake, options.tables, options.out, options.sql) == ("/l", [("a", "/x.json")], "out", "SELECT 'a -o b' AS x")
    with pytest.raises(ValueError, match="unknown %hela option --nope"):
        MagicOptions("--nope SELECT 1")
    with pytest.raises(ValueError, match="NAME=PATH"):
        MagicOptions("--table x SELECT 1")
