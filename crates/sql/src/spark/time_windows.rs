//! Spark's time windows in `GROUP BY`: `window(time, duration[, slide])`, tumbling or
//! sliding, and `session_window(time, gap)`, with `window.start`, `window.end` (and the
//! same of `session_window`) in the select list.
//!
//! A tumbling window groups on `date_bin` of the time. A sliding window first makes one row
//! for each window a row falls in (the latest start at or before it, then each slide
//! before, while the window still holds it). A session window is a run of a key's events
//! where each comes before the end (time + gap) of those before it:
//!
//! ```sql
//! SELECT ... FROM (                                   -- the session of each row
//!   SELECT *, sum(new) OVER (PARTITION BY keys ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session FROM (
//!     SELECT *, CASE WHEN max(end) OVER (PARTITION BY keys ORDER BY ts
//!                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > ts THEN 0 ELSE 1 END AS new FROM (
//!       SELECT *, time AS ts, time + gap AS end FROM t WHERE ...)))
//! GROUP BY keys, session
//! ```
//!
//! whose `start` and `end` are `min(ts)` and `max(end)`.

use std::ops::ControlFlow;

use arrow::array::{AsArray, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, IntervalUnit};
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, GroupByExpr, Ident, ObjectName, Query, Select, SelectItem, SetExpr, TableAlias, TableFactor, TableWithJoins,
    Value, WindowFrame, visit_expressions_mut, WindowFrameBound, WindowFrameUnits, WindowSpec, WindowType,
};

use super::calls::{binary, call, case, cast, number, plain_call, text, timestamp};
use super::generators::{empty_query, relation_alias};

const OFFSET: &str = "__window_offset";
const WINDOW_START: &str = "__window_start";
const TIME: &str = "__session_ts";
const END: &str = "__session_end";
const NEW: &str = "__session_new";
const SESSION: &str = "__session";

/// Rewrites `select` when it groups by `window(...)`.
pub fn group_by_window(select: &mut Select) -> Result<(), String> {
    let GroupByExpr::Expressions(groups, _) = &select.group_by else { return Ok(()) };
    let Some(position) = groups.iter().position(|g| plain_call(g).is_some_and(|(name, _)| name == "window")) else { return Ok(()) };
    let (_, args) = plain_call(&groups[position]).expect("found above");
    let literal = |expr: Option<&Expr>| match expr {
        Some(Expr::Value(v)) => match &v.value {
            Value::SingleQuotedString(d) | Value::DoubleQuotedString(d) => Ok(d.clone()),
            _ => Err("window(time, duration[, slide]): the duration and slide are strings such as '10 minutes'".to_string()),
        },
        _ => Err("window(time, duration[, slide]): the duration and slide are strings such as '10 minutes'".to_string()),
    };
    if !(2..=3).contains(&args.len()) {
        return Err("window(time, duration[, slide]): a time, a duration such as '10 minutes', and optionally a slide".into());
    }
    let duration = literal(args.get(1))?;
    let slide = if args.len() == 3 { literal(args.get(2))? } else { duration.clone() };
    let (duration_nanos, slide_nanos) = (nanoseconds(&duration)?, nanoseconds(&slide)?);
    if slide_nanos > duration_nanos {
        return Err(format!("window(time, '{duration}', '{slide}'): the slide must not be longer than the duration (as in Spark)"));
    }
    let time = timestamp(args[0].clone());
    let start = if duration_nanos == slide_nanos {
        call("date_bin", vec![interval(&duration), time, origin()])
    } else {
        slide_rows(select, &time, &slide, slide_nanos, duration_nanos)?
    };
    let end = binary(start.clone(), BinaryOperator::Plus, interval(&duration));
    if let GroupByExpr::Expressions(groups, _) = &mut select.group_by {
        groups[position] = start.clone();
    }
    let whole = call("named_struct", vec![text("start"), start.clone(), text("end"), end.clone()]);
    window_fields(select, "window", &start, &end, &whole);
    Ok(())
}

/// Makes `select` read one row for each sliding window each row falls in, and gives the
/// window's start: the latest start at or before the time, then each slide before it
/// while the window (of `duration_nanos`) still holds the time.
fn slide_rows(select: &mut Select, time: &Expr, slide: &str, slide_nanos: i64, duration_nanos: i64) -> Result<Expr, String> {
    if select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return Err("GROUP BY window(...) with a slide over a join is not supported: join in a subquery, then group its rows".into());
    }
    let windows = (duration_nanos + slide_nanos - 1) / slide_nanos;
    if windows > 1000 {
        return Err(format!("window(time, duration, slide): a row falls in {windows} windows; hela takes at most 1000 (a longer slide)"));
    }
    let offsets = (0..windows).map(|i| interval(&format!("{} nanoseconds", i * slide_nanos))).collect();
    let alias = relation_alias(&select.from[0].relation);
    let mut source = select.from[0].relation.clone();
    if let TableFactor::Derived { alias: unnamed @ None, .. } = &mut source {
        *unnamed = Some(TableAlias { explicit: true, name: alias.clone(), columns: vec![], at: None });
    }
    let template = select.clone();
    let offsets = layer(&template, source, &alias, vec![(call("unnest", vec![call("make_array", offsets)]), OFFSET)], select.selection.take());
    let latest = call("date_bin", vec![interval(slide), time.clone(), origin()]);
    let starts = layer(&template, derived(offsets, &alias), &alias, vec![(binary(latest, BinaryOperator::Minus, column(OFFSET)), WINDOW_START)], None);
    select.from[0].relation = derived(starts, &alias);
    let holds = binary(binary(column(WINDOW_START), BinaryOperator::Plus, interval(&format!("{duration_nanos} nanoseconds"))), BinaryOperator::Gt, time.clone());
    select.selection = Some(holds);
    Ok(column(WINDOW_START))
}

/// The length of a duration such as '10 minutes', in nanoseconds; months are refused
/// (their length varies).
fn nanoseconds(duration: &str) -> Result<i64, String> {
    let refused = || format!("window: '{duration}' is not a duration hela reads (such as '10 minutes' or '1 hour')");
    let parsed = cast_with_options(&StringArray::from(vec![duration]), &DataType::Interval(IntervalUnit::MonthDayNano), &CastOptions { safe: false, ..Default::default() }).map_err(|_| refused())?;
    let value = parsed.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>().value(0);
    if value.months != 0 {
        return Err(format!("window: '{duration}' is in months, whose length varies; give it in days"));
    }
    let nanos = i64::from(value.days).checked_mul(86_400_000_000_000).and_then(|d| d.checked_add(value.nanoseconds)).ok_or_else(refused)?;
    if nanos <= 0 {
        return Err(format!("window: the duration '{duration}' must be longer than nothing"));
    }
    Ok(nanos)
}

/// `INTERVAL 'duration'`.
pub(super) fn interval(duration: &str) -> Expr {
    Expr::Interval(ast::Interval { value: Box::new(text(duration)), leading_field: None, leading_precision: None, last_field: None, fractional_seconds_precision: None })
}

/// Where windows are counted from, as Spark's: 1970-01-01 UTC.
pub(super) fn origin() -> Expr {
    timestamp(text("1970-01-01 00:00:00"))
}

/// Replaces `name.start`, `name.end` and `name` (the window a row was grouped in) in the
/// select list and HAVING of `select` with `start`, `end` and `whole`; a selected field is
/// named after it, as Spark names it.
pub(super) fn window_fields(select: &mut Select, name: &str, start: &Expr, end: &Expr, whole: &Expr) {
    let replace = |expr: &mut Expr| {
        let parts: Option<Vec<String>> = match expr {
            Expr::CompoundIdentifier(parts) => Some(parts.iter().map(|p| p.value.to_ascii_lowercase()).collect()),
            Expr::Identifier(ident) => Some(vec![ident.value.to_ascii_lowercase()]),
            _ => None,
        };
        match parts.as_deref() {
            Some([w, field]) if w == name && field == "start" => *expr = start.clone(),
            Some([w, field]) if w == name && field == "end" => *expr = end.clone(),
            Some([w]) if w == name => *expr = whole.clone(),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    };
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item
            && parts.len() == 2
            && parts[0].value.eq_ignore_ascii_case(name)
        {
            let alias = parts[1].clone();
            let mut expr = Expr::CompoundIdentifier(parts.clone());
            let _ = replace(&mut expr);
            *item = SelectItem::ExprWithAlias { expr, alias };
            continue;
        }
        if let SelectItem::UnnamedExpr(Expr::Identifier(ident)) = item
            && ident.value.eq_ignore_ascii_case(name)
        {
            *item = SelectItem::ExprWithAlias { expr: whole.clone(), alias: Ident::new(name) };
            continue;
        }
        let _ = visit_expressions_mut(item, |e| replace(e));
    }
    if let Some(having) = &mut select.having {
        let _ = visit_expressions_mut(having, |e| replace(e));
    }
}

/// Rewrites `select` when it groups by `session_window(...)`.
pub fn group_by_session_window(select: &mut Select) -> Result<(), String> {
    let GroupByExpr::Expressions(groups, _) = &select.group_by else { return Ok(()) };
    let Some(position) = groups.iter().position(|g| plain_call(g).is_some_and(|(name, _)| name == "session_window")) else { return Ok(()) };
    let (_, args) = plain_call(&groups[position]).expect("found above");
    let [time, gap] = args.as_slice() else { return Err("session_window(time, gap): a time and a gap such as '5 minutes'".into()) };
    if select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return Err("GROUP BY session_window(...) over a join is not supported: join in a subquery, then group its rows".into());
    }
    let keys: Vec<Expr> = groups.iter().enumerate().filter(|(i, _)| *i != position).map(|(_, g)| g.clone()).collect();
    if keys.iter().any(|k| matches!(k, Expr::Value(_))) {
        return Err("GROUP BY session_window(...) with a key given by position: name the key's expression".into());
    }
    let alias = relation_alias(&select.from[0].relation);
    let mut source = select.from[0].relation.clone();
    if let TableFactor::Derived { alias: unnamed @ None, .. } = &mut source {
        *unnamed = Some(TableAlias { explicit: true, name: alias.clone(), columns: vec![], at: None });
    }
    let ts = timestamp(time.clone());
    let interval = cast(gap.clone(), ast::DataType::Interval { fields: None, precision: None });
    let template = select.clone();
    let times = layer(&template, source, &alias, vec![(ts.clone(), TIME), (binary(ts, BinaryOperator::Plus, interval), END)], select.selection.take());
    let ends_before = over(call("max", vec![column(END)]), &keys, preceding_only());
    let new = case(vec![(binary(ends_before, BinaryOperator::Gt, column(TIME)), number(0))], number(1));
    let news = layer(&template, derived(times, &alias), &alias, vec![(new, NEW)], None);
    let session = over(call("sum", vec![column(NEW)]), &keys, up_to_this_row());
    let sessions = layer(&template, derived(news, &alias), &alias, vec![(session, SESSION)], None);
    select.from[0].relation = derived(sessions, &alias);
    if let GroupByExpr::Expressions(groups, _) = &mut select.group_by {
        groups[position] = column(SESSION);
    }
    let (start, end) = (call("min", vec![column(TIME)]), call("max", vec![column(END)]));
    let whole = call("named_struct", vec![text("start"), start.clone(), text("end"), end.clone()]);
    window_fields(select, "session_window", &start, &end, &whole);
    Ok(())
}

fn column(name: &str) -> Expr {
    Expr::Identifier(Ident::new(name))
}

/// `SELECT alias.*, expr AS name, ... FROM source [WHERE selection]`, made from
/// `template` (the grouping SELECT) without its clauses.
fn layer(template: &Select, source: TableFactor, alias: &Ident, columns: Vec<(Expr, &str)>, selection: Option<Expr>) -> Query {
    let all = SelectItem::QualifiedWildcard(
        ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![alias.clone()])),
        ast::WildcardAdditionalOptions::default(),
    );
    let made = columns.into_iter().map(|(expr, name)| SelectItem::ExprWithAlias { expr, alias: Ident::new(name) });
    let select = Select {
        distinct: None,
        projection: std::iter::once(all).chain(made).collect(),
        from: vec![TableWithJoins { relation: source, joins: vec![] }],
        lateral_views: vec![],
        selection,
        group_by: GroupByExpr::Expressions(vec![], vec![]),
        sort_by: vec![],
        having: None,
        named_window: vec![],
        qualify: None,
        ..template.clone()
    };
    Query { body: Box::new(SetExpr::Select(Box::new(select))), ..empty_query() }
}

fn derived(query: Query, alias: &Ident) -> TableFactor {
    TableFactor::Derived { lateral: false, subquery: Box::new(query), alias: Some(TableAlias { explicit: true, name: alias.clone(), columns: vec![], at: None }), sample: None }
}

/// `function OVER (PARTITION BY keys ORDER BY ts frame)`.
fn over(function: Expr, keys: &[Expr], frame: WindowFrame) -> Expr {
    let Expr::Function(mut function) = function else { unreachable!("a call") };
    let order = ast::OrderByExpr { expr: column(TIME), options: ast::OrderByOptions { asc: Some(true), nulls_first: None }, with_fill: None };
    function.over = Some(WindowType::WindowSpec(WindowSpec { window_name: None, partition_by: keys.to_vec(), order_by: vec![order], window_frame: Some(frame) }));
    Expr::Function(function)
}

fn preceding_only() -> WindowFrame {
    WindowFrame { units: WindowFrameUnits::Rows, start_bound: WindowFrameBound::Preceding(None), end_bound: Some(WindowFrameBound::Preceding(Some(Box::new(number(1))))) }
}

fn up_to_this_row() -> WindowFrame {
    WindowFrame { units: WindowFrameUnits::Rows, start_bound: WindowFrameBound::Preceding(None), end_bound: Some(WindowFrameBound::CurrentRow) }
}
