//! Spark's clauses and statements DataFusion lacks or names otherwise: `SORT BY`,
//! `CLUSTER BY` and `DISTRIBUTE BY` (one engine, one partition of the answer: an ordered
//! answer is a sorted partition), `MINUS`, `LIKE ANY`, `range(n)`'s `id` column,
//! and a plain refusal, naming it, of each Spark statement hela does not run.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, Ident, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, SelectItem, SetExpr, SetOperator,
    TableAlias, TableFactor, TableFunctionArgs, VisitMut, VisitorMut, visit_expressions_mut,
};

use super::generators::{empty_query, plain_select};

/// Rewrites the clauses of `statement` DataFusion does not take in Spark's form.
pub fn rewrite_clauses(statement: &mut Statement) {
    let Statement::Statement(inner) = statement else { return };
    let _ = inner.visit(&mut Clauses);
    let _ = visit_expressions_mut(inner.as_mut(), |expr| {
        like_any(expr);
        ControlFlow::<()>::Continue(())
    });
}

struct Clauses;

impl VisitorMut for Clauses {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        partition_clauses(query);
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        range_ids(table);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        minus_as_except(query.body.as_mut());
        ControlFlow::Continue(())
    }
}

/// `SORT BY` / `CLUSTER BY` order the answer; `DISTRIBUTE BY` has nothing to do.
fn partition_clauses(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else { return };
    let mut order: Vec<OrderByExpr> = std::mem::take(&mut select.sort_by);
    let clustered = std::mem::take(&mut select.cluster_by);
    order.extend(clustered.into_iter().map(|expr| OrderByExpr { expr, options: OrderByOptions { asc: None, nulls_first: None }, with_fill: None }));
    select.distribute_by.clear();
    if !order.is_empty() && query.order_by.is_none() {
        query.order_by = Some(OrderBy { kind: OrderByKind::Expressions(order), interpolate: None });
    }
}

fn minus_as_except(body: &mut SetExpr) {
    if let SetExpr::SetOperation { op, .. } = body
        && *op == SetOperator::Minus
    {
        *op = SetOperator::Except;
    }
}

/// `x LIKE ANY (p, q)` is `x LIKE p OR x LIKE q`.
fn like_any(expr: &mut Expr) {
    let (negated, subject, pattern, escape_char, case_blind) = match expr {
        Expr::Like { negated, any: true, expr, pattern, escape_char } => (*negated, expr, pattern, escape_char, false),
        Expr::ILike { negated, any: true, expr, pattern, escape_char } => (*negated, expr, pattern, escape_char, true),
        _ => return,
    };
    let patterns = match pattern.as_ref() {
        Expr::Tuple(items) => items.clone(),
        Expr::Nested(item) => vec![(**item).clone()],
        _ => return,
    };
    let each = patterns.into_iter().map(|p| {
        let (expr, pattern, escape_char) = (subject.clone(), Box::new(p), escape_char.clone());
        match case_blind {
            true => Expr::ILike { negated, any: false, expr, pattern, escape_char },
            false => Expr::Like { negated, any: false, expr, pattern, escape_char },
        }
    });
    // NOT LIKE ANY: some pattern does not match.
    if let Some(joined) = each.reduce(|a, b| Expr::BinaryOp { left: Box::new(a), op: BinaryOperator::Or, right: Box::new(b) }) {
        *expr = Expr::Nested(Box::new(joined));
    }
}

/// `range(...)` in FROM names its column `id`, as Spark's does.
fn range_ids(table: &mut TableFactor) {
    let TableFactor::Table { name, args: Some(TableFunctionArgs { .. }), alias, .. } = table else { return };
    if !name.to_string().eq_ignore_ascii_case("range") {
        return;
    }
    let alias = alias.clone().unwrap_or(TableAlias { explicit: true, name: Ident::new("range"), columns: vec![], at: None });
    let mut inner = table.clone();
    if let TableFactor::Table { alias: inner_alias, .. } = &mut inner {
        *inner_alias = None;
    }
    let projection = vec![SelectItem::ExprWithAlias { expr: Expr::Identifier(Ident::new("value")), alias: Ident::new("id") }];
    let select = plain_select(projection, inner, vec![]);
    let query = Query { body: Box::new(SetExpr::Select(Box::new(select))), ..empty_query() };
    *table = TableFactor::Derived { lateral: false, subquery: Box::new(query), alias: Some(alias), sample: None };
}

/// Spark statements hela does not run, by their first words, with why or what instead.
const NOT_RUN: &[(&str, &str)] = &[
    ("CACHE TABLE", "hela reads the lake's Parquet as each query runs; CREATE TEMP VIEW names a query"),
    ("CACHE LAZY TABLE", "hela reads the lake's Parquet as each query runs; CREATE TEMP VIEW names a query"),
    ("UNCACHE TABLE", "hela caches no table"),
    ("CLEAR CACHE", "hela caches no table"),
    ("REFRESH", "hela sees what the lake holds when a query starts"),
    ("ADD JAR", "hela runs no JVM code"),
    ("ADD FILE", "name files with --table, or ingest them into the lake"),
    ("ADD ARCHIVE", "name files with --table, or ingest them into the lake"),
    ("LIST JAR", "hela runs no JVM code"),
    ("LIST FILE", "SHOW TABLES lists what hela reads"),
    ("RESET", "hela has no Spark settings"),
    ("ANALYZE TABLE", "the lake's statistics are written as it is ingested"),
    ("DESCRIBE QUERY", "DESCRIBE a view of the query (CREATE TEMP VIEW v AS ...; DESCRIBE v)"),
    ("DESC QUERY", "DESCRIBE a view of the query (CREATE TEMP VIEW v AS ...; DESCRIBE v)"),
    ("DESCRIBE FUNCTION", "docs/spark-functions.md lists each function and its state"),
    ("DESC FUNCTION", "docs/spark-functions.md lists each function and its state"),
    ("DESCRIBE DATABASE", "SHOW TABLES lists what hela reads"),
    ("SHOW DATABASES", "SHOW TABLES lists what hela reads"),
    ("SHOW SCHEMAS", "SHOW TABLES lists what hela reads"),
    ("SHOW VIEWS", "SHOW TABLES lists the views too"),
    ("SHOW PARTITIONS", "the lake is partitioned by source and day; SHOW TABLES lists its tables"),
    ("SHOW TBLPROPERTIES", "DESCRIBE shows a table's columns"),
    ("SHOW CREATE TABLE", "DESCRIBE shows a table's columns"),
    ("MSCK", "hela sees what the lake holds when a query starts"),
    ("USE", "hela has one catalog: name tables without a database"),
];

/// The error for a Spark statement hela does not run (naming it), found by its first words
/// (SQL that does not parse, or a parsed statement written back); none for anything else.
pub fn not_run(sql: &str) -> Option<String> {
    sql.split(';').find_map(|statement| {
        let words: Vec<String> = statement.split_whitespace().take(3).map(|w| w.to_ascii_uppercase()).collect();
        let text = words.join(" ");
        NOT_RUN
            .iter()
            .find(|(start, _)| text == *start || text.starts_with(&format!("{start} ")))
            .map(|(start, instead)| format!("`{start}` is a Spark statement hela does not support: {instead}"))
    })
}

/// The error for `SET spark.…` (a Spark setting), which hela has no use for.
pub fn spark_setting(statement: &Statement) -> Option<String> {
    let Statement::Statement(inner) = statement else { return None };
    let ast::Statement::Set(ast::Set::SingleAssignment { variable, .. }) = inner.as_ref() else { return None };
    let name = variable.to_string();
    name.to_ascii_lowercase()
        .starts_with("spark.")
        .then(|| format!("SET {name}: hela does not support Spark's settings (it has no executors, shuffle or session time zone to set; times are UTC)"))
}
