"""Records Apache Spark's answers to the cases of every built-in function, for
`spark_functions.rs` to check hela against.

Spark's own list of built-in functions (`SHOW FUNCTIONS`) gives the functions; each
function's documented examples (`> SELECT ...;` in its extended usage), and the cases of
`cases.sql` beside this file (nulls, edge values, generators, clauses hunters write), are
run in PySpark with the session in UTC (and Spark's TIME type on); the rows are written as JSON in one canonical form
(see `canonical`) that the Rust test renders hela's Arrow results into.

    pip install pyspark==4.3.0        # needs a Java runtime (17 or 21)
    python3 crates/sql/tests/spark_functions/record.py

writes `functions.jsonl` (each function and its group) and `answers.jsonl` beside it, the
answers (with column names) to the statements and clauses of `syntax.sql` to
`syntax.jsonl`, and the functions' names to `crates/sql/src/spark/builtins.txt`.
"""

import datetime
import decimal
import json
import math
import re
import sys
from pathlib import Path

from pyspark.sql import Row, SparkSession

HERE = Path(__file__).resolve().parent
# Cases that call into the JVM by class name or that wait: nothing a SQL engine outside the
# JVM can mean.
SKIPPED = {"java_method", "reflect", "try_reflect"}
# Cases that read the clock: their answers change between runs, even when two runs in a
# row fall within the same second.
# Errors PySpark raises on collecting a value it has no Python type for.
UNCOLLECTABLE = {"NOT_IMPLEMENTED", "UNSUPPORTED_TIME_TYPE", "UNSUPPORTED_DATA_TYPE"}
CLOCK = re.compile(r"\b(current_time|current_timestamp|current_date|curdate|now|localtime|unix_timestamp\(\))", re.IGNORECASE)


def canonical(value):
    """A value as JSON: numbers as numbers (decimals too), times as text in UTC without
    trailing zeros, binary as {"hex": ...}, maps as {"map": [[key, value], ...]} (their
    order is lost on the way to Python), structs as lists."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, decimal.Decimal):
        return canonical(float(value))
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        text = value.strftime("%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text
    if isinstance(value, datetime.timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex().upper()}
    if isinstance(value, Row):
        return [canonical(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {"map": [[canonical(k), canonical(v)] for k, v in value.items()]}
    return str(value)


def examples(text: str) -> list[str]:
    """The `> SELECT ...;` statements of a function's documented examples (a statement may
    go on over a few lines until its `;`)."""
    found, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("> "):
            statement, more = line[2:], 0
            while not statement.endswith(";") and i + 1 < len(lines) and more < 6:
                i, more = i + 1, more + 1
                statement += " " + lines[i].strip()
            # `SET` lines set up the examples after them; a setting is not an answer.
            if statement.endswith(";") and not statement.upper().startswith("SET "):
                found.append(statement[:-1].strip())
        i += 1
    return found


def own_cases() -> list[tuple[str, str]]:
    """`function | SQL` lines of cases.sql."""
    cases = []
    for line in (HERE / "cases.sql").read_text().splitlines():
        if line.strip() and not line.startswith("--"):
            name, sql = line.split("|", 1)
            cases.append((name.strip(), sql.strip()))
    return cases


def error_kind(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    kind = re.match(r"\[([A-Z_.]+)\]", text)
    return kind.group(1) if kind else text[:200]


def deterministic(spark, sql: str) -> bool:
    """Whether Spark plans the query as giving the same rows every time (a call of `rand`,
    `shuffle` or `uuid`, even with a seed, makes it not)."""
    try:
        return bool(spark.sql(sql)._jdf.queryExecution().analyzed().deterministic())
    except Exception:
        return True


def run(spark, sql: str) -> dict:
    try:
        frame = spark.sql(sql)
    except Exception as error:  # Spark's own errors: the case fails in Spark too
        return {"error": error_kind(error)}
    try:
        rows = [canonical(row) for row in frame.collect()]
    except Exception as error:
        # Spark answers, but its answer cannot reach Python (TIME values, calendar
        # intervals): there is nothing to check hela's against.
        if type(error).__name__ == "PySparkNotImplementedError" or error_kind(error) in UNCOLLECTABLE:
            return {"uncollectable": error_kind(error)}
        return {"error": error_kind(error)}
    return {"columns": frame.columns, "rows": rows}


def syntax_cases() -> list[tuple[str, str]]:
    """`name | SQL` lines of syntax.sql."""
    cases = []
    for line in (HERE / "syntax.sql").read_text().splitlines():
        if line.strip() and not line.startswith("--"):
            name, sql = line.split("|", 1)
            cases.append((name.strip(), sql.strip()))
    return cases


def run_statements(spark, sql: str) -> dict:
    """Runs `;`-separated statements in a session with no views or settings of its own;
    the last one's answer counts (an earlier one's error is the answer)."""
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)
    spark.sql("RESET")
    spark.sql("SET spark.sql.session.timeZone=UTC")
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    for statement in statements[:-1]:
        answer = run(spark, statement)
        if "error" in answer:
            return answer
    return run(spark, statements[-1])


def main() -> int:
    spark = (SparkSession.builder.master("local[1]").appName("hela-spark-functions")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC").config("spark.sql.timeType.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    catalog = spark._jsparkSession.sessionState().catalog()
    identifier = spark._jvm.org.apache.spark.sql.catalyst.FunctionIdentifier
    names = sorted(r[0] for r in spark.sql("SHOW FUNCTIONS").collect())
    functions, cases = [], []
    for name in names:
        info = catalog.lookupFunctionInfo(identifier.apply(name))
        functions.append({"name": name, "group": info.getGroup() or "", "class": info.getClassName()})
        if name not in SKIPPED:
            cases += [(name, sql) for sql in examples(info.getExamples() or "")]
    cases += own_cases()
    with open(HERE / "answers.jsonl", "w") as out:
        for number, (name, sql) in enumerate(cases, start=1):
            answers = [run(spark, sql), run(spark, sql)]
            if answers[0] == answers[1] and not deterministic(spark, sql):
                # Random without a seed can repeat itself by chance: ask a few times more.
                answers += [run(spark, sql) for _ in range(4)]
            answer = {"function": name, "sql": sql, **answers[0]}
            if any(a != answers[0] for a in answers) or CLOCK.search(sql):
                answer = {"function": name, "sql": sql, "volatile": True}
            out.write(json.dumps(answer, sort_keys=True) + "\n")
            if number % 100 == 0:
                print(f"{number}/{len(cases)} cases", file=sys.stderr)
    with open(HERE / "syntax.jsonl", "w") as out:
        for name, sql in syntax_cases():
            first, second = run_statements(spark, sql), run_statements(spark, sql)
            answer = {"name": name, "sql": sql, **first}
            if first != second:
                answer = {"name": name, "sql": sql, "volatile": True}
            out.write(json.dumps(answer, sort_keys=True) + "\n")
    with open(HERE / "functions.jsonl", "w") as out:
        for function in functions:
            out.write(json.dumps(function, sort_keys=True) + "\n")
    # The names alone, for hela's error on a Spark function it does not support.
    names_file = HERE.parents[1] / "src" / "spark" / "builtins.txt"
    names_file.write_text("".join(f"{f['name']}\n" for f in functions if f["name"].replace("_", "").isalnum()))
    print(f"{len(functions)} functions, {len(cases)} cases, Spark {spark.version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
