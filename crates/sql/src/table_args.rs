//! Tables as arguments of table functions: `pagerank(TABLE(edges))`, as Spark writes it, or
//! `pagerank((SELECT src, dst FROM logons))`, or a bare table name `pagerank(edges)`.
//!
//! DataFusion passes a table function its arguments as expressions, and a subquery there
//! may give one column only. So before a statement is planned, each such argument is
//! planned on its own ([`take_first_table_argument`]), kept in the session's
//! [`TableArguments`] under a key, and replaced by that key as a text literal; the function
//! finds its plan again with [`table_argument`].

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::catalog::TableFunctionArgs;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query, SelectItem, SetExpr, TableFactor, Value, VisitMut, VisitorMut,
};
use parking_lot::Mutex;

use crate::spark::{empty_query, plain_select};

/// What a key starts with; no table function takes text like it for anything else.
const KEY_PREFIX: &str = "\u{1}hela table argument ";

/// The plans of table arguments of the statements being planned, by key. Kept in the
/// session's configuration, so a table function finds it from the session it is called in.
#[derive(Debug, Default)]
pub struct TableArguments {
    plans: Mutex<HashMap<String, LogicalPlan>>,
    next: AtomicU64,
}

impl TableArguments {
    /// A key no other argument of any session sharing this one has.
    pub(crate) fn new_key(&self) -> String {
        format!("{KEY_PREFIX}{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn insert(&self, key: String, plan: LogicalPlan) {
        self.plans.lock().insert(key, plan);
    }

    pub(crate) fn remove(&self, key: &str) {
        self.plans.lock().remove(key);
    }

    fn get(&self, key: &str) -> Option<LogicalPlan> {
        self.plans.lock().get(key).cloned()
    }
}

/// Removes the plans of one statement's table arguments once it is planned.
pub(crate) struct PlannedArguments {
    pub(crate) arguments: Arc<TableArguments>,
    pub(crate) keys: Vec<String>,
}

impl Drop for PlannedArguments {
    fn drop(&mut self) {
        for key in &self.keys {
            self.arguments.remove(key);
        }
    }
}

/// The plan of argument `index` of a table function call, when that argument is a table.
pub fn table_argument(args: &TableFunctionArgs, index: usize) -> Option<LogicalPlan> {
    let Some(Expr::Literal(ScalarValue::Utf8(Some(key)), _)) = args.exprs().get(index) else { return None };
    if !key.starts_with(KEY_PREFIX) {
        return None;
    }
    args.session().config().get_extension::<TableArguments>()?.get(key)
}

/// The constant a table function's argument is, when it is one (`-1` and
/// `CAST(1 AS DOUBLE)` too).
pub fn constant(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value.clone()),
        Expr::Negative(inner) => constant(inner)?.arithmetic_negate().ok(),
        Expr::Cast(cast) => constant(&cast.expr)?.cast_to(cast.field.data_type()).ok(),
        Expr::TryCast(cast) => constant(&cast.expr)?.cast_to(cast.field.data_type()).ok(),
        _ => None,
    }
}

/// A constant as a number, when it is one (text that reads as a number is not).
pub fn constant_number(value: &ScalarValue) -> Option<f64> {
    if matches!(value, ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_)) {
        return None;
    }
    match value.cast_to(&arrow::datatypes::DataType::Float64).ok()? {
        ScalarValue::Float64(Some(x)) => Some(x),
        _ => None,
    }
}

/// Why SQL that does not parse fails, when it gives a table function a query as Spark's
/// `TABLE(SELECT ...)`, which hela does not read: the subquery form does the same.
pub fn unread_form(sql: &str) -> Option<String> {
    let compact: String = sql.to_ascii_uppercase().split_whitespace().collect();
    ["TABLE(SELECT", "TABLE(WITH"].iter().any(|form| compact.contains(form)).then(|| {
        "a query as a table argument is written as a subquery here, `f((SELECT ...))`, not Spark's `f(TABLE(SELECT ...))`; `TABLE(name)` is read".to_string()
    })
}

/// Finds the first argument of a table function in `statement` that is a table (`TABLE(t)`,
/// a subquery, or a name), puts `key` in its place as text, and returns
/// the query that reads it.
pub(crate) fn take_first_table_argument(statement: &mut Statement, key: &str) -> Option<Statement> {
    let Statement::Statement(inner) = statement else { return None };
    let mut finder = TakeArgument { key, query: None };
    let _ = inner.visit(&mut finder);
    finder.query.map(|query| Statement::Statement(Box::new(ast::Statement::Query(Box::new(query)))))
}

struct TakeArgument<'a> {
    key: &'a str,
    query: Option<Query>,
}

impl VisitorMut for TakeArgument<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { args: Some(args), .. } = table else { return ControlFlow::Continue(()) };
        for arg in args.args.iter_mut() {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) = arg else { continue };
            if let Some(query) = table_query(expr) {
                *expr = ast::Expr::Value(Value::SingleQuotedString(self.key.to_string()).into());
                self.query = Some(query);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// The query an argument stands for, when it is a table.
fn table_query(expr: &ast::Expr) -> Option<Query> {
    match expr {
        ast::Expr::Subquery(query) => Some(*query.clone()),
        ast::Expr::Nested(inner) => table_query(inner),
        ast::Expr::Identifier(name) => Some(whole_table(ObjectName::from(vec![name.clone()]))),
        ast::Expr::CompoundIdentifier(parts) => Some(whole_table(ObjectName::from(parts.clone()))),
        ast::Expr::Function(function) if function.name.to_string().eq_ignore_ascii_case("table") => {
            let FunctionArguments::List(list) = &function.args else { return None };
            match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))] => table_query(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `SELECT * FROM name`.
fn whole_table(name: ObjectName) -> Query {
    let table = TableFactor::Table {
        name,
        alias: None,
        args: None,
        with_hints: vec![],
        version: None,
        partitions: vec![],
        with_ordinality: false,
        json_path: None,
        sample: None,
        index_hints: vec![],
    };
    let all = SelectItem::Wildcard(ast::WildcardAdditionalOptions::default());
    Query { body: Box::new(SetExpr::Select(Box::new(plain_select(vec![all], table, vec![])))), ..empty_query() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Session;

    fn taken(sql: &str) -> (String, Option<String>) {
        let mut statement = Session::parse(sql).unwrap().remove(0).0;
        let query = take_first_table_argument(&mut statement, "K");
        (statement.to_string(), query.map(|q| q.to_string()))
    }

    #[test]
    fn each_form_of_table_argument_is_taken() {
        for (sql, query) in [
            ("SELECT * FROM pagerank(TABLE(edges), 0.15)", "SELECT * FROM edges"),
            ("SELECT * FROM pagerank((SELECT src, dst FROM e))", "SELECT src, dst FROM e"),
            ("SELECT * FROM pagerank(edges)", "SELECT * FROM edges"),
            ("SELECT * FROM pagerank(db.edges)", "SELECT * FROM db.edges"),
        ] {
            let (rest, taken) = taken(sql);
            assert_eq!(taken.as_deref(), Some(query), "{sql}");
            assert!(rest.contains("pagerank('K'"), "{rest}");
        }
        assert_eq!(taken("SELECT * FROM range(3)").1, None);
        let unread = Session::parse("SELECT * FROM pagerank(TABLE( select src, dst FROM e))").err().unwrap().to_string();
        assert!(unread.contains("f((SELECT ...))"), "{unread}");
    }
}
