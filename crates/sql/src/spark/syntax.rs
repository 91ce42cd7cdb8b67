//! Spark syntax DataFusion reads differently: `RLIKE`/`REGEXP`, temporary views and
//! 0-based array subscripts.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, AccessExpr, BinaryOperator, Expr, Subscript, Value, ValueWithSpan, visit_expressions_mut,
};

/// Turns `x RLIKE p` and `x REGEXP p` (a regular expression found anywhere in `x`, as
/// Spark's) into DataFusion's regular-expression match `x ~ p` (`!~` when negated).
pub fn rewrite_rlike(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let Expr::RLike { negated, expr: subject, pattern, .. } = expr {
                let op = if *negated { BinaryOperator::PGRegexNotMatch } else { BinaryOperator::PGRegexMatch };
                let left = std::mem::replace(subject, Box::new(Expr::value(Value::Null)));
                let right = std::mem::replace(pattern, Box::new(Expr::value(Value::Null)));
                *expr = Expr::BinaryOp { left, op, right };
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// Makes `CREATE [OR REPLACE] TEMP VIEW` an ordinary view: every view of a hela session
/// lives only as long as the session, which is what Spark's temporary views are.
pub fn make_temporary_views_plain(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement
        && let ast::Statement::CreateView(view) = inner.as_mut()
    {
        view.temporary = false;
    }
}

/// Makes array subscripts 0-based as in Spark (`split(Image, '\\\\')[0]` is the first part):
/// DataFusion counts from 1, so every index that is not a string (a map key or field name)
/// is moved up by one.
pub fn make_subscripts_zero_based(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let Expr::CompoundFieldAccess { access_chain, .. } = expr {
                for access in access_chain {
                    if let AccessExpr::Subscript(Subscript::Index { index }) = access {
                        shift_index(index);
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

fn shift_index(index: &mut Expr) {
    match index {
        Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(_) | Value::DoubleQuotedString(_), .. }) => {}
        // The largest index names no element either way (Spark answers NULL), so it stays.
        Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n.parse::<i64>().is_ok() => {
            if let Some(shifted) = n.parse::<i64>().ok().and_then(|i| i.checked_add(1)) {
                *n = shifted.to_string();
            }
        }
        other => {
            let left = std::mem::replace(other, Expr::value(Value::Null));
            *other = Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(left),
                op: BinaryOperator::Plus,
                right: Box::new(Expr::value(Value::Number("1".into(), false))),
            }));
        }
    }
}
