"""Connections to a ``hela serve``: the same SQL and results as a local lake, over HTTP."""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from typing import Any

import pyarrow as pa
import pyarrow.ipc

from ._hela import HelaError


class ServerResult:
    """The result of a query on a server, run when it is asked for (``to_arrow``,
    ``to_pandas``, ...); each conversion runs the query again."""

    def __init__(self, connection: ServerConnection, query: str):
        self._connection = connection
        self._query = query

    def _stream(self) -> pa.RecordBatchStreamReader:
        response = self._connection._request("/_sql?format=arrow", {"query": self._query})
        return pa.ipc.open_stream(response)

    @property
    def schema(self) -> pa.Schema:
        """The result's columns and their Arrow types (this runs the query)."""
        return self._stream().schema

    def to_arrow(self) -> pa.Table:
        """The whole result as a pyarrow Table."""
        return self._stream().read_all()

    def to_pandas(self, **options: Any):
        """The result as a pandas DataFrame (``options`` go to ``pyarrow.Table.to_pandas``)."""
        return self.to_arrow().to_pandas(**options)

    def to_polars(self):
        """The result as a polars DataFrame."""
        import polars

        return polars.from_arrow(self.to_arrow())

    def batches(self) -> pa.RecordBatchReader:
        """Streams the result a batch at a time as the server sends it."""
        return self._stream()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream interface (polars, DuckDB, pyarrow)."""
        return self.batches().__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        return f"<hela.ServerResult {self._query!r} on {self._connection.url}>"


class ServerConnection:
    """A ``hela serve`` at ``url`` (``http://HOST:PORT`` or ``https://HOST:PORT``);
    ``token`` is an API key from ``hela apikey add``, when the server asks for one;
    ``ca_cert`` a PEM file of the certificates to trust (a self-signed server's own)."""

    def __init__(self, url: str, token: str | None = None, timeout: float | None = None, ca_cert: str | os.PathLike | None = None):
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._tls = ssl.create_default_context(cafile=os.fspath(ca_cert)) if ca_cert is not None else None

    def _request(self, path: str, body: Any = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"ApiKey {self._token}")
        try:
            return urllib.request.urlopen(request, timeout=self._timeout, context=self._tls)
        except urllib.error.HTTPError as error:
            raise HelaError(f"{self.url} answered {error.code}: {_reason(error.read())}") from None
        except urllib.error.URLError as error:
            raise HelaError(f"cannot reach the hela server at {self.url}: {error.reason}") from None

    def sql(self, query: str) -> ServerResult:
        """Runs the statements of ``query`` on the server and returns the last one's result."""
        return ServerResult(self, query)

    def tables(self) -> list[str]:
        """The names of the server's lake tables."""
        with self._request("/_hela/tables") as response:
            return [t["name"] for t in json.load(response)["tables"]]

    def __repr__(self) -> str:
        return f"<hela.ServerConnection {self.url!r}>"


def _reason(body: bytes) -> str:
    try:
        return json.loads(body)["error"]["reason"]
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")


def is_server_url(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(("http://", "https://"))
