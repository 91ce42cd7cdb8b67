//! Spark's generators, in the select list and in `LATERAL VIEW [OUTER]`: `explode`,
//! `posexplode`, `inline` (and their `_outer` forms), `stack` and `json_tuple`, written
//! with DataFusion's `unnest` (several unnests in one select list run side by side, as
//! Spark's generated columns do).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, GroupByExpr, Ident, ObjectName, Query, Select, SelectItem, SetExpr, TableAlias, TableFactor, TableWithJoins,
    Value, visit_expressions_mut,
};

use super::calls::{binary, call, case, cast, number, plain_call, text};

/// The most rows one `stack(n, ...)` makes.
const MOST_STACKED_ROWS: usize = 10_000;

/// An array that keeps a row where `array` is null or empty: `[NULL]` then.
pub fn outer(array: Expr) -> Expr {
    let filled = binary(call("cardinality", vec![array.clone()]), BinaryOperator::Gt, number(0));
    case(vec![(filled, array)], call("make_array", vec![Expr::value(Value::Null)]))
}

/// The places (from 0) of `array`'s elements, as an array; `[NULL]` for an empty or null
/// array when `keep_empty`.
fn positions(array: Expr, keep_empty: bool) -> Expr {
    let length = cast(call("cardinality", vec![array.clone()]), ast::DataType::BigInt(None));
    let last = binary(length, BinaryOperator::Minus, number(1));
    let series = call("generate_series", vec![number(0), last]);
    match keep_empty {
        true => case(vec![(binary(call("cardinality", vec![array]), BinaryOperator::Gt, number(0)), series)], call("make_array", vec![Expr::value(Value::Null)])),
        false => series,
    }
}

/// The columns a generator makes, with Spark's names for them; `None` when `name` is not a
/// generator. An error for a generator called the wrong way.
fn generated(name: &str, mut args: Vec<Expr>, outer_view: bool) -> Option<Result<Vec<(Expr, String)>, String>> {
    let keep_empty = outer_view || name.ends_with("_outer");
    let base = name.trim_end_matches("_outer");
    let columns = match (base, args.len()) {
        ("explode", 1) => {
            let array = args.remove(0);
            vec![(call("unnest", vec![if keep_empty { outer(array) } else { array }]), "col".to_string())]
        }
        ("posexplode", 1) => {
            let array = args.remove(0);
            let values = if keep_empty { outer(array.clone()) } else { array.clone() };
            vec![(call("unnest", vec![positions(array, keep_empty)]), "pos".into()), (call("unnest", vec![values]), "col".into())]
        }
        ("stack", 2..) => {
            let Some(rows) = literal_count(&args[0]).filter(|&n| (1..=MOST_STACKED_ROWS).contains(&n)) else {
                return Some(Err(format!("stack(n, ...): n must be a whole number from 1 to {MOST_STACKED_ROWS}, written as such")));
            };
            let values = args.split_off(1);
            let width = values.len().div_ceil(rows.max(1));
            (0..width)
                .map(|column| {
                    let cells = (0..rows).map(|row| values.get(row * width + column).cloned().unwrap_or_else(|| Expr::value(Value::Null))).collect();
                    (call("unnest", vec![call("make_array", cells)]), format!("col{column}"))
                })
                .collect()
        }
        ("json_tuple", 2..) if !name.ends_with("_outer") => {
            let json = args.remove(0);
            args.into_iter()
                .enumerate()
                .map(|(i, key)| {
                    let path = call("concat", vec![text("$['"), key, text("']")]);
                    (call("get_json_object", vec![json.clone(), path]), format!("c{i}"))
                })
                .collect()
        }
        ("explode" | "posexplode" | "stack" | "json_tuple", _) => return Some(Err(format!("{name}(...) was given {} arguments; see Spark's reference for its form", args.len()))),
        _ => return None,
    };
    Some(Ok(columns))
}

fn literal_count(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// `inline(array of structs)`: each struct as a row, one column per field.
fn inline(name: &str, mut args: Vec<Expr>) -> Option<Expr> {
    match (name, args.len()) {
        ("inline", 1) => Some(call("unnest", vec![call("unnest", vec![args.remove(0)])])),
        ("inline_outer", 1) => Some(call("unnest", vec![call("unnest", vec![outer(args.remove(0))])])),
        _ => None,
    }
}

/// Expands the generators of one SELECT: those of its select list into their columns, and
/// its lateral views.
pub fn expand(select: &mut Select) -> Result<(), String> {
    let mut projection = Vec::with_capacity(select.projection.len());
    for item in std::mem::take(&mut select.projection) {
        let (expr, alias) = match &item {
            SelectItem::UnnamedExpr(expr) => (expr, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.clone())),
            _ => {
                projection.push(item);
                continue;
            }
        };
        let Some((name, args)) = plain_call(expr) else {
            projection.push(item);
            continue;
        };
        if let Some(unnested) = inline(&name, args.clone()) {
            projection.push(SelectItem::UnnamedExpr(unnested));
            continue;
        }
        match generated(&name, args, false) {
            None => projection.push(item),
            Some(Err(error)) => return Err(error),
            Some(Ok(columns)) => {
                let single = columns.len() == 1;
                for (expr, default) in columns {
                    let alias = alias.clone().filter(|_| single).unwrap_or_else(|| Ident::new(default));
                    projection.push(SelectItem::ExprWithAlias { expr, alias });
                }
            }
        }
    }
    select.projection = projection;
    lateral_views(select)
}

/// `FROM t [AS a] LATERAL VIEW [OUTER] explode(e) v AS x` becomes
/// `FROM (SELECT a.*, unnest(e) AS x FROM t AS a) AS a`: each row of `t` once per element of
/// `e` (and once with `x` null for an empty or null `e` when `OUTER`), and `v.x` is `x`. The
/// other generators likewise, with one name for each column they make.
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
        let unsupported = || format!("LATERAL VIEW {} is not supported: LATERAL VIEW takes explode, posexplode, stack or json_tuple (and their OUTER forms)", view.lateral_view);
        let Some((generator, args)) = plain_call(&view.lateral_view) else { return Err(unsupported()) };
        let columns = match generated(&generator, args, view.outer) {
            Some(columns) => columns?,
            None => return Err(unsupported()),
        };
        if columns.len() != view.lateral_col_alias.len() {
            return Err(format!(
                "LATERAL VIEW {generator}(...) {} makes {} column(s) but {} name(s) follow AS",
                view.lateral_view_name,
                columns.len(),
                view.lateral_col_alias.len()
            ));
        }
        let alias = relation_alias(&relation.relation);
        let mut source = relation.relation.clone();
        if let TableFactor::Derived { alias: unnamed @ None, .. } = &mut source {
            *unnamed = Some(TableAlias { explicit: true, name: alias.clone(), columns: vec![], at: None });
        }
        let all = SelectItem::QualifiedWildcard(
            ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![alias.clone()])),
            ast::WildcardAdditionalOptions::default(),
        );
        let made = columns.into_iter().zip(&view.lateral_col_alias).map(|((expr, _), name)| SelectItem::ExprWithAlias { expr, alias: name.clone() });
        let inner = Select { projection: std::iter::once(all).chain(made).collect(), from: vec![TableWithJoins { relation: source, joins: vec![] }], ..template.clone() };
        let inner = Query { body: Box::new(SetExpr::Select(Box::new(inner))), ..empty_query() };
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
pub(super) fn relation_alias(relation: &TableFactor) -> Ident {
    match relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => alias.name.clone(),
        TableFactor::Table { name, .. } => name.0.last().and_then(|part| part.as_ident()).cloned().unwrap_or_else(|| Ident::new("t")),
        _ => Ident::new("t"),
    }
}

pub(crate) fn empty_query() -> Query {
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

/// `SELECT projection FROM source GROUP BY groups`.
pub(crate) fn plain_select(projection: Vec<SelectItem>, source: TableFactor, groups: Vec<Expr>) -> ast::Select {
    ast::Select {
        select_token: ast::helpers::attached_token::AttachedToken::empty(),
        optimizer_hints: vec![],
        distinct: None,
        select_modifiers: None,
        top: None,
        top_before_distinct: false,
        projection,
        exclude: None,
        into: None,
        from: vec![TableWithJoins { relation: source, joins: vec![] }],
        lateral_views: vec![],
        prewhere: None,
        selection: None,
        group_by: GroupByExpr::Expressions(groups, vec![]),
        cluster_by: vec![],
        distribute_by: vec![],
        sort_by: vec![],
        having: None,
        named_window: vec![],
        qualify: None,
        window_before_qualify: false,
        value_table_mode: None,
        connect_by: vec![],
        flavor: ast::SelectFlavor::Standard,
    }
}
