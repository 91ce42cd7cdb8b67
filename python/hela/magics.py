"""IPython magics: ``%hela`` and ``%%hela`` run SQL on a lake and show the result.

    %load_ext hela
    %hela --lake demo-lake SELECT Channel, count(*) AS n FROM events GROUP BY Channel

    %%hela -o logons
    SELECT TargetUserName, IpAddress FROM events WHERE EventID = 4624 AND LogonType = '3'

Options come before the SQL (in ``%%hela``, on the magic's line):

- ``--lake DIR``: use (and keep using) the lake at DIR; otherwise the connection
  ``hela.connect`` opened last, or ``$HELA_LAKE`` / ``./hela-lake``.
- ``--schema raw|helk``: with ``--lake``, the schema of that lake's records.
- ``--table NAME=PATH``: make the table NAME from a file, directory or archive first.
- ``-o VAR`` / ``--out VAR``: also store the result in the variable VAR.
- ``--arrow``: give a pyarrow Table instead of a pandas DataFrame.
- ``--quiet``: store the result without showing it.

In ``%hela``, ``{name}`` and ``$name`` are replaced by Python variables, as IPython does for
every line magic.
"""

from __future__ import annotations

from typing import Any

from . import connection

_FLAGS = {"--arrow", "--quiet"}
_VALUED = {"--lake", "--schema", "--table", "-o", "--out"}


class MagicOptions:
    """The options in front of the SQL, and the SQL itself."""

    def __init__(self, line: str):
        self.lake: str | None = None
        self.schema = "raw"
        self.tables: list[tuple[str, str]] = []
        self.out: str | None = None
        self.arrow = False
        self.quiet = False
        rest = line.strip()
        while rest.startswith("-"):
            option, _, rest = rest.partition(" ")
            rest = rest.lstrip()
            if option in _FLAGS:
                setattr(self, option[2:], True)
                continue
            if option not in _VALUED:
                raise ValueError(f"unknown %hela option {option}: the options are {', '.join(sorted(_FLAGS | _VALUED))}")
            value, _, rest = rest.partition(" ")
            rest = rest.lstrip()
            if not value:
                raise ValueError(f"%hela option {option} needs a value")
            if option == "--lake":
                self.lake = value
            elif option == "--schema":
                self.schema = value
            elif option == "--table":
                name, equals, path = value.partition("=")
                if not equals or not name or not path:
                    raise ValueError(f"--table takes NAME=PATH, not {value}")
                self.tables.append((name, path))
            else:
                self.out = value
        self.sql = rest


def _load(ipython: Any) -> None:
    from IPython.core.magic import Magics, line_cell_magic, magics_class

    @magics_class
    class HelaMagics(Magics):
        @line_cell_magic
        def hela(self, line: str, cell: str | None = None) -> Any:
            """Runs SQL on a hela lake; see ``hela.magics`` for the options."""
            options = MagicOptions(line)
            query = cell if cell is not None else options.sql
            if cell is not None and options.sql:
                raise ValueError(f"%%hela takes its SQL from the cell; the line has {options.sql!r}, which is not an option")
            if not query.strip():
                raise ValueError("%hela needs a SQL statement")
            if options.lake is not None:
                conn = connection.connect(options.lake, options.schema)
            else:
                conn = connection.default_connection()
            for name, path in options.tables:
                conn.register(name, path)
            result = conn.sql(query)
            value = result.to_arrow() if options.arrow else result.to_pandas()
            if options.out:
                self.shell.user_ns[options.out] = value
            return None if options.quiet else value

    ipython.register_magics(HelaMagics)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext hela``: adds the ``%hela`` and ``%%hela`` magics."""
    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext hela``: nothing to undo beyond what IPython does."""
