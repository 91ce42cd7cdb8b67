//! Comparisons of text with numbers, division, and `concat` of arrays.
//!
//! Spark reads text compared with a number as a number and, in its ANSI mode, fails the
//! whole query on the first value that is not one (`IpPort = 0` over a column holding
//! `-`). A hunt over real logs means the rows whose text is that number, so hela reads text
//! that is not a number as null: the comparison is not true, the query runs.
//!
//! Spark's `/` divides whole numbers as fractions (`3 / 2` is 1.5; `div` is whole-number
//! division), where DataFusion's would give 1.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{Between, InList};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, TryCast};
use datafusion::optimizer::AnalyzerRule;

use super::functions::is_text;

/// Wraps the text side of a text-number comparison (`=`, `<>`, `<`, `<=`, `>`, `>=`,
/// `BETWEEN`, `IN`) in `TRY_CAST(trim(text) AS number)`. Runs before type coercion, so
/// only comparisons the query wrote are touched, never an explicit `CAST`.
#[derive(Debug, Default)]
pub struct LenientTextNumberComparison;

impl AnalyzerRule for LenientTextNumberComparison {
    fn name(&self) -> &str {
        "lenient_text_number_comparison"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        // The comparisons keep their boolean type: only the nodes changed need new schemas.
        rewrite_expressions(plan, rewrite, Schemas::OfChanged)
    }
}

/// Which nodes' schemas are made again after a rewrite.
#[derive(Clone, Copy, PartialEq)]
enum Schemas {
    /// Those whose expressions changed (the rewrite keeps their types).
    OfChanged,
    /// Every node's (a changed type reaches every node above the change).
    All,
}

/// Rewrites every expression of `plan` with `rewrite` (given the schema of the node's
/// inputs) and makes again the `schemas` that need it.
fn rewrite_expressions(plan: LogicalPlan, rewrite: fn(Expr, &DFSchema) -> Transformed<Expr>, schemas: Schemas) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let inputs = node.inputs();
        if inputs.is_empty() {
            return Ok(Transformed::no(node));
        }
        let mut schema = DFSchema::empty();
        inputs.iter().for_each(|input| schema.merge(input.schema()));
        let rewritten = node.map_expressions(|expr| expr.transform_up(|e| Ok(rewrite(e, &schema))))?;
        match rewritten.transformed || schemas == Schemas::All {
            true => rewritten.map_data(|plan| plan.recompute_schema()),
            false => Ok(rewritten),
        }
    })
    .data()
}

/// Rewrites of `plan` that change types, so every schema above them: `/` of two whole
/// numbers divides their values as doubles, and `concat` of arrays joins the arrays (where
/// DataFusion's would write them as text), as Spark's do. Applied to each statement's plan
/// as it is made (not as an analyzer rule), since the result's type changes.
pub fn typed_rewrites(plan: LogicalPlan) -> Result<LogicalPlan> {
    let wanted = |node: &LogicalPlan| {
        let found = node.apply_expressions(|expr| {
            expr.apply(|e| match e {
                Expr::BinaryExpr(BinaryExpr { op: Operator::Divide, .. }) => Ok(TreeNodeRecursion::Stop),
                Expr::ScalarFunction(f) if f.name() == "concat" => Ok(TreeNodeRecursion::Stop),
                _ => Ok(TreeNodeRecursion::Continue),
            })
        });
        Ok(if matches!(found, Ok(TreeNodeRecursion::Stop)) { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    };
    // Most statements have neither: their plans are left as they are, schemas and all.
    if plan.apply_with_subqueries(wanted)? != TreeNodeRecursion::Stop {
        return Ok(plan);
    }
    rewrite_expressions(plan, typed_rewrite, Schemas::All)
}

/// The rewrites of [`typed_rewrites`] applied to one expression over `schema` (a lambda's
/// body).
pub fn typed_rewrites_of(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    expr.transform_up(|e| Ok(typed_rewrite(e, schema))).data()
}

fn typed_rewrite(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right })
            if type_of(&left, schema).is_some_and(|t| t.is_integer()) && type_of(&right, schema).is_some_and(|t| t.is_integer()) =>
        {
            let left = Expr::Cast(datafusion::logical_expr::Cast::new(left, DataType::Float64));
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), Operator::Divide, right)))
        }
        Expr::ScalarFunction(f) if f.name() == "concat" && !f.args.is_empty() && f.args.iter().all(|a| type_of(a, schema).is_some_and(|t| is_list(&t))) => {
            Transformed::yes(datafusion::functions_nested::expr_fn::array_concat(f.args))
        }
        other => Transformed::no(other),
    }
}

fn is_list(data_type: &DataType) -> bool {
    matches!(data_type, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

/// The number type text is read as when compared with a value of `other` type.
fn number_type(other: &DataType) -> Option<DataType> {
    if other.is_integer() {
        Some(DataType::Int64)
    } else if other.is_floating() || matches!(other, DataType::Decimal128(..) | DataType::Decimal256(..)) {
        Some(DataType::Float64)
    } else {
        None
    }
}

fn type_of(expr: &Expr, schema: &DFSchema) -> Option<DataType> {
    expr.get_type(schema).ok()
}

/// `TRY_CAST(trim(expr) AS to)`.
fn read_as_number(expr: Expr, to: DataType) -> Expr {
    let trimmed = datafusion::functions::string::btrim().call(vec![expr]);
    Expr::TryCast(TryCast::new(Box::new(trimmed), to))
}

/// When `text` is text and `other` a number, `text` read as that number.
fn lenient_side(text: Expr, other: &Expr, schema: &DFSchema) -> Transformed<Expr> {
    let target = type_of(&text, schema).filter(is_text).and(type_of(other, schema)).and_then(|t| number_type(&t));
    match target {
        Some(to) => Transformed::yes(read_as_number(text, to)),
        None => Transformed::no(text),
    }
}

fn rewrite(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if is_comparison(op) => {
            let left_side = lenient_side(*left, &right, schema);
            let right_side = lenient_side(*right, &left_side.data, schema);
            let transformed = left_side.transformed || right_side.transformed;
            let expr = Expr::BinaryExpr(BinaryExpr::new(Box::new(left_side.data), op, Box::new(right_side.data)));
            Transformed::new_transformed(expr, transformed)
        }
        Expr::Between(Between { expr, negated, low, high }) => {
            let subject = lenient_side(*expr, &low, schema);
            let low = lenient_side(*low, &subject.data, schema);
            let high = lenient_side(*high, &subject.data, schema);
            let transformed = subject.transformed || low.transformed || high.transformed;
            let between = Between::new(Box::new(subject.data), negated, Box::new(low.data), Box::new(high.data));
            Transformed::new_transformed(Expr::Between(between), transformed)
        }
        Expr::InList(InList { expr, list, negated }) => {
            let subject = match list.first() {
                Some(first) => lenient_side(*expr, first, schema),
                None => Transformed::no(*expr),
            };
            let items: Vec<_> = list.into_iter().map(|item| lenient_side(item, &subject.data, schema)).collect();
            let transformed = subject.transformed || items.iter().any(|i| i.transformed);
            let list = items.into_iter().map(|i| i.data).collect();
            Transformed::new_transformed(Expr::InList(InList::new(Box::new(subject.data), list, negated)), transformed)
        }
        other => Transformed::no(other),
    }
}

fn is_comparison(op: Operator) -> bool {
    matches!(op, Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq)
}

/// DataFusion's analyzer rules with this one placed before type coercion.
pub fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules = datafusion::optimizer::Analyzer::new().rules;
    let coercion = rules.iter().position(|r| r.name() == "type_coercion").unwrap_or(0);
    rules.insert(coercion, Arc::new(LenientTextNumberComparison));
    rules
}
