//! Reading the arguments of the rarity and outlier functions: a table, then settings.

use std::sync::Arc;

use datafusion::catalog::TableFunctionArgs;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{AggregateUDF, Expr, ExprFunctionExt, WindowFunctionDefinition};
use hela_sql::{constant, constant_number, table_argument};

/// A call's arguments: its table as a frame to build on, and its settings.
pub struct Call {
    /// The function's name and usage, for errors.
    pub usage: &'static str,
    pub table: DataFrame,
    /// The settings after the table, each a constant (NULL where left out).
    settings: Vec<ScalarValue>,
}

impl Call {
    /// Reads the table (the first argument) of a call of the function used as `usage`.
    pub fn new(args: &TableFunctionArgs, usage: &'static str) -> Result<Call> {
        let Some(plan) = table_argument(args, 0) else {
            return plan_err!("{usage}: the first argument is the table, `TABLE(t)`, a name or a subquery");
        };
        let Some(state) = args.session().as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{usage}: only in a SQL session");
        };
        let mut settings = Vec::new();
        for (i, expr) in args.exprs()[1..].iter().enumerate() {
            let Some(value) = constant(expr) else { return plan_err!("{usage}: setting {} must be a constant, not `{expr}`", i + 1) };
            settings.push(value);
        }
        Ok(Call { usage, table: DataFrame::new(state.clone(), plan), settings })
    }

    /// Setting `i`, unless it is left out or NULL.
    fn value(&self, i: usize) -> Option<&ScalarValue> {
        self.settings.get(i).filter(|value| !value.is_null())
    }

    /// Setting `i` as a list of column names (`'a, b'`), each checked against the table;
    /// empty when not given.
    pub fn columns(&self, i: usize) -> Result<Vec<String>> {
        let Some(value) = self.value(i) else { return Ok(Vec::new()) };
        let ScalarValue::Utf8(Some(text)) = value else { return plan_err!("{}: setting {} names columns, as text", self.usage, i + 1) };
        let names: Vec<String> = text.split(',').map(|c| c.trim().trim_matches('`').to_string()).filter(|c| !c.is_empty()).collect();
        for name in &names {
            if self.table.schema().inner().field_with_name(name).is_err() {
                return plan_err!("{}: the table has no column `{name}`", self.usage);
            }
        }
        Ok(names)
    }

    /// Setting `i` as text, if given.
    pub fn text(&self, i: usize) -> Result<Option<String>> {
        match self.value(i) {
            None => Ok(None),
            Some(ScalarValue::Utf8(Some(text))) => Ok(Some(text.clone())),
            Some(other) => plan_err!("{}: setting {} is text, not {other}", self.usage, i + 1),
        }
    }

    /// Setting `i` as a number, `default` when not given.
    pub fn number(&self, i: usize, default: f64) -> Result<f64> {
        let Some(value) = self.value(i) else { return Ok(default) };
        match constant_number(value) {
            Some(x) if x.is_finite() => Ok(x),
            _ => plan_err!("{}: setting {} is a number, not {value}", self.usage, i + 1),
        }
    }

    /// Fails when more than `n` settings were given.
    pub fn at_most(&self, n: usize) -> Result<()> {
        if self.settings.len() > n {
            return plan_err!("{}: {} settings given, at most {n} taken", self.usage, self.settings.len());
        }
        Ok(())
    }
}

/// `function(arg) OVER (PARTITION BY partition)`: an aggregate over each row's group.
pub fn over(function: Arc<AggregateUDF>, arg: Expr, partition: &[Expr]) -> Result<Expr> {
    Expr::from(WindowFunction::new(WindowFunctionDefinition::AggregateUDF(function), vec![arg])).partition_by(partition.to_vec()).build()
}
