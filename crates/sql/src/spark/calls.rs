//! Spark functions and syntax written in DataFusion's terms before planning: aggregates,
//! string and date functions DataFusion has under other names or shapes, `decode` as
//! Spark's CASE-like form, generators (`explode` in the
//! select list and `LATERAL VIEW [OUTER]`), fields of any struct expression
//! (`named_struct(...).b`), and `GROUP BY window(ts, '10 minutes')` with `window.start`.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, AccessExpr, BinaryOperator, CaseWhen, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, ObjectName, OrderByExpr, OrderByOptions, Query, Select,
    SelectItem, SetExpr, TableAlias, TableFactor, TableWithJoins, Value, VisitMut, VisitorMut, helpers::attached_token::AttachedToken,
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
    let _ = visit_expressions_mut(inner.as_mut(), |expr| {
        rewrite_call(expr);
        access_fields(expr);
        timestamps_without_zone(expr);
        typed_number(expr);
        rounding_with_scale(expr);
        ControlFlow::<()>::Continue(())
    });
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
    *expr = Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(Expr::value(Value::Number(digits.to_string(), false))), data_type, array: false, format: None };
}

/// Spark's `TIMESTAMP_NTZ` (a time without a zone) is DataFusion's `TIMESTAMP`.
fn timestamps_without_zone(expr: &mut Expr) {
    let plain = ast::DataType::Timestamp(None, ast::TimezoneInfo::None);
    match expr {
        Expr::TypedString(typed) if matches!(typed.data_type, ast::DataType::TimestampNtz(_)) => typed.data_type = plain,
        Expr::Cast { data_type, .. } if matches!(data_type, ast::DataType::TimestampNtz(_)) => *data_type = plain,
        _ => {}
    }
}

/// A function call `name(args)`.
fn call(name: &str, args: Vec<Expr>) -> Expr {
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

fn text(value: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(value.to_string()))
}

fn number(value: i64) -> Expr {
    Expr::value(Value::Number(value.to_string(), false))
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp { left: Box::new(left), op, right: Box::new(right) }
}

fn case(conditions: Vec<(Expr, Expr)>, otherwise: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: conditions.into_iter().map(|(condition, result)| CaseWhen { condition, result }).collect(),
        else_result: Some(Box::new(otherwise)),
    }
}

/// The name (lower case) and plain arguments of a call without clauses; none for anything
/// else (a window function, `DISTINCT`, named arguments...).
fn plain_call(expr: &Expr) -> Option<(String, Vec<Expr>)> {
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
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((function.name.to_string().to_ascii_lowercase(), args))
}

/// The boolean value of a literal `true`/`false`.
fn literal_bool(expr: &Expr) -> Option<bool> {
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
            let date = Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(timestamp(args.remove(0))), data_type: ast::DataType::Date, array: false, format: None };
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
        // The first value met, NULL or not (DataFusion's any_value skips NULLs).
        ("any_value", 1) => call("first_value", args),
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
        ("explode", 1) => call("unnest", args),
        ("explode_outer", 1) => call("unnest", vec![outer(args.remove(0))]),
        _ => return,
    };
    *expr = replacement;
}

/// `ceil`/`floor` of `value` to `scale` decimal places.
fn to_places(rounding: &str, value: Expr, scale: Expr) -> Expr {
    let unit = || call("power", vec![number(10), scale.clone()]);
    binary(call(rounding, vec![binary(value, BinaryOperator::Multiply, unit())]), BinaryOperator::Divide, unit())
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

/// An array that keeps a row where `array` is null or empty: `[NULL]` then.
fn outer(array: Expr) -> Expr {
    let filled = binary(call("cardinality", vec![array.clone()]), BinaryOperator::Gt, number(0));
    case(vec![(filled, array)], call("make_array", vec![Expr::value(Value::Null)]))
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
            if let Err(error) = lateral_views(select).and_then(|()| group_by_window(select)) {
                self.error = Some(error);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// `FROM t [AS a] LATERAL VIEW [OUTER] explode(e) v AS x` becomes
/// `FROM (SELECT a.*, unnest(e) AS x FROM t AS a) AS a`: each row of `t` once per element of
/// `e` (and once with `x` null for an empty or null `e` when `OUTER`), and `v.x` is `x`.
fn lateral_views(select: &mut Select) -> Result<(), String> {
    if select.lateral_views.is_empty() {
        return Ok(());
    }
    if select.from.len() != 1 {
        return Err("LATERAL VIEW over more than one table is not supported: put the LATERAL VIEW in a subquery over one table".into());
    }
    if !select.from[0].joins.is_empty() {
        return Err("LATERAL VIEW after a JOIN is not supported: LATERAL VIEW the one table in a subquery, then join".into());
    }
    let views = std::mem::take(&mut select.lateral_views);
    // The SELECT each view's rows are made by: only its FROM and select list are its own.
    let template = Select {
        lateral_views: vec![],
        selection: None,
        group_by: GroupByExpr::Expressions(vec![], vec![]),
        distinct: None,
        having: None,
        sort_by: vec![],
        ..select.clone()
    };
    let relation = &mut select.from[0];
    let mut view_names = Vec::new();
    for view in views {
        let Some((generator, mut args)) = plain_call(&view.lateral_view) else {
            return Err(format!("LATERAL VIEW {} is not supported: LATERAL VIEW takes explode(array) or explode_outer(array)", view.lateral_view));
        };
        let [column] = view.lateral_col_alias.as_slice() else {
            return Err(format!("LATERAL VIEW {generator}(...) {} names {} columns; hela supports explode with one column name (AS x)", view.lateral_view_name, view.lateral_col_alias.len()));
        };
        let array = match (generator.as_str(), args.len()) {
            ("explode", 1) if !view.outer => args.remove(0),
            ("explode" | "explode_outer", 1) => outer(args.remove(0)),
            _ => return Err(format!("LATERAL VIEW {generator}(...) is not supported yet: LATERAL VIEW [OUTER] explode(array) is")),
        };
        let alias = relation_alias(&relation.relation);
        let mut source = relation.relation.clone();
        if let TableFactor::Derived { alias: unnamed @ None, .. } = &mut source {
            *unnamed = Some(TableAlias { explicit: true, name: alias.clone(), columns: vec![], at: None });
        }
        let all = SelectItem::QualifiedWildcard(
            ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![alias.clone()])),
            ast::WildcardAdditionalOptions::default(),
        );
        let unnested = SelectItem::ExprWithAlias { expr: call("unnest", vec![array]), alias: column.clone() };
        let inner = Select {
            projection: vec![all, unnested],
            from: vec![TableWithJoins { relation: source, joins: vec![] }],
            ..template.clone()
        };
        let inner = ast::Query { body: Box::new(SetExpr::Select(Box::new(inner))), ..empty_query() };
        relation.relation = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(inner),
            alias: Some(TableAlias { explicit: true, name: alias, columns: vec![], at: None }),
            sample: None,
        };
        view_names.push(view.lateral_view_name.to_string());
    }
    // `v.x` is the new column `x` of the rows.
    let _ = visit_expressions_mut(select, |expr| {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() == 2
            && view_names.iter().any(|name| name.eq_ignore_ascii_case(&parts[0].value))
        {
            *expr = Expr::Identifier(parts[1].clone());
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(())
}

/// The name the rows of a FROM item go by: its alias, or the table's own name.
fn relation_alias(relation: &TableFactor) -> Ident {
    match relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => alias.name.clone(),
        TableFactor::Table { name, .. } => name.0.last().and_then(|part| part.as_ident()).cloned().unwrap_or_else(|| Ident::new("t")),
        _ => Ident::new("t"),
    }
}

fn empty_query() -> Query {
    Query {
        with: None,
        body: Box::new(SetExpr::Values(ast::Values { explicit_row: false, value_keyword: false, rows: vec![] })),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: vec![],
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: vec![],
    }
}

/// `CAST(expr AS TIMESTAMP)`.
fn timestamp(expr: Expr) -> Expr {
    Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(expr),
        data_type: ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
        array: false,
        format: None,
    }
}

/// `GROUP BY window(ts, '10 minutes')` (a tumbling window, as Spark's `window` groups)
/// becomes a group on the window's start, `date_bin` of the time; `window.start`,
/// `window.end` and `window` elsewhere in the SELECT are the start, the start plus the
/// duration, and both as a struct. A sliding window (a third argument other than the
/// duration) is refused: it puts a row in several windows.
fn group_by_window(select: &mut Select) -> Result<(), String> {
    let GroupByExpr::Expressions(groups, _) = &mut select.group_by else { return Ok(()) };
    let Some(position) = groups.iter().position(|g| plain_call(g).is_some_and(|(name, _)| name == "window")) else { return Ok(()) };
    let (_, args) = plain_call(&groups[position]).expect("found above");
    let duration = match args.as_slice() {
        [_, Expr::Value(v)] | [_, Expr::Value(v), _] => match &v.value {
            Value::SingleQuotedString(d) | Value::DoubleQuotedString(d) => d.clone(),
            _ => return Err("window(time, duration): the duration is a string such as '10 minutes'".into()),
        },
        _ => return Err("window(time, duration[, slide]): hela supports a time and a duration such as '10 minutes'".into()),
    };
    if let Some(Expr::Value(slide)) = args.get(2)
        && !matches!(&slide.value, Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) if *s == duration)
    {
        return Err("window(time, duration, slide) with a slide shorter than the duration (sliding windows) is not supported yet: hela groups by tumbling windows, window(time, duration)".into());
    }
    let interval = Expr::Interval(ast::Interval {
        value: Box::new(text(&duration)),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    });
    let start = call("date_bin", vec![interval.clone(), timestamp(args[0].clone()), timestamp(text("1970-01-01 00:00:00"))]);
    let end = binary(start.clone(), BinaryOperator::Plus, interval);
    groups[position] = start.clone();
    let whole = call("named_struct", vec![text("start"), start.clone(), text("end"), end.clone()]);
    let replace = |expr: &mut Expr| {
        let parts: Option<Vec<String>> = match expr {
            Expr::CompoundIdentifier(parts) => Some(parts.iter().map(|p| p.value.to_ascii_lowercase()).collect()),
            Expr::Identifier(ident) => Some(vec![ident.value.to_ascii_lowercase()]),
            _ => None,
        };
        match parts.as_deref() {
            Some([w, field]) if w == "window" && field == "start" => *expr = start.clone(),
            Some([w, field]) if w == "window" && field == "end" => *expr = end.clone(),
            Some([w]) if w == "window" => *expr = whole.clone(),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    };
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item
            && parts.len() == 2
            && parts[0].value.eq_ignore_ascii_case("window")
        {
            // Spark names the column after the field.
            let alias = parts[1].clone();
            let mut expr = Expr::CompoundIdentifier(parts.clone());
            let _ = replace(&mut expr);
            *item = SelectItem::ExprWithAlias { expr, alias };
            continue;
        }
        if let SelectItem::UnnamedExpr(Expr::Identifier(ident)) = item
            && ident.value.eq_ignore_ascii_case("window")
        {
            *item = SelectItem::ExprWithAlias { expr: whole.clone(), alias: Ident::new("window") };
            continue;
        }
        let _ = visit_expressions_mut(item, |e| replace(e));
    }
    if let Some(having) = &mut select.having {
        let _ = visit_expressions_mut(having, |e| replace(e));
    }
    Ok(())
}
