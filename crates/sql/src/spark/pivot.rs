//! Spark's `PIVOT (agg(x) [AS a], ... FOR k IN (v1 [AS n1], ...))`: a group on every
//! column of the source the pivot does not read, with one aggregate for each value, over the
//! rows whose `k` is that value (`sum(CASE WHEN k = v1 THEN x END) AS v1`). The source's
//! columns are known only once it is planned, so this runs in two steps: find a PIVOT's
//! source, then rewrite it given the source's columns.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, ExprWithAlias, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, PivotValueSource, Query,
    SelectItem, SetExpr, TableAlias, TableFactor, Value, VisitMut, VisitorMut, visit_expressions,
};

use super::calls::case;
use super::generators::{empty_query, plain_select as select};

/// The statement reading the source of the first PIVOT of `statement` (`SELECT * FROM
/// source`), whose columns [`rewrite_first_pivot`] wants.
pub fn first_pivot_source(statement: &mut Statement) -> Option<Statement> {
    let Statement::Statement(inner) = statement else { return None };
    let mut finder = Find { source: None };
    let _ = inner.visit(&mut finder);
    let all = SelectItem::Wildcard(ast::WildcardAdditionalOptions::default());
    let query = Query { body: Box::new(SetExpr::Select(Box::new(select(vec![all], *finder.source?, vec![])))), ..empty_query() };
    Some(Statement::Statement(Box::new(ast::Statement::Query(Box::new(query)))))
}

struct Find {
    source: Option<Box<TableFactor>>,
}

impl VisitorMut for Find {
    type Break = ();

    fn pre_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Pivot { table, .. } = table {
            self.source = Some(table.clone());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites the first PIVOT of `statement`, whose source has the columns `columns`.
pub fn rewrite_first_pivot(statement: &mut Statement, columns: &[String]) -> Result<(), String> {
    let Statement::Statement(inner) = statement else { return Ok(()) };
    let mut rewriter = Rewrite { columns, result: None };
    let _ = inner.visit(&mut rewriter);
    rewriter.result.unwrap_or(Ok(()))
}

struct Rewrite<'a> {
    columns: &'a [String],
    result: Option<Result<(), String>>,
}

impl VisitorMut for Rewrite<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        if matches!(table, TableFactor::Pivot { .. }) {
            self.result = Some(grouped(table, self.columns));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// The PIVOT `table` as a grouped subquery.
fn grouped(table: &mut TableFactor, columns: &[String]) -> Result<(), String> {
    let TableFactor::Pivot { table: source, aggregate_functions, value_column, value_source, default_on_null, alias } = table else { return Ok(()) };
    let [key] = value_column.as_slice() else { return Err("PIVOT over several columns (FOR (a, b) IN ...) is not supported: pivot on one column, or on a column made of both".into()) };
    let PivotValueSource::List(values) = value_source else { return Err("PIVOT ... IN (ANY) or IN (subquery) is not supported: list the values, IN ('a', 'b')".into()) };
    if default_on_null.is_some() {
        return Err("PIVOT ... DEFAULT ON NULL is not supported: coalesce() the pivoted columns".into());
    }
    // The columns the pivot reads are not grouped on.
    let mut read: Vec<String> = Vec::new();
    let mut note = |expr: &Expr| {
        let _ = visit_expressions(expr, |e| {
            match e {
                Expr::Identifier(ident) => read.push(ident.value.to_ascii_lowercase()),
                Expr::CompoundIdentifier(parts) => read.extend(parts.last().map(|p| p.value.to_ascii_lowercase())),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
    };
    note(key);
    aggregate_functions.iter().for_each(|a| note(&a.expr));
    let groups: Vec<Expr> = columns.iter().filter(|c| !read.contains(&c.to_ascii_lowercase())).map(|c| Expr::Identifier(Ident::with_quote('`', c))).collect();
    let mut projection: Vec<SelectItem> = groups.iter().cloned().map(SelectItem::UnnamedExpr).collect();
    for value in values.iter() {
        for aggregate in aggregate_functions.iter() {
            let name = match (&value.alias, aggregate_functions.len(), &aggregate.alias) {
                (Some(alias), 1, _) => alias.value.clone(),
                (None, 1, _) => value_name(&value.expr),
                (value_alias, _, aggregate_alias) => format!(
                    "{}_{}",
                    value_alias.as_ref().map_or_else(|| value_name(&value.expr), |a| a.value.clone()),
                    aggregate_alias.as_ref().map_or_else(|| aggregate.expr.to_string(), |a| a.value.clone())
                ),
            };
            let only_value = ast::Expr::BinaryOp { left: Box::new(key.clone()), op: BinaryOperator::Eq, right: Box::new(value.expr.clone()) };
            projection.push(SelectItem::ExprWithAlias { expr: over_value(aggregate, &only_value)?, alias: Ident::with_quote('`', name) });
        }
    }
    let select = select(projection, (**source).clone(), groups);
    let query = Query { body: Box::new(SetExpr::Select(Box::new(select))), ..empty_query() };
    let alias = alias.clone().unwrap_or(TableAlias { explicit: true, name: Ident::new("pivoted"), columns: vec![], at: None });
    *table = TableFactor::Derived { lateral: false, subquery: Box::new(query), alias: Some(alias), sample: None };
    Ok(())
}

/// The name Spark gives a pivoted value's column: a string as itself, else as written.
fn value_name(value: &Expr) -> String {
    match value {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// `aggregate` over the rows where `only` holds: each argument `e` becomes
/// `CASE WHEN only THEN e END` (`count(*)` counts `CASE WHEN only THEN 1 END`).
fn over_value(aggregate: &ExprWithAlias, only: &Expr) -> Result<Expr, String> {
    let Expr::Function(function) = &aggregate.expr else { return Err(format!("PIVOT takes aggregates such as sum(x), not {}", aggregate.expr)) };
    let mut function = function.clone();
    let FunctionArguments::List(list) = &mut function.args else { return Err(format!("PIVOT takes aggregates such as sum(x), not {}", aggregate.expr)) };
    let null = || Expr::value(Value::Null);
    for arg in list.args.iter_mut() {
        let inner = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e.clone(),
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Expr::value(Value::Number("1".into(), false)),
            _ => return Err(format!("PIVOT: the aggregate {} is not supported there", aggregate.expr)),
        };
        *arg = FunctionArg::Unnamed(FunctionArgExpr::Expr(case(vec![(only.clone(), inner)], null())));
    }
    Ok(Expr::Function(function))
}
