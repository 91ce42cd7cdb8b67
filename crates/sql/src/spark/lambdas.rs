//! Spark's higher-order functions (`transform(a, x -> x + 1)`, `filter`, `exists`,
//! `aggregate`, `array_sort` with a comparator, `zip_with`, `map_filter`, ...) in terms
//! DataFusion plans: it plans no lambdas, so each such call becomes one call of
//! [`HIGHER_ORDER`](super::functions::HIGHER_ORDER) carrying the lambdas as SQL text over
//! fixed names (`"__p0"`, `"__p1"` for the parameters, `"__outer_0"`... for the columns of
//! the query the body reads), which that function plans against the elements' types.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, LambdaFunction, ObjectName, SelectItem, Value, VisitMut, VisitorMut,
    visit_expressions_mut,
};
use serde::{Deserialize, Serialize};

use super::functions::HIGHER_ORDER;

/// One higher-order call as [`HIGHER_ORDER`](super::functions::HIGHER_ORDER) reads it from
/// its first argument: the Spark function and its lambdas. The call's other arguments are
/// the function's own (arrays, maps, a start value), then the outer columns the lambdas read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HigherOrderCall {
    /// Spark's name of the function, lower case.
    pub function: String,
    /// Each lambda's parameter count and body (SQL over `"__p0"`... and `"__outer_0"`...).
    pub lambdas: Vec<LambdaText>,
    /// How many of the call's arguments after the first are the function's own.
    pub inputs: usize,
}

/// A lambda as text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LambdaText {
    pub params: usize,
    pub body: String,
}

/// The name a lambda's parameter `index` goes by in its body's text.
pub fn parameter_name(index: usize) -> String {
    format!("__p{index}")
}

/// The name the outer value `index` (a column the body reads) goes by in its body's text.
pub fn outer_name(index: usize) -> String {
    format!("__outer_{index}")
}

/// The inputs and lambdas each higher-order function takes: (name, inputs, lambda parameter
/// counts allowed for its first lambda, whether a second lambda may follow).
const SHAPES: &[(&str, usize, &[usize], bool)] = &[
    ("transform", 1, &[1, 2], false),
    ("filter", 1, &[1, 2], false),
    ("exists", 1, &[1], false),
    ("forall", 1, &[1], false),
    ("aggregate", 2, &[2], true),
    ("reduce", 2, &[2], true),
    ("array_sort", 1, &[2], false),
    ("zip_with", 2, &[2], false),
    ("map_filter", 1, &[2], false),
    ("transform_keys", 1, &[2], false),
    ("transform_values", 1, &[2], false),
    ("map_zip_with", 2, &[3], false),
];

/// Rewrites every call with lambda arguments in `statement`; an error names a lambda
/// where no function takes one, or a lambda of the wrong shape.
pub fn plan_lambdas(statement: &mut Statement) -> Result<(), String> {
    let Statement::Statement(inner) = statement else { return Ok(()) };
    // A selected call keeps its text as its column's name.
    let _ = inner.visit(&mut NameSelectedCalls);
    let mut error = None;
    let _ = visit_expressions_mut(inner.as_mut(), |expr| match rewrite(expr) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            error = Some(e);
            ControlFlow::Break(())
        }
    });
    error.map_or(Ok(()), Err)
}

struct NameSelectedCalls;

impl VisitorMut for NameSelectedCalls {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut datafusion::sql::sqlparser::ast::Select) -> ControlFlow<()> {
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(expr) = item
                && has_lambda(expr)
            {
                let alias = Ident::with_quote('"', expr.to_string());
                *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias };
            }
        }
        ControlFlow::Continue(())
    }
}

fn has_lambda(expr: &mut Expr) -> bool {
    let mut found = false;
    let _ = visit_expressions_mut(expr, |e| {
        found |= matches!(e, Expr::Lambda(_));
        ControlFlow::<()>::Continue(())
    });
    found
}

/// One call with lambda arguments, rewritten; anything else is left as it is.
fn rewrite(expr: &mut Expr) -> Result<(), String> {
    let Expr::Function(function) = expr else { return Ok(()) };
    let FunctionArguments::List(list) = &function.args else { return Ok(()) };
    let lambda_at = |arg: &FunctionArg| matches!(arg, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(_))));
    let Some(first_lambda) = list.args.iter().position(lambda_at) else { return Ok(()) };
    let name = function.name.to_string().to_ascii_lowercase();
    let Some(&(_, inputs, params, second)) = SHAPES.iter().find(|(n, ..)| *n == name) else {
        return Err(format!("{name}(...) takes no lambda (x -> ...); the functions that do are {}", SHAPES.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")));
    };
    let usage = || format!("{name} takes {inputs} value{} then a lambda of {} parameter(s){}", if inputs == 1 { "" } else { "s" }, params.iter().map(usize::to_string).collect::<Vec<_>>().join(" or "), if second { ", then optionally a lambda of 1 parameter" } else { "" });
    if first_lambda != inputs || list.duplicate_treatment.is_some() || !list.clauses.is_empty() || function.over.is_some() {
        return Err(format!("{name}(...): {}", usage()));
    }
    let mut values = Vec::new();
    let mut lambdas = Vec::new();
    for (position, arg) in list.args.iter().enumerate() {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(lambda))) if position >= inputs => lambdas.push(lambda.clone()),
            FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) if position < inputs => values.push(value.clone()),
            _ => return Err(format!("{name}(...): {}", usage())),
        }
    }
    let shape_fits = match lambdas.as_slice() {
        [one] => params.contains(&one.params.len()),
        [one, finish] => second && params.contains(&one.params.len()) && finish.params.len() == 1,
        _ => false,
    };
    if !shape_fits {
        return Err(format!("{name}(...): {}", usage()));
    }
    let mut outer = Vec::new();
    let texts = lambdas.into_iter().map(|lambda| lambda_text(lambda, &mut outer)).collect();
    let spec = HigherOrderCall { function: name, lambdas: texts, inputs };
    let spec = serde_json::to_string(&spec).expect("plain data");
    let args = std::iter::once(Expr::value(Value::SingleQuotedString(spec))).chain(values).chain(outer);
    function.name = ObjectName::from(vec![Ident::new(HIGHER_ORDER)]);
    if let FunctionArguments::List(list) = &mut function.args {
        list.args = args.map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect();
    }
    Ok(())
}

/// The body of `lambda` over the fixed names; the outer columns it reads are added to
/// `outer` (once each) and read as `"__outer_N"`.
fn lambda_text(lambda: LambdaFunction, outer: &mut Vec<Expr>) -> LambdaText {
    let names: Vec<String> = lambda.params.iter().map(|p| p.name.value.to_ascii_lowercase()).collect();
    let parameter = |ident: &Ident| names.iter().position(|n| *n == ident.value.to_ascii_lowercase());
    let mut body = *lambda.body;
    let _ = visit_expressions_mut(&mut body, |expr| {
        let replacement = match expr {
            Expr::Identifier(ident) => match parameter(ident) {
                Some(index) => Some(Expr::Identifier(Ident::with_quote('"', parameter_name(index)))),
                None => Some(outer_value(expr.clone(), outer)),
            },
            Expr::CompoundIdentifier(parts) => match parameter(&parts[0]) {
                // A field of a struct parameter.
                Some(index) => {
                    parts[0] = Ident::with_quote('"', parameter_name(index));
                    None
                }
                None => Some(outer_value(expr.clone(), outer)),
            },
            _ => None,
        };
        if let Some(replacement) = replacement {
            *expr = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
    LambdaText { params: names.len(), body: body.to_string() }
}

/// The name in the body of the outer value `value`.
fn outer_value(value: Expr, outer: &mut Vec<Expr>) -> Expr {
    let index = outer.iter().position(|o| *o == value).unwrap_or_else(|| {
        outer.push(value);
        outer.len() - 1
    });
    Expr::Identifier(Ident::with_quote('"', outer_name(index)))
}
