//! Spark functions that are another function, an operator or a cast under another name:
//! `lcase`, `std`, `isnull`, `equal_null`, `nullifzero`, `get`, `timestamp_seconds`, ...,
//! written in DataFusion's terms.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr, FunctionArguments, GroupByExpr, Select, Value, VisitMut, VisitorMut};

use super::calls::{binary, call, case, cast, literal_bool, number, plain_call, text};
use super::time_windows;
use crate::session::{CATALOG, SCHEMA};

/// The call `name(args)` in DataFusion's terms when it is one of the aliases here.
pub fn alias(name: &str, mut args: Vec<Expr>) -> Option<Expr> {
    let renamed = match (name, args.len()) {
        ("lcase", 1) => "lower",
        ("ucase", 1) => "upper",
        ("std", 1) => "stddev",
        ("variance", 1) => "var_samp",
        ("startswith", 2) => "starts_with",
        ("endswith", 2) => "ends_with",
        ("sign", 1) => "signum",
        ("curdate", 0) => "current_date",
        ("to_unix_timestamp", 1 | 2) => "unix_timestamp",
        // Text that is not a time is NULL in hela's to_timestamp and to_date already, and
        // its timestamps have no zone (they are UTC, the session's zone).
        ("to_timestamp_ntz" | "to_timestamp_ltz" | "try_to_timestamp", 1 | 2) => "to_timestamp",
        ("try_to_date", 1 | 2) => "to_date",
        ("timestamp_millis", 1) => "to_timestamp_millis",
        ("timestamp_micros", 1) => "to_timestamp_micros",
        ("try_avg", 1) => "avg",
        ("nvl" | "ifnull", 2) => "coalesce",
        _ => "",
    };
    if !renamed.is_empty() {
        return Some(call(renamed, args));
    }
    let null = || Expr::value(Value::Null);
    Some(match (name, args.len()) {
        ("isnull", 1) => Expr::IsNull(Box::new(args.remove(0))),
        ("isnotnull", 1) => Expr::IsNotNull(Box::new(args.remove(0))),
        ("equal_null", 2) => Expr::IsNotDistinctFrom(Box::new(args.remove(0)), Box::new(args.remove(0))),
        ("positive", 1) => Expr::Nested(Box::new(args.remove(0))),
        ("e", 0) => call("exp", vec![number(1)]),
        ("nullifzero", 1) => call("nullif", vec![args.remove(0), number(0)]),
        ("zeroifnull", 1) => call("coalesce", vec![args.remove(0), number(0)]),
        ("array_size", 1) => cast(call("cardinality", args), ast::DataType::Int(None)),
        // get(array, i): the element at i counting from 0; NULL outside the array.
        ("get", 2) => {
            let (array, index) = (args.remove(0), args.remove(0));
            let inside = binary(index.clone(), BinaryOperator::GtEq, number(0));
            case(vec![(inside, call("element_at", vec![array, binary(index, BinaryOperator::Plus, number(1))]))], null())
        }
        ("map_contains_key", 2) => {
            let (map, key) = (args.remove(0), args.remove(0));
            call("array_has", vec![call("map_keys", vec![map]), key])
        }
        // Seconds with their fraction, as Spark's (DataFusion's are whole).
        ("date_part" | "datepart", 2) if matches!(&args[0], Expr::Value(v) if matches!(&v.value, Value::SingleQuotedString(part) if is_seconds(part))) => {
            seconds_with_fraction(args.remove(1))
        }
        // The first match, NULL for none (or an empty one).
        ("regexp_substr", 2) => call("nullif", vec![call("regexp_extract", vec![args.remove(0), args.remove(0), number(0)]), text("")]),
        // From start to stop, both included, by 1 or -1 unless a step is given.
        ("sequence", 2) => {
            let (start, stop) = (args.remove(0), args.remove(0));
            let step = case(vec![(binary(start.clone(), BinaryOperator::LtEq, stop.clone()), number(1))], number(-1));
            call("generate_series", vec![start, stop, step])
        }
        ("sequence", 3) => call("generate_series", args),
        // Several percentages at once: an array of one aggregate per percentage.
        ("percentile" | "percentile_approx" | "approx_percentile", 2 | 3) if plain_call(&args[1]).is_some_and(|(f, _)| f == "array") => {
            let (value, percentages) = (args.remove(0), plain_call(&args.remove(0)).expect("matched above").1);
            let function = if name == "percentile" { "percentile_cont" } else { name };
            let each = percentages.into_iter().map(|p| call(function, std::iter::once(value.clone()).chain(std::iter::once(p)).chain(args.iter().cloned()).collect()));
            call("make_array", each.collect())
        }
        // The function forms of the RLIKE operator.
        ("rlike" | "regexp", 2) => binary(args.remove(0), BinaryOperator::PGRegexMatch, args.remove(0)),
        // Spark's `left` is `substring` from the first character (or byte).
        ("left", 2) => call("substring", vec![args.remove(0), number(1), args.remove(0)]),
        // The distinct elements of every array, in the order first seen.
        ("collect_union", 1) => call("array_distinct", vec![call("flatten", vec![call("collect_list", args)])]),
        // The user the query runs as: the operating system's user of this process.
        ("current_user" | "user" | "session_user", 0) => text(&process_user()),
        // Where names of tables are looked up: the session's one catalog and schema.
        ("current_database" | "current_schema", 0) => text(SCHEMA),
        ("current_catalog", 0) => text(CATALOG),
        ("current_path", 0) => text(&format!("system.builtin,system.session,{CATALOG}.{SCHEMA}")),
        // Unique, increasing numbers: the row's place among the query's rows, from 0.
        ("monotonically_increasing_id", 0) => {
            let mut place = call("row_number", vec![]);
            if let Expr::Function(function) = &mut place {
                function.over = Some(ast::WindowType::WindowSpec(ast::WindowSpec { window_name: None, partition_by: vec![], order_by: vec![], window_frame: None }));
            }
            binary(cast(place, ast::DataType::BigInt(None)), BinaryOperator::Minus, number(1))
        }
        // Text in single quotes, its quotes escaped with a backslash.
        ("quote", 1) => {
            let escaped = call("replace", vec![args.remove(0), text("'"), text("\\'")]);
            call("concat", vec![text("'"), escaped, text("'")])
        }
        // The start of the bucket of `width` a time falls in, buckets counted from an origin
        // (1970-01-01 when none is given).
        ("time_bucket", 2 | 3) => {
            let origin = if args.len() == 3 { args.remove(2) } else { time_windows::origin() };
            call("date_bin", vec![args.remove(0), args.remove(0), origin])
        }
        // The end of a time window, less a microsecond: the last instant inside it.
        ("window_time", 1) => {
            let end = call("get_field", vec![args.remove(0), text("end")]);
            binary(end, BinaryOperator::Minus, time_windows::interval("1 microsecond"))
        }
        // Which of the given grouping columns a row aggregates over, as bits (the first
        // column the highest): DataFusion's `grouping` of several columns.
        ("grouping_id", 1..) => call("grouping", args),
        ("dayname", 1) => call("date_format", vec![args.remove(0), text("EEE")]),
        ("timestamp_seconds", 1) => {
            let micros = call("round", vec![binary(args.remove(0), BinaryOperator::Multiply, number(1_000_000))]);
            call("to_timestamp_micros", vec![cast(micros, ast::DataType::BigInt(None))])
        }
        // Days since 1970-01-01, and back.
        ("unix_date", 1) => call("arrow_cast", vec![cast(args.remove(0), ast::DataType::Date), text("Int32")]),
        ("date_from_unix_date", 1) => call("arrow_cast", vec![call("arrow_cast", vec![args.remove(0), text("Int32")]), text("Date32")]),
        ("timestamp", 1) => cast(args.remove(0), ast::DataType::Timestamp(None, ast::TimezoneInfo::None)),
        // A type's name called as a function casts to it.
        ("boolean", 1) => cast(args.remove(0), ast::DataType::Boolean),
        ("tinyint", 1) => cast(args.remove(0), ast::DataType::TinyInt(None)),
        ("smallint", 1) => cast(args.remove(0), ast::DataType::SmallInt(None)),
        ("int", 1) => cast(args.remove(0), ast::DataType::Int(None)),
        ("bigint", 1) => cast(args.remove(0), ast::DataType::BigInt(None)),
        ("float", 1) => cast(args.remove(0), ast::DataType::Float(ast::ExactNumberInfo::None)),
        ("double", 1) => cast(args.remove(0), ast::DataType::Double(ast::ExactNumberInfo::None)),
        ("string", 1) => cast(args.remove(0), ast::DataType::String(None)),
        ("binary", 1) => cast(args.remove(0), ast::DataType::Bytea),
        ("date", 1) => cast(args.remove(0), ast::DataType::Date),
        // NULL where Spark's division or remainder by zero would stop the query.
        ("try_divide" | "try_mod", 2) => {
            let (dividend, divisor) = (args.remove(0), args.remove(0));
            let op = if name == "try_divide" { BinaryOperator::Divide } else { BinaryOperator::Modulo };
            case(vec![(binary(divisor.clone(), BinaryOperator::Eq, number(0)), null())], binary(dividend, op, divisor))
        }
        // first(x, ignoreNulls) and its namesakes: the first (last) value, NULL or not,
        // or the first (last) that is not NULL.
        ("first" | "first_value" | "any_value" | "last" | "last_value", 1 | 2) => {
            let ignore_nulls = match args.get(1) {
                None => false,
                Some(flag) => literal_bool(flag)?,
            };
            let value = args.remove(0);
            let function = if name.starts_with("last") { "last_value" } else { "first_value" };
            let mut taken = call(function, vec![value.clone()]);
            if ignore_nulls && let Expr::Function(f) = &mut taken {
                f.filter = Some(Box::new(Expr::IsNotNull(Box::new(value))));
            }
            taken
        }
        _ => return None,
    })
}

/// The name of the user this process runs as: its user id's name in `/etc/passwd`, else
/// `USER` (or `USERNAME`), else `unknown`.
fn process_user() -> String {
    password_file_user().or_else(|| std::env::var("USER").or_else(|_| std::env::var("USERNAME")).ok()).unwrap_or_else(|| "unknown".into())
}

#[cfg(unix)]
fn password_file_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let users = std::fs::read_to_string("/etc/passwd").ok()?;
    users.lines().map(|line| line.split(':').collect::<Vec<_>>()).find(|fields| fields.get(2) == Some(&uid.as_str())).map(|fields| fields[0].to_string())
}

#[cfg(not(unix))]
fn password_file_user() -> Option<String> {
    None
}

fn is_seconds(part: &str) -> bool {
    ["s", "sec", "secs", "second", "seconds"].contains(&part.to_ascii_lowercase().as_str())
}

/// The seconds of a time or interval with their fraction.
fn seconds_with_fraction(time: Expr) -> Expr {
    let micros = call("date_part", vec![text("microsecond"), time]);
    binary(micros, BinaryOperator::Divide, Expr::value(Value::Number("1000000.0".into(), false)))
}

/// `EXTRACT(SECOND FROM t)` with the fraction, as Spark's.
pub fn extract_seconds(expr: &mut Expr) {
    if let Expr::Extract { field: ast::DateTimeField::Second | ast::DateTimeField::Seconds, expr: time, .. } = expr {
        *expr = seconds_with_fraction((**time).clone());
    }
}

/// `string_agg(x)` and `listagg(x)` with no delimiter join with nothing, as Spark's do, and
/// `WITHIN GROUP (ORDER BY ...)` orders what they join.
pub fn string_agg(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let name = function.name.to_string().to_ascii_lowercase();
    if !matches!(name.as_str(), "string_agg" | "listagg") || function.over.is_some() {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else { return };
    if list.args.len() == 1 {
        list.args.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(text(""))));
    }
    if !function.within_group.is_empty() {
        list.clauses.push(ast::FunctionArgumentClause::OrderBy(std::mem::take(&mut function.within_group)));
    }
    function.name = ast::ObjectName::from(vec![ast::Ident::new("string_agg")]);
}

/// Spark's ranking window functions take (and ignore) arguments: `rank(b) OVER (...)`.
pub fn ranking_without_arguments(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let name = function.name.to_string().to_ascii_lowercase();
    if function.over.is_some() && matches!(name.as_str(), "rank" | "dense_rank" | "percent_rank") && let FunctionArguments::List(list) = &mut function.args {
        list.args.clear();
    }
}

/// `grouping_id()` without arguments: `grouping_id` of every column the query groups by
/// (inside `CUBE`, `ROLLUP` and `GROUPING SETS` too).
pub fn grouping_id_of_all(select: &mut Select) {
    let GroupByExpr::Expressions(groups, _) = &select.group_by else { return };
    let mut columns: Vec<Expr> = Vec::new();
    for group in groups {
        let sets = match group {
            Expr::Cube(sets) | Expr::Rollup(sets) | Expr::GroupingSets(sets) => sets.iter().flatten().cloned().collect(),
            other => vec![other.clone()],
        };
        for column in sets {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    struct AllColumns(Vec<Expr>);
    impl VisitorMut for AllColumns {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if plain_call(expr).is_some_and(|(name, args)| name.eq_ignore_ascii_case("grouping_id") && args.is_empty()) {
                *expr = call("grouping", self.0.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let mut all = AllColumns(columns);
    for item in &mut select.projection {
        let _ = item.visit(&mut all);
    }
    if let Some(having) = &mut select.having {
        let _ = having.visit(&mut all);
    }
}
