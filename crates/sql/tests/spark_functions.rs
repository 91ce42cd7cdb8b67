//! Spark's built-in functions, case by case, against Apache Spark's own answers.
//!
//! `spark_functions/record.py` runs every built-in function's documented examples, and
//! the cases of `spark_functions/cases.sql`, in PySpark and records the rows. This test
//! runs the same SQL in hela, compares the rows (values in one canonical JSON form,
//! numbers within 1e-9), and gives each function a state: the same answers as Spark, a
//! documented divergence, not supported (hela refuses it, saying so), or different. The
//! states are written to `docs/spark-functions.md`; the test fails when that document is
//! not what this run finds, so a change in any function's state is seen and kept in the
//! document (`HELA_WRITE_SPARK_FUNCTIONS=1 cargo test -p hela-sql --test spark_functions`
//! writes it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};
use hela_lake::RawEvents;
use hela_sql::Session;
use serde_json::{Value, json};

#[path = "spark_functions/syntax.rs"]
mod syntax;

/// Functions whose answers differ from Spark's on purpose, with the reason.
const DIVERGENCES: &[(&str, &str)] = &[
    ("to_timestamp", "text that is not a time reads as NULL where Spark 4 stops the query (CANNOT_PARSE_TIMESTAMP): a hunt over dirty logs wants the rows that do read"),
    ("to_date", "as to_timestamp"),
    ("version", "the version of DataFusion, the engine hela runs on, not of Spark"),
    ("mode", "of values equally frequent, the lowest, where Spark gives any of them (the first its hash map holds) unless asked for a deterministic answer"),
];

/// Functions whose answers Spark documents as in no promised order: their arrays are
/// compared as sets of elements.
const UNORDERED: &[&str] = &["collect_set"];

/// `value` with the elements of each array in each cell sorted.
fn elements_sorted(value: &Value) -> Value {
    match value {
        Value::Array(cells) => Value::Array(
            cells
                .iter()
                .map(|cell| match cell {
                    Value::Array(elements) => {
                        let mut elements = elements.clone();
                        elements.sort_by_key(Value::to_string);
                        Value::Array(elements)
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spark_functions")
}

fn document() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spark-functions.md")
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display()))).collect()
}

/// What hela answered: its column names and its rows in canonical form, or its error.
fn run(session: &Session, runtime: &tokio::runtime::Runtime, sql: &str) -> Result<(Vec<String>, Vec<Value>), String> {
    let work = std::panic::AssertUnwindSafe(async {
        let frame = session.run(sql).await.map_err(|e| e.to_string())?;
        let names = frame.schema().fields().iter().map(|f| hela_sql::spark::shown_name(f.name()).to_string()).collect();
        let batches = frame.collect().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((names, batches.iter().flat_map(rows).collect()))
    });
    match std::panic::catch_unwind(|| runtime.block_on(work)) {
        Ok(result) => result,
        Err(panic) => Err(format!("panicked: {}", panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())),
    }
}

/// Whether an error of hela's says it does not support what was asked.
fn says_unsupported(error: &str) -> bool {
    ["does not support", "not supported", "not implemented"].iter().any(|s| error.contains(s))
}

/// `rows` in the order they are compared in: as given when the query orders them, else
/// sorted (rows come in no promised order without ORDER BY).
fn comparable(rows: &Value, sql: &str) -> Value {
    let mut rows = rows.as_array().cloned().unwrap_or_default();
    if !orders_its_rows(sql) {
        rows.sort_by_key(Value::to_string);
    }
    Value::Array(rows)
}

/// Whether the outermost query orders its rows: an `ORDER BY` outside every parenthesis
/// (one inside a subquery promises nothing about the rows that come out).
fn orders_its_rows(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let mut depth = 0i32;
    for (at, c) in upper.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            'O' if depth == 0 && upper[at..].starts_with("ORDER BY") => return true,
            _ => {}
        }
    }
    false
}

fn rows(batch: &RecordBatch) -> Vec<Value> {
    (0..batch.num_rows()).map(|row| Value::Array(batch.columns().iter().map(|c| canonical(c, row)).collect())).collect()
}

/// A value as `record.py` writes Spark's (see `canonical` there).
fn canonical(array: &ArrayRef, row: usize) -> Value {
    // A column of type Null has no null buffer: every value is null all the same.
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Value::Null;
    }
    let number = |n: f64| match n {
        n if n.is_nan() => json!("NaN"),
        n if n.is_infinite() => json!(if n > 0.0 { "Infinity" } else { "-Infinity" }),
        n => json!(n),
    };
    let cast = |to: &DataType| arrow::compute::cast(array, to).expect("a cast Arrow offers");
    match array.data_type() {
        DataType::Boolean => json!(array.as_boolean().value(row)),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => {
            json!(cast(&DataType::Int64).as_primitive::<arrow::datatypes::Int64Type>().value(row))
        }
        DataType::UInt64 => json!(array.as_primitive::<arrow::datatypes::UInt64Type>().value(row)),
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            number(cast(&DataType::Float64).as_primitive::<arrow::datatypes::Float64Type>().value(row))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => json!(cast(&DataType::Utf8).as_string::<i32>().value(row)),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let bytes = cast(&DataType::Binary);
            let hex: String = bytes.as_binary::<i32>().value(row).iter().map(|b| format!("{b:02X}")).collect();
            json!({"hex": hex})
        }
        DataType::Date32 | DataType::Date64 => json!(arrow::util::display::array_value_to_string(&cast(&DataType::Date32), row).unwrap()),
        DataType::Timestamp(..) => {
            let micros = cast(&DataType::Timestamp(TimeUnit::Microsecond, None));
            let value = micros.as_primitive::<arrow::datatypes::TimestampMicrosecondType>().value(row);
            let time = chrono::DateTime::from_timestamp_micros(value).expect("a time in range").naive_utc();
            let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
            let fraction = value.rem_euclid(1_000_000);
            if fraction != 0 {
                text.push_str(format!(".{fraction:06}").trim_end_matches('0'));
            }
            json!(text)
        }
        DataType::Time32(_) | DataType::Time64(_) => {
            let nanos = cast(&DataType::Time64(TimeUnit::Nanosecond));
            let nanos = nanos.as_primitive::<arrow::datatypes::Time64NanosecondType>().value(row);
            let (seconds, fraction) = (nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000) / 1000);
            let mut text = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
            if fraction != 0 {
                text.push_str(format!(".{fraction:06}").trim_end_matches('0'));
            }
            json!(text)
        }
        // A day-time interval as Python's timedelta: its seconds.
        DataType::Duration(_) => {
            let micros = cast(&DataType::Duration(TimeUnit::Microsecond));
            json!({"seconds": micros.as_primitive::<arrow::datatypes::DurationMicrosecondType>().value(row) as f64 / 1e6})
        }
        DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano) if array.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>().value(row).months == 0 => {
            let interval = array.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>().value(row);
            json!({"seconds": f64::from(interval.days) * 86_400.0 + interval.nanoseconds as f64 / 1e9})
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::ListView(_) => {
            let list = cast(&DataType::List(match array.data_type() {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => f.clone(),
                _ => unreachable!("a list"),
            }));
            let values = list.as_list::<i32>().value(row);
            Value::Array((0..values.len()).map(|i| canonical(&values, i)).collect())
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
            json!({"map": (0..entries.len()).map(|i| json!([canonical(&keys, i), canonical(&values, i)])).collect::<Vec<_>>()})
        }
        DataType::Struct(_) => Value::Array(array.as_struct().columns().iter().map(|c| canonical(c, row)).collect()),
        DataType::Dictionary(_, values) => canonical(&cast(values), row),
        _ => json!(arrow::util::display::array_value_to_string(array, row).unwrap_or_default()),
    }
}

/// Whether two canonical values are the same answer (numbers within 1e-9, relatively; a
/// map's entries in any order, since Spark's reach Python in no promised order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.contains_key("map") && y.contains_key("map") => {
            let entries = |m: &serde_json::Map<String, Value>| {
                let mut entries = m["map"].as_array().cloned().unwrap_or_default();
                entries.sort_by_key(Value::to_string);
                Value::Array(entries)
            };
            same(&entries(x), &entries(y))
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

/// How one case went.
enum Outcome {
    /// The same rows as Spark, or refused as Spark refuses it.
    Same,
    /// hela says it does not support what the case asks.
    Unsupported(String),
    Different { spark: String, hela: String },
}

/// A function's state over its cases.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Same,
    Divergent,
    Unsupported,
    /// Some cases give Spark's answers; hela refuses the others, saying so.
    Partly,
    Different,
    /// No case Spark answers the same way twice (random, the clock) or none at all.
    Untested,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Same => "same as Spark",
            State::Divergent => "documented divergence",
            State::Unsupported => "not supported",
            State::Partly => "partly supported",
            State::Different => "different",
            State::Untested => "not checked",
        }
    }
}

fn short(text: &str) -> String {
    let line = text.replace('\n', " ").replace('|', "\\|");
    match line.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

#[test]
fn spark_functions_answer_as_spark_does_or_say_they_are_not_supported() {
    let (functions, answers) = (lines(&here().join("functions.jsonl")), lines(&here().join("answers.jsonl")));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut warn = |w: String| eprintln!("warning: {w}");
    let session = Session::new(None, &[], &RawEvents::default(), &mut warn).unwrap();
    let started = Instant::now();
    let mut outcomes: BTreeMap<String, Vec<(String, Outcome)>> = BTreeMap::new();
    for answer in &answers {
        let (name, sql) = (answer["function"].as_str().unwrap(), answer["sql"].as_str().unwrap());
        if answer.get("volatile").is_some() || answer.get("uncollectable").is_some() {
            outcomes.entry(name.to_string()).or_default();
            continue;
        }
        let hela = run(&session, &runtime, sql).map(|(_, rows)| rows);
        let unordered = UNORDERED.contains(&name);
        let in_order = |rows: &Value| {
            let rows = rows.as_array().cloned().unwrap_or_default();
            let rows = if unordered { rows.iter().map(elements_sorted).collect() } else { rows };
            comparable(&Value::Array(rows), sql)
        };
        let outcome = match (answer.get("rows"), hela) {
            (Some(spark), Ok(rows)) if same(&in_order(spark), &in_order(&Value::Array(rows.clone()))) => Outcome::Same,
            (None, Err(_)) => Outcome::Same,
            (_, Err(error)) if says_unsupported(&error) => Outcome::Unsupported(error),
            (spark, hela) => Outcome::Different {
                spark: spark.map(Value::to_string).unwrap_or_else(|| format!("error {}", answer["error"])),
                hela: match hela {
                    Ok(rows) => Value::Array(rows).to_string(),
                    Err(error) => format!("error: {error}"),
                },
            },
        };
        outcomes.entry(name.to_string()).or_default().push((sql.to_string(), outcome));
    }
    let elapsed = started.elapsed();
    let divergences: BTreeMap<&str, &str> = DIVERGENCES.iter().copied().collect();
    let mut by_group: BTreeMap<String, Vec<(String, State, String)>> = BTreeMap::new();
    let mut counts: BTreeMap<State, usize> = BTreeMap::new();
    let (mut cases, mut same_cases) = (0, 0);
    for function in &functions {
        let name = function["name"].as_str().unwrap();
        let group = function["group"].as_str().filter(|g| !g.is_empty()).unwrap_or("other").to_string();
        let cases_of = outcomes.get(name).map(Vec::as_slice).unwrap_or_default();
        let matched = cases_of.iter().filter(|(_, o)| matches!(o, Outcome::Same)).count();
        cases += cases_of.len();
        same_cases += matched;
        let first_other = cases_of.iter().find(|(_, o)| !matches!(o, Outcome::Same));
        let state = match first_other {
            _ if cases_of.is_empty() => State::Untested,
            None => State::Same,
            Some(_) if divergences.contains_key(name) => State::Divergent,
            Some(_) if cases_of.iter().all(|(_, o)| !matches!(o, Outcome::Different { .. })) => {
                if matched == 0 { State::Unsupported } else { State::Partly }
            }
            Some(_) => State::Different,
        };
        let note = match (state, first_other) {
            (State::Divergent, Some((sql, _))) => format!("{} (`{}`)", divergences[name], short(sql)),
            (_, Some((sql, Outcome::Unsupported(error)))) => format!("`{}`: {}", short(sql), short(error)),
            (_, Some((sql, Outcome::Different { spark, hela }))) => format!("`{}`: Spark {}, hela {}", short(sql), short(spark), short(hela)),
            _ => String::new(),
        };
        let note = if cases_of.is_empty() { note } else { format!("{matched}/{} · {note}", cases_of.len()) };
        *counts.entry(state).or_default() += 1;
        by_group.entry(group).or_default().push((name.to_string(), state, note));
    }
    let mut text = String::new();
    let _ = writeln!(text, "# Spark's built-in functions, statements and clauses in hela\n");
    let _ = writeln!(
        text,
        "Generated by `crates/sql/tests/spark_functions.rs` from Apache Spark 4.3's answers to each function's documented examples and to `crates/sql/tests/spark_functions/cases.sql` (recorded by `record.py` there). A function is *same as Spark* when every case gives Spark's rows (or is refused where Spark refuses it), *not supported* when hela refuses every case (saying so), *partly supported* when it gives Spark's answers to some cases and refuses the others, *different* when some case answers otherwise, *not checked* when Spark's own answers change from run to run (random values, the clock), cannot reach Python (calendar intervals), or it has no case. A function Spark documents as answering in no promised order (`collect_set`) is compared without order. The statements and clauses of Spark's SQL syntax reference follow the functions.\n"
    );
    let checked: usize = counts.iter().filter(|(s, _)| **s != State::Untested).map(|(_, n)| n).sum();
    let _ = writeln!(text, "| state | functions |\n|---|---:|");
    for (state, n) in &counts {
        let _ = writeln!(text, "| {} | {n} |", state.label());
    }
    let _ = writeln!(
        text,
        "\n{} of {checked} checked functions ({:.0}%) give Spark's answers; {same_cases} of {cases} cases.\n",
        counts.get(&State::Same).copied().unwrap_or(0),
        100.0 * counts.get(&State::Same).copied().unwrap_or(0) as f64 / checked.max(1) as f64
    );
    for (group, functions) in &by_group {
        let _ = writeln!(text, "## {group}\n\n| function | state | cases · first case not the same |\n|---|---|---|");
        for (name, state, note) in functions {
            let _ = writeln!(text, "| `{}` | {} | {note} |", name.replace('|', "\\|"), state.label());
        }
        text.push('\n');
    }
    text.push_str(&syntax::section(&runtime));
    eprintln!("{cases} cases in {:.1} s; {}", elapsed.as_secs_f64(), counts.iter().map(|(s, n)| format!("{}: {n}", s.label())).collect::<Vec<_>>().join(", "));
    if std::env::var_os("HELA_WRITE_SPARK_FUNCTIONS").is_some() {
        std::fs::write(document(), &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(document()).unwrap_or_default();
    if committed != text {
        let changed: Vec<_> = text.lines().filter(|l| !committed.contains(l)).take(20).collect();
        panic!(
            "docs/spark-functions.md is not what this run finds; these lines are new or changed:\n{}\n\nrun HELA_WRITE_SPARK_FUNCTIONS=1 cargo test -p hela-sql --test spark_functions and read the diff",
            changed.join("\n")
        );
    }
}
