"""Connections to a lake, and query results that become pyarrow, pandas or polars."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa

from . import _hela
from .server import ServerConnection, is_server_url

_default: Connection | None = None


class Result:
    """The result of a query, run when it is asked for (``to_arrow``, ``to_pandas``, ...).

    Each conversion runs the query again; keep the table or DataFrame it returns.
    """

    def __init__(self, frame: _hela.Frame):
        self._frame = frame

    @property
    def schema(self) -> pa.Schema:
        """The result's columns and their Arrow types (the query is not run)."""
        return pa.schema(self._frame.schema())

    def to_arrow(self) -> pa.Table:
        """Runs the query on every core and returns the whole result as a pyarrow Table (its
        columns are hela's memory, taken through the Arrow C stream interface, not copied)."""
        return pa.table(self._frame.collect())

    def to_pandas(self, **options: Any):
        """The result as a pandas DataFrame (``options`` go to ``pyarrow.Table.to_pandas``)."""
        return self.to_arrow().to_pandas(**options)

    def to_polars(self):
        """The result as a polars DataFrame."""
        import polars

        return polars.from_arrow(self.to_arrow())

    def to_networkx(self, source: str = "src", target: str = "dst", directed: bool = True):
        """The result as a networkx graph: an edge from column ``source`` to ``target`` for each
        row (parallel edges kept, as hela's graph functions count them), the other columns as
        the edge's attributes. For the edges a graph function was given, or `logon_graph`."""
        import networkx

        frame = self.to_pandas()
        attributes = [c for c in frame.columns if c not in (source, target)] or None
        kind = networkx.MultiDiGraph if directed else networkx.MultiGraph
        return networkx.from_pandas_edgelist(frame, source, target, edge_attr=attributes, create_using=kind)

    def batches(self) -> pa.RecordBatchReader:
        """Runs the query and streams its result a batch at a time, for answers larger than
        memory: ``for batch in result.batches(): ...``. An error met midway raises
        ``HelaError``, as one met before the first batch does."""
        reader = pa.RecordBatchReader.from_stream(self._frame.stream())

        def each() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            except pa.ArrowException as error:
                # hela's message, handed through the C stream as an Arrow "external" error.
                raise _hela.HelaError(str(error).removeprefix("External error: ")) from None

        return pa.RecordBatchReader.from_batches(reader.schema, each())

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream interface: polars, DuckDB and pyarrow read the result
        from it batch by batch."""
        return self._frame.stream().__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        columns = ", ".join(f"{f.name}: {f.type}" for f in self.schema)
        return f"<hela.Result ({columns})>"


class Connection:
    """A lake and a SQL session on it.

    ``lake`` is the lake's directory (default: ``$HELA_LAKE``, else ``./hela-lake``), or its
    object store URL (``s3://BUCKET/PREFIX``, reached as the ``AWS_*`` environment says); it
    need not exist until the first ingest. ``schema`` is how ingested records are stored:
    ``"raw"`` (field names as in the data) or ``"helk"`` (HELK's names and tables). With
    ``cluster``, a Ballista scheduler's URL (``df://HOST:PORT``, from ``hela cluster
    scheduler``), queries are planned here and run on the cluster, whose executors read the
    lake at the same path or URL.
    """

    def __init__(self, lake: str | os.PathLike | None = None, schema: str = "raw", helk_mappings: str | os.PathLike | None = None,
                 cluster: str | None = None):
        lake = lake if lake is not None else os.environ.get("HELA_LAKE", "hela-lake")
        self.schema = schema
        self._native = _hela.Connection(
            os.fspath(lake), schema, os.fspath(helk_mappings) if helk_mappings is not None else None, cluster
        )

    @property
    def lake(self) -> Path | str:
        """The lake's directory, or its object store URL."""
        url = self._native.store_url
        return url if url is not None else Path(self._native.lake)

    def sql(self, query: str) -> Result:
        """Runs the statements of ``query`` in order (Spark SQL: views made by one are seen by
        the next) and returns the last one's result."""
        return Result(self._native.sql(query))

    def register(self, name: str, data: Any) -> Connection:
        """Makes the table ``name`` for this connection's queries, hiding a lake table of the
        same name. ``data`` is a path (file, directory, zip/tar.gz archive, .evtx) or a list
        of paths, read as ``hela ingest`` reads them (Parquet files, and directories of
        them as Spark writes, are read in place); or a pandas or polars DataFrame, a
        pyarrow Table, RecordBatch or RecordBatchReader, or anything with
        ``__arrow_c_stream__``."""
        if isinstance(data, (str, os.PathLike)):
            data = [data]
        if isinstance(data, list) and all(isinstance(p, (str, os.PathLike)) for p in data):
            for warning in self._native.register_files(name, [os.fspath(p) for p in data]):
                print(f"warning: {warning}", file=sys.stderr)
            return self
        self._native.register_arrow(name, _to_arrow_table(data))
        return self

    def ingest(self, *paths: str | os.PathLike, force: bool = False) -> dict:
        """Ingests files, directories and archives into the lake. Returns the counts (records
        stored and quarantined, inputs read, skipped and failed, ...); quarantined lines and
        failed inputs are also printed to standard error."""
        summary = self._native.ingest([os.fspath(p) for p in paths], force)
        for message in summary["messages"]:
            print(message, file=sys.stderr)
        if summary["messages_not_shown"]:
            print(f"... and {summary['messages_not_shown']} more messages", file=sys.stderr)
        return summary

    def hunt(
        self,
        rules: str | os.PathLike | Iterable[str | os.PathLike],
        paths: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
        *,
        min_level: str | None = None,
        status: Iterable[str] = (),
        tags: Iterable[str] = (),
        save: bool = False,
    ) -> pa.Table:
        """Runs Sigma rules (files or directories) over event logs (``paths``: .evtx, JSON
        lines, archives) or, without paths, over the lake's ``events``. Returns one row per
        (rule, event): rule_id, rule_title, level, status, tags, @timestamp, Hostname, Channel,
        EventID, EventRecordID, source, and the rule's fields and the whole event as JSON
        text. ``save`` stores them in the lake's ``detections`` table."""
        detections, warnings = self._native.hunt(
            _paths(rules),
            _paths(paths) if paths is not None else None,
            min_level=min_level,
            status=list(status),
            tags=list(tags),
            save=save,
        )
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        return pa.table(detections)

    def tables(self) -> list[str]:
        """The names of the tables queries can use: the lake's and the registered ones."""
        result = self.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'default' ORDER BY 1")
        return result.to_arrow().column(0).to_pylist()

    def refresh(self) -> None:
        """Reads the lake's catalog again, to see what another process ingested since."""
        self._native.refresh()

    def __repr__(self) -> str:
        return f"<hela.Connection lake={str(self.lake)!r} schema={self.schema!r}>"


def _paths(paths: Any) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _to_arrow_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(
        f"cannot make a table from {type(data).__name__}: give paths, a pandas or polars DataFrame, or an Arrow table"
    )


def connect(
    lake: str | os.PathLike | None = None,
    schema: str = "raw",
    helk_mappings: str | os.PathLike | None = None,
    *,
    token: str | None = None,
    ca_cert: str | os.PathLike | None = None,
    cluster: str | None = None,
) -> Connection | ServerConnection:
    """Opens a lake (see :class:`Connection`; with ``cluster``, its queries run on that
    Ballista cluster), or a ``hela serve`` when ``lake`` is its URL
    (``http://HOST:PORT`` or ``https://HOST:PORT``, with ``token``, its API key, when it
    asks for one, and ``ca_cert``, a PEM file of the certificates to trust instead of the
    system's), and makes it the one :func:`sql` and the ``%hela`` magics use."""
    global _default
    if is_server_url(lake):
        if cluster is not None:
            raise ValueError("a hela serve runs its own queries: give cluster= with a lake, not a server URL")
        _default = ServerConnection(lake, token=token, ca_cert=ca_cert)
    else:
        _default = Connection(lake, schema, helk_mappings, cluster=cluster)
    return _default


def default_connection() -> Connection:
    """The connection :func:`connect` opened last; the first call opens ``$HELA_LAKE``
    (else ``./hela-lake``)."""
    global _default
    if _default is None:
        _default = Connection()
    return _default


def sql(query: str) -> Result:
    """Runs ``query`` on the default connection (see :func:`default_connection`)."""
    return default_connection().sql(query)


def command(*args: str | os.PathLike) -> int:
    """Runs a ``hela`` command line in this process (``hela.command("tables", "--lake",
    "demo-lake")``) and returns its exit status; it prints what the program prints."""
    sys.stdout.flush()
    sys.stderr.flush()
    return _hela.run_command([os.fspath(a) for a in args])
