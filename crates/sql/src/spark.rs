//! Spark SQL conventions DataFusion does not share, applied to parsed statements: backslash
//! escapes in string literals, `RLIKE`/`REGEXP`, temporary views, a projection that names
//! the same column twice, and column names written in another case than the data's.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr, Ident, SelectItem, SetExpr, Value, ValueWithSpan, visit_expressions_mut};

/// Ends the internal name of a repeated output column; the name is cut here when results
/// are written, so both columns carry the name the query gave them.
pub const REPEAT_MARK: char = '\u{1}';

/// Applies Spark's reading of string literals to every literal of `statement`: `\\` is one
/// backslash, `\'` `\"` `\n` `\t` `\r` `\b` `\0` `\Z` `\uXXXX` are what they are in Spark, `\%`
/// and `\_` stay escaped for LIKE, and a backslash before any other character is dropped.
pub fn unescape_string_literals(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s) | Value::DoubleQuotedString(s), .. }) = expr
                && s.contains('\\')
            {
                *s = unescape(s);
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => out.push('\\'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('Z') => out.push('\u{1a}'),
            Some(kept @ ('%' | '_')) => {
                out.push('\\');
                out.push(kept);
            }
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4).and_then(char::from_u32) {
                    Some(unicode) => {
                        out.push(unicode);
                        chars.nth(3);
                    }
                    None => out.push('u'),
                }
            }
            Some(other) => out.push(other),
        }
    }
    out
}

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

/// Gives each repeat of an output column of the top-level SELECT (`SELECT o.User, o.User`)
/// an internal name ending in [`REPEAT_MARK`], since DataFusion wants unique names.
pub fn name_repeated_columns(statement: &mut Statement) {
    let Statement::Statement(inner) = statement else { return };
    let ast::Statement::Query(query) = inner.as_mut() else { return };
    let SetExpr::Select(select) = query.body.as_mut() else { return };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(expr) = item else { continue };
        let count = seen.entry(expr.to_string()).or_default();
        *count += 1;
        if *count > 1 {
            let name = match &*expr {
                Expr::Identifier(ident) => ident.value.clone(),
                Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
                other => other.to_string(),
            };
            let alias = Ident::new(format!("{name}{REPEAT_MARK}{count}"));
            *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias };
        }
    }
}

/// What to do about a column DataFusion could not find.
#[derive(Debug, PartialEq, Eq)]
pub enum CaseFix {
    /// The data spells it `to`: rename `from` and plan again.
    Rename { from: String, to: String },
    /// Several columns differ from it only in case and none matches exactly.
    Ambiguous(String),
    /// Not a question of case.
    NotCase,
}

/// Looks at a planning error for a column that exists in another case (`o.LogonID` where the
/// data has `LogonId`), as Spark resolves column names without regard to case.
pub fn case_fix(error: &DataFusionError) -> CaseFix {
    let DataFusionError::SchemaError(schema_error, _) = error.find_root() else { return CaseFix::NotCase };
    let SchemaError::FieldNotFound { field, valid_fields } = schema_error.as_ref() else { return CaseFix::NotCase };
    let same_relation = |c: &datafusion::common::Column| match (&field.relation, &c.relation) {
        (Some(wanted), Some(have)) => wanted.to_string().eq_ignore_ascii_case(&have.to_string()),
        _ => true,
    };
    let mut names: Vec<&str> = valid_fields
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(&field.name) && same_relation(c))
        .map(|c| c.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => CaseFix::NotCase,
        [only] => CaseFix::Rename { from: field.name.clone(), to: only.to_string() },
        several => {
            let listed: Vec<String> = several.iter().map(|n| format!("`{n}`")).collect();
            CaseFix::Ambiguous(format!(
                "column `{}` is ambiguous: {} differ only in case; write the one you mean as the data spells it",
                field.name,
                listed.join(", ")
            ))
        }
    }
}

/// Renames every identifier (or identifier part) spelled `from` to `to`.
pub fn rename_identifier(statement: &mut Statement, from: &str, to: &str) {
    if let Statement::Statement(inner) = statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            match expr {
                Expr::Identifier(ident) if ident.value == from => ident.value = to.to_string(),
                Expr::CompoundIdentifier(parts) => {
                    parts.iter_mut().filter(|p| p.value == from).for_each(|p| p.value = to.to_string())
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// The name a result column is shown with.
pub fn shown_name(name: &str) -> &str {
    name.split(REPEAT_MARK).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_as_spark_reads_literals() {
        assert_eq!(unescape(r"c:\\windows\\system32"), r"c:\windows\system32");
        assert_eq!(unescape(r"%\\services.exe"), r"%\services.exe");
        assert_eq!(unescape(r"50\% \_x \'q\' \n\u0041\q"), "50\\% \\_x 'q' \nAq");
        assert_eq!(unescape(r"\u00"), "u00");
        assert_eq!(unescape("end\\"), "end\\");
    }
}
