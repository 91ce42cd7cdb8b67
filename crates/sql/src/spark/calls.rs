//! Spark functions and syntax written in DataFusion's terms before planning: aggregates,
//! string and date functions DataFusion has under other names or shapes, `decode` as
//! Spark's CASE-like form, generators (`explode` in the
//! select list and `LATERAL VIEW [OUTER]`), fields of any struct expression
//! (`named_struct(...).b`), and `GROUP BY window(ts, '10 minutes')` with `window.start`.

use std::ops::ControlFlow;

use super::{aliases, generators, time_windows};

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, AccessExpr, BinaryOperator, CaseWhen, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, OrderByExpr, OrderByOptions, Query,
    SetExpr, Value, VisitMut, VisitorMut, helpers::attached_token::AttachedToken,
    visit_expressions_mut,
};

/// Rewrites the Spark calls of `statement` DataFusion plans under other names or shapes.
pub fn rewrite_spark_calls(statement: &mut Statement) -> Result<(), String> {
    let Statement::Statement(inner) = statement else { return Ok(()) };
    let mut selects = SelectRewriter { error: None };
    let _ = inner.visit(&mut selects);
    if let Some(error) = selects.error {
        return Err(error);
    }
    let mut bad_pattern = None;
    let _ = visit_expressions_mut(inner.as_mut(), |expr| match spark_like_pattern(expr) {
        Ok(()) => ControlFlow::Continue(()),
        Err(fault) => {
            bad_pattern = Some(fault);
            ControlFlow::Break(())
        }
    });
    if let Some(fault) = bad_pattern {
        return Err(fault);
    }
    let _ = visit_expressions_mut(inner.as_mut(), |expr| {
        rewrite_call(expr);
        access_fields(expr);
        spark_type_names(expr);
        typed_number(expr);
        unary_operators(expr);
        overlay_as_call(expr);
        year_to_month_interval(expr);
        literals_typed_as_spark(expr);
        rounding_with_scale(expr);
        mode_within_group(expr);
        aliases::string_agg(expr);
        aliases::extract_seconds(expr);
        aliases::ranking_without_arguments(expr);
        ControlFlow::<()>::Continue(())
    });
    Ok(())
}

/// A literal `LIKE` or `ILIKE` pattern as Spark reads it: its escape character (`\` unless
/// `ESCAPE` names another) may stand only before `_`, `%` or itself, and not at the end
/// (refused otherwise, as Spark refuses it); with `ESCAPE 'c'`, written with the backslash
/// escape DataFusion reads.
fn spark_like_pattern(expr: &mut Expr) -> Result<(), String> {
    let (Expr::Like { pattern, escape_char, any: false, .. } | Expr::ILike { pattern, escape_char, any: false, .. }) = expr else { return Ok(()) };
    let Expr::Value(value) = pattern.as_mut() else { return Ok(()) };
    let (Value::SingleQuotedString(text) | Value::DoubleQuotedString(text)) = &mut value.value else { return Ok(()) };
    let escape = match escape_char.as_ref().map(|e| &e.value) {
        None => '\\',
        Some(Value::SingleQuotedString(e)) if e.chars().count() == 1 => e.chars().next().unwrap_or('\\'),
        Some(_) => return Ok(()),
    };
    // The pattern with backslash escapes: the same text when the escape is a backslash.
    let mut backslashed = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != escape {
            if c == '\\' {
                backslashed.push('\\');
            }
            backslashed.push(c);
            continue;
        }
        match chars.next() {
            Some(wild @ ('_' | '%')) => {
                backslashed.push('\\');
                backslashed.push(wild);
            }
            Some(next) if next == escape => {
                if next == '\\' {
                    backslashed.push('\\');
                }
                backslashed.push(next);
            }
            Some(next) if escape == '\\' => {
                return Err(format!(
                    "the LIKE pattern '{text}' escapes '{next}': only _, % and \\ can follow the escape character \\ (as in Spark); to match a backslash, write four in the query ('%\\\\\\\\x') or two in a raw string (r'%\\\\x')"
                ));
            }
            Some(next) => return Err(format!("the LIKE pattern '{text}' escapes '{next}': only _, % and {escape} can follow the escape character {escape} (as in Spark)")),
            None => return Err(format!("the LIKE pattern '{text}' ends with its escape character {escape}")),
        }
    }
    *text = backslashed;
    *escape_char = None;
    Ok(())
}

/// Spark's typed number literals, read as names: `2L` (BIGINT), `10S` (SMALLINT), `10Y`
/// (TINYINT), `5.0D` (DOUBLE), `1.5F` (FLOAT), `1.5BD` (DECIMAL).
fn typed_number(expr: &mut Expr) {
    let Expr::Identifier(ident) = expr else { return };
    if ident.quote_style.is_some() {
        return;
    }
    let upper = ident.value.to_ascii_uppercase();
    let (digits, data_type) = if let Some(d) = upper.strip_suffix("BD") {
        (d, ast::DataType::Decimal(ast::ExactNumberInfo::None))
    } else {
        let Some(last) = upper.chars().last() else { return };
        let data_type = match last {
            'L' => ast::DataType::BigInt(None),
            'S' => ast::DataType::SmallInt(None),
            'Y' => ast::DataType::TinyInt(None),
            'D' => ast::DataType::Double(ast::ExactNumberInfo::None),
            'F' => ast::DataType::Float(ast::ExactNumberInfo::None),
            _ => return,
        };
        (&upper[..upper.len() - 1], data_type)
    };
    let whole = matches!(data_type, ast::DataType::BigInt(_) | ast::DataType::SmallInt(_) | ast::DataType::TinyInt(_));
    let valid = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || (!whole && c == '.')) && digits.chars().filter(|&c| c == '.').count() <= 1;
    if !valid || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return;
    }
    *expr = cast(Expr::value(Value::Number(digits.to_string(), false)), data_type);
}

/// Spark's `! x` (NOT x) and `~ x` (its bits inverted), which DataFusion does not plan.
fn unary_operators(expr: &mut Expr) {
    let Expr::UnaryOp { op, expr: operand } = expr else { return };
    match op {
        ast::UnaryOperator::BangNot => *op = ast::UnaryOperator::Not,
        ast::UnaryOperator::BitwiseNot => *expr = call("bitwise_not", vec![std::mem::replace(operand.as_mut(), Expr::value(Value::Null))]),
        _ => {}
    }
}

/// The functions whose answers tell an INT from a BIGINT, or a DECIMAL from a DOUBLE:
/// their number literals are typed as Spark types them (`1` an INT when it fits in 32 bits,
/// `1.25` a DECIMAL(3,2)), where elsewhere hela reads them as BIGINT and DOUBLE.
const TYPE_SENSITIVE: [&str; 7] = ["hash", "xxhash64", "typeof", "try_add", "try_subtract", "try_multiply", "uniform"];

fn literals_typed_as_spark(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let name = function.name.to_string();
    if !TYPE_SENSITIVE.iter().any(|n| name.eq_ignore_ascii_case(n)) {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else { return };
    for arg in &mut list.args {
        let (FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) | FunctionArg::Named { arg: FunctionArgExpr::Expr(value), .. }) = arg else { continue };
        let _ = value.visit(&mut SparkTypedLiterals { intervals: 0 });
    }
}

/// Types the number literals it visits as Spark does, except the counts of intervals
/// (`INTERVAL 1 YEAR`).
struct SparkTypedLiterals {
    intervals: usize,
}

impl VisitorMut for SparkTypedLiterals {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if matches!(expr, Expr::Interval(_)) {
            self.intervals += 1;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if matches!(expr, Expr::Interval(_)) {
            self.intervals -= 1;
        } else if self.intervals == 0 {
            typed_as_spark(expr);
        }
        ControlFlow::Continue(())
    }
}

/// A whole number literal (or its negation) that fits in 32 bits cast to INT; a literal
/// with a decimal point (and no exponent) cast to the DECIMAL of its digits.
fn typed_as_spark(expr: &mut Expr) {
    let (negative, literal) = match &*expr {
        Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: operand } => (true, operand.as_ref()),
        literal => (false, literal),
    };
    let Expr::Value(value) = literal else { return };
    let Value::Number(digits, false) = &value.value else { return };
    let sign = if negative { "-" } else { "" };
    let data_type = if let Some((whole, fraction)) = digits.split_once('.') {
        if !(whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())) {
            return;
        }
        let scale = fraction.len() as u64;
        let significant = format!("{whole}{fraction}").trim_start_matches('0').len().max(1) as u64;
        let precision = significant.max(scale);
        if precision > 38 {
            return;
        }
        ast::DataType::Decimal(ast::ExactNumberInfo::PrecisionAndScale(precision, scale as i64))
    } else {
        match digits.parse::<i64>() {
            Ok(value) if i32::try_from(if negative { -value } else { value }).is_ok() => ast::DataType::Int(None),
            _ => return,
        }
    };
    // A decimal is cast from its text, which keeps every digit.
    let literal = match data_type {
        ast::DataType::Int(_) => Value::Number(format!("{sign}{digits}"), false),
        _ => Value::SingleQuotedString(format!("{sign}{digits}")),
    };
    *expr = cast(Expr::value(literal), data_type);
}

/// `INTERVAL 'y-m' YEAR TO MONTH` (and `INTERVAL -'y-m' ...`) as `INTERVAL 'y years m
/// months'`, the form DataFusion reads.
fn year_to_month_interval(expr: &mut Expr) {
    let Expr::Interval(interval) = expr else { return };
    if interval.leading_field != Some(ast::DateTimeField::Year) || interval.last_field != Some(ast::DateTimeField::Month) {
        return;
    }
    let (negated, value) = match interval.value.as_ref() {
        Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: inner } => (true, inner.as_ref()),
        other => (false, other),
    };
    let Expr::Value(value) = value else { return };
    let Value::SingleQuotedString(text) = &value.value else { return };
    let (sign, unsigned) = match text.trim().strip_prefix('-') {
        Some(rest) => (!negated, rest),
        None => (negated, text.trim().trim_start_matches('+')),
    };
    let Some((years, months)) = unsigned.split_once('-') else { return };
    let (Ok(years), Ok(months)) = (years.trim().parse::<u32>(), months.trim().parse::<u32>()) else { return };
    let sign = if sign { "-" } else { "" };
    *expr = super::time_windows::interval(&format!("{sign}{years} years {sign}{months} months"));
}

/// `overlay(x PLACING y FROM p [FOR n])` as a call, so that the session's `overlay` (of
/// text or bytes) plans it rather than the one DataFusion's planner names.
fn overlay_as_call(expr: &mut Expr) {
    let Expr::Overlay { expr: input, overlay_what, overlay_from, overlay_for } = expr else { return };
    let mut args = vec![input.as_ref().clone(), overlay_what.as_ref().clone(), overlay_from.as_ref().clone()];
    args.extend(overlay_for.as_deref().cloned());
    *expr = call("overlay", args);
}

/// Spark's `TIMESTAMP_NTZ` (a time without a zone) and `TIMESTAMP_LTZ` (in the session's
/// zone, UTC) are DataFusion's `TIMESTAMP`, and its `BINARY` DataFusion's `BYTEA`.
fn spark_type_names(expr: &mut Expr) {
    let data_type = match expr {
        Expr::TypedString(typed) => &mut typed.data_type,
        Expr::Cast { data_type, .. } => data_type,
        _ => return,
    };
    match data_type {
        // hela's session runs in UTC: a local timestamp is a UTC one.
        ast::DataType::TimestampNtz(_) => *data_type = ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
        ast::DataType::Custom(name, _) if name.to_string().eq_ignore_ascii_case("timestamp_ltz") => *data_type = ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
        ast::DataType::Binary(_) => *data_type = ast::DataType::Bytea,
        _ => {}
    }
}

/// A function call `name(args)`.
pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

pub(super) fn text(value: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(value.to_string()))
}

pub(super) fn number(value: i64) -> Expr {
    Expr::value(Value::Number(value.to_string(), false))
}

pub(super) fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp { left: Box::new(left), op, right: Box::new(right) }
}

pub(super) fn case(conditions: Vec<(Expr, Expr)>, otherwise: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: conditions.into_iter().map(|(condition, result)| CaseWhen { condition, result }).collect(),
        else_result: Some(Box::new(otherwise)),
    }
}

/// The name (lower case) and plain arguments of a call without clauses; none for anything
/// else (a window function, `DISTINCT`, several named arguments...).
pub(super) fn plain_call(expr: &Expr) -> Option<(String, Vec<Expr>)> {
    let Expr::Function(function) = expr else { return None };
    if function.over.is_some() || function.filter.is_some() || !function.within_group.is_empty() || function.name.0.len() != 1 {
        return None;
    }
    let FunctionArguments::List(list) = &function.args else { return None };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    let args = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            // A function's only argument given by name (`explode(collection => a)`).
            FunctionArg::Named { arg: FunctionArgExpr::Expr(e), .. } | FunctionArg::ExprNamed { arg: FunctionArgExpr::Expr(e), .. } if list.args.len() == 1 => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((function.name.to_string().to_ascii_lowercase(), args))
}

/// The boolean value of a literal `true`/`false`.
pub(super) fn literal_bool(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => Some(*b),
            _ => None,
        },
        _ => None,
    }
}

/// One Spark call in DataFusion's terms, when it is one of those this module knows.
fn rewrite_call(expr: &mut Expr) {
    let Some((name, mut args)) = plain_call(expr) else { return };
    let replacement = match (name.as_str(), args.len()) {
        ("approx_count_distinct", 1 | 2) => call("approx_distinct", vec![args.remove(0)]),
        ("count_if", 1) => call("count", vec![call("nullif", vec![args.remove(0), Expr::value(Value::Boolean(false))])]),
        ("every", 1) => call("bool_and", args),
        ("some" | "any", 1) => call("bool_or", args),
        ("percentile", 2) if matches!(&args[1], Expr::Value(_)) => call("percentile_cont", args),
        ("sort_array", 1 | 2) => {
            let ascending = match args.get(1) {
                None => true,
                Some(flag) => match literal_bool(flag) {
                    Some(b) => b,
                    None => return,
                },
            };
            let (order, nulls) = if ascending { ("ASC", "NULLS FIRST") } else { ("DESC", "NULLS LAST") };
            call("array_sort", vec![args.remove(0), text(order), text(nulls)])
        }
        ("max_by" | "min_by", 2) => {
            let (value, key) = (args.remove(0), args.remove(0));
            let order = OrderByExpr {
                expr: key.clone(),
                options: OrderByOptions { asc: Some(name == "min_by"), nulls_first: None },
                with_fill: None,
            };
            let mut first = call("first_value", vec![value]);
            if let Expr::Function(function) = &mut first {
                if let FunctionArguments::List(list) = &mut function.args {
                    list.clauses.push(FunctionArgumentClause::OrderBy(vec![order]));
                }
                function.filter = Some(Box::new(Expr::IsNotNull(Box::new(key))));
            }
            first
        }
        ("locate" | "position", 2) => {
            let (wanted, within) = (args.remove(0), args.remove(0));
            call("strpos", vec![within, wanted])
        }
        ("locate" | "position", 3) => {
            let (wanted, within, from) = (args.remove(0), args.remove(0), args.remove(0));
            let found = call("strpos", vec![call("substr", vec![within, from.clone()]), wanted]);
            let zero = || number(0);
            case(
                vec![
                    (binary(from.clone(), BinaryOperator::Lt, number(1)), zero()),
                    (binary(found.clone(), BinaryOperator::Eq, zero()), zero()),
                ],
                binary(binary(found, BinaryOperator::Plus, from), BinaryOperator::Minus, number(1)),
            )
        }
        ("decode", 3..) => {
            // decode(expr, search, result, ..., [default]): the result of the first search
            // equal to expr (NULL equal to NULL), else the default or NULL.
            let subject = args.remove(0);
            let default = if args.len() % 2 == 1 { args.pop() } else { None };
            let conditions = args
                .chunks(2)
                .map(|pair| (Expr::IsNotDistinctFrom(Box::new(subject.clone()), Box::new(pair[0].clone())), pair[1].clone()))
                .collect();
            case(conditions, default.unwrap_or_else(|| Expr::value(Value::Null)))
        }
        ("year" | "month" | "day" | "dayofmonth" | "quarter" | "dayofyear" | "weekofyear", 1) => {
            let part = match name.as_str() {
                "dayofmonth" => "day",
                "dayofyear" => "doy",
                "weekofyear" => "week",
                other => other,
            };
            call("date_part", vec![text(part), timestamp(args.remove(0))])
        }
        ("dayofweek", 1) => {
            // Sunday is 1: from weekday's Monday-is-0.
            let date = cast(timestamp(args.remove(0)), ast::DataType::Date);
            let monday_first = call("weekday", vec![date]);
            binary(Expr::Nested(Box::new(binary(binary(monday_first, BinaryOperator::Plus, number(1)), BinaryOperator::Modulo, number(7)))), BinaryOperator::Plus, number(1))
        }
        // Spark's array functions where DataFusion's differ: NULL in, NULL out; every match
        // removed; 0 when not found; the array first.
        ("array_remove", 2) => call("array_remove_all", args),
        // ceil/floor to `scale` decimal places (negative: tens, hundreds...).
        ("ceil" | "ceiling" | "floor", 2) => {
            let (value, scale) = (args.remove(0), args.remove(0));
            to_places(if name == "floor" { "floor" } else { "ceil" }, value, scale)
        }
        // levenshtein(a, b, threshold): -1 past the threshold.
        ("levenshtein", 3) => {
            let threshold = args.pop().expect("three arguments");
            let distance = call("levenshtein", args);
            case(vec![(binary(distance.clone(), BinaryOperator::Gt, threshold), number(-1))], distance)
        }
        // hela's element_at answers NULL past the end, as Spark's try_element_at.
        ("try_element_at", 2) => call("element_at", args),
        ("array_position", 2) => {
            let either_null = Expr::BinaryOp { left: Box::new(Expr::IsNull(Box::new(args[0].clone()))), op: BinaryOperator::Or, right: Box::new(Expr::IsNull(Box::new(args[1].clone()))) };
            case(vec![(either_null, Expr::value(Value::Null))], call("coalesce", vec![call("array_position", args), number(0)]))
        }
        ("array_append", 2) => case(vec![(Expr::IsNull(Box::new(args[0].clone())), Expr::value(Value::Null))], call("array_append", args)),
        ("array_prepend", 2) => {
            let (array, element) = (args.remove(0), args.remove(0));
            case(vec![(Expr::IsNull(Box::new(array.clone())), Expr::value(Value::Null))], call("array_prepend", vec![element, array]))
        }
        // Ascending with NULLs last (DataFusion's puts them first).
        ("array_sort", 1) => call("array_sort", vec![args.remove(0), text("ASC"), text("NULLS LAST")]),
        ("explode", 1) => call("unnest", args),
        ("explode_outer", 1) => call("unnest", vec![generators::outer(args.remove(0))]),
        _ => match aliases::alias(&name, args) {
            Some(replacement) => replacement,
            None => return,
        },
    };
    *expr = replacement;
}

/// `ceil`/`floor` of `value` to `scale` decimal places.
fn to_places(rounding: &str, value: Expr, scale: Expr) -> Expr {
    let unit = || call("power", vec![number(10), scale.clone()]);
    binary(call(rounding, vec![binary(value, BinaryOperator::Multiply, unit())]), BinaryOperator::Divide, unit())
}

/// `mode() WITHIN GROUP (ORDER BY x [DESC])`: `mode(x)`, which gives the lowest of values
/// equally frequent, or the highest when descending.
fn mode_within_group(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    if function.name.to_string().eq_ignore_ascii_case("percentile_disc") {
        return percentile_disc(expr);
    }
    if !function.name.to_string().eq_ignore_ascii_case("mode") || function.within_group.len() != 1 || function.over.is_some() {
        return;
    }
    if !matches!(&function.args, FunctionArguments::List(list) if list.args.is_empty()) && !matches!(function.args, FunctionArguments::None) {
        return;
    }
    let order = &function.within_group[0];
    let name = if order.options.asc == Some(false) { super::functions::MODE_HIGHEST } else { "mode" };
    *expr = call(name, vec![order.expr.clone()]);
}

/// `percentile_disc(p) WITHIN GROUP (ORDER BY x [DESC])`: the first value in that order
/// whose cumulative share of the (non-NULL) values reaches `p`, as a double.
fn percentile_disc(expr: &mut Expr) {
    let Expr::Function(function) = expr else { return };
    let FunctionArguments::List(list) = &function.args else { return };
    let ([FunctionArg::Unnamed(FunctionArgExpr::Expr(share))], [order]) = (list.args.as_slice(), function.within_group.as_slice()) else { return };
    if function.over.is_some() {
        return;
    }
    let direction = text(if order.options.asc == Some(false) { "DESC" } else { "ASC" });
    let sorted = call("array_sort", vec![call("collect_list", vec![order.expr.clone()]), direction]);
    let count = call("count", vec![order.expr.clone()]);
    let place = call("greatest", vec![call("ceil", vec![binary(share.clone(), BinaryOperator::Multiply, count)]), number(1)]);
    let value = call("array_element", vec![sorted, cast(place, ast::DataType::BigInt(None))]);
    *expr = cast(value, ast::DataType::Double(ast::ExactNumberInfo::None));
}

/// `CEIL(x, scale)` and `FLOOR(x, scale)`, which the parser reads as their own syntax.
fn rounding_with_scale(expr: &mut Expr) {
    let (rounding, value, field) = match expr {
        Expr::Ceil { expr: value, field } => ("ceil", value, field),
        Expr::Floor { expr: value, field } => ("floor", value, field),
        _ => return,
    };
    let ast::CeilFloorKind::Scale(scale) = field else { return };
    let scale = Expr::value(scale.clone());
    *expr = to_places(rounding, (**value).clone(), scale);
}

/// `expr.field` where `expr` is not a column (`named_struct('a', 1).a`,
/// `from_json(...).b`): DataFusion reads only columns' fields with a dot, so the field is
/// taken with `get_field`.
fn access_fields(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else { return };
    if matches!(root.as_ref(), Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
        return;
    }
    let mut taken = 0;
    let mut value = (**root).clone();
    for access in access_chain.iter() {
        let AccessExpr::Dot(Expr::Identifier(field)) = access else { break };
        value = call("get_field", vec![value, text(&field.value)]);
        taken += 1;
    }
    if taken == 0 {
        return;
    }
    let rest: Vec<AccessExpr> = access_chain.drain(taken..).collect();
    *expr = match rest.is_empty() {
        true => value,
        false => Expr::CompoundFieldAccess { root: Box::new(value), access_chain: rest },
    };
}

/// Rewrites each SELECT's lateral views and `GROUP BY window(...)`.
struct SelectRewriter {
    error: Option<String>,
}

impl VisitorMut for SelectRewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            aliases::grouping_id_of_all(select);
        }
        if let SetExpr::Select(select) = query.body.as_mut()
            && let Err(error) = generators::expand(select).and_then(|()| time_windows::group_by_window(select)).and_then(|()| time_windows::group_by_session_window(select))
        {
            self.error = Some(error);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// `CAST(expr AS TIMESTAMP)`.
pub(super) fn timestamp(expr: Expr) -> Expr {
    cast(expr, ast::DataType::Timestamp(None, ast::TimezoneInfo::None))
}

/// `CAST(expr AS data_type)`.
pub(super) fn cast(expr: Expr, data_type: ast::DataType) -> Expr {
    Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(expr), data_type, array: false, format: None }
}

