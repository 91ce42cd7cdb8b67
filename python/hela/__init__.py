"""hela — Hunting Engine for Log Analytics, from Python and Jupyter.

Open a lake, ingest event logs, query them with Spark SQL and get the answer as Arrow,
pandas or polars::

    import hela
    lake = hela.connect("demo-lake")
    lake.ingest("hela-sample.json")
    df = lake.sql("SELECT EventID, count(*) AS n FROM events GROUP BY EventID").to_pandas()

``hela.connect("http://127.0.0.1:9200")`` queries a ``hela serve`` instead, with the same
results.

In IPython or Jupyter, ``%load_ext hela`` adds the ``%hela`` and ``%%hela`` SQL magics.
"""

from ._hela import HelaError
from .connection import Connection, Result, command, connect, default_connection, sql
from .magics import load_ipython_extension, unload_ipython_extension
from .server import ServerConnection, ServerResult

__all__ = [
    "Connection",
    "HelaError",
    "Result",
    "ServerConnection",
    "ServerResult",
    "command",
    "connect",
    "default_connection",
    "load_ipython_extension",
    "sql",
    "unload_ipython_extension",
]
