//! Spark's naming of columns: repeated output columns keep their name, a nested field is
//! named after the field, and column names resolve without regard to case.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, Expr, Ident, Query, Select, SelectItem, SetExpr, TableFactor, VisitMut, VisitorMut, visit_expressions_mut,
};

/// Ends the internal name of a repeated output column; the name is cut here when results
/// are written, so both columns carry the name the query gave them.
pub const REPEAT_MARK: char = '\u{1}';

/// `expr` with every cast replaced by what it casts.
fn without_casts(expr: &Expr) -> Expr {
    let mut uncast = expr.clone();
    let _ = visit_expressions_mut(&mut uncast, |e| {
        if let Expr::Cast { expr: inner, .. } = e {
            *e = std::mem::replace(inner.as_mut(), Expr::value(ast::Value::Null));
        }
        ControlFlow::<()>::Continue(())
    });
    uncast
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
        // DataFusion names a cast after what it casts: `hash(1)` and `hash(1L)` are one name.
        let uncast = without_casts(expr).to_string();
        let count = seen.entry(uncast.clone()).or_default();
        *count += 1;
        if *count > 1 {
            let name = match &*expr {
                Expr::Identifier(ident) => ident.value.clone(),
                Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
                _ => uncast,
            };
            let alias = Ident::new(format!("{name}{REPEAT_MARK}{count}"));
            *item = SelectItem::ExprWithAlias { expr: expr.clone(), alias };
        }
    }
}

/// Names each selected nested field after the field, as Spark does: `event_data.Image` and
/// `e.event_data.Image` come out as `Image`, in subqueries and views as well.
pub fn name_nested_fields(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement {
        let _ = inner.visit(&mut NestedFieldNamer);
    }
}

struct NestedFieldNamer;

impl VisitorMut for NestedFieldNamer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_fields_in(query.body.as_mut());
        ControlFlow::Continue(())
    }
}

fn name_fields_in(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => name_fields_of_select(select),
        SetExpr::SetOperation { left, right, .. } => {
            name_fields_in(left);
            name_fields_in(right);
        }
        _ => {}
    }
}

fn name_fields_of_select(select: &mut Select) {
    let relations = relation_names(select);
    // A field name given again (`a.id, b.id`) is marked as a repeat, as Spark shows both.
    let mut given: HashMap<String, usize> = HashMap::new();
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item else { continue };
        let qualified_column =
            parts.len() == 2 && relations.iter().any(|r| r.eq_ignore_ascii_case(&parts[0].value));
        if qualified_column {
            continue;
        }
        if let Some(mut field) = parts.last().cloned() {
            let count = given.entry(field.value.clone()).or_default();
            *count += 1;
            if *count > 1 {
                field = Ident::new(format!("{}{REPEAT_MARK}{count}", field.value));
            }
            *item = SelectItem::ExprWithAlias { expr: Expr::CompoundIdentifier(parts.clone()), alias: field };
        }
    }
}

/// The names the FROM clause gives its relations: aliases, or else table names.
fn relation_names(select: &Select) -> Vec<String> {
    let factors = select.from.iter().flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    factors
        .filter_map(|factor| match factor {
            TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
                Some(alias.name.value.clone())
            }
            TableFactor::Table { name, .. } => name.0.last().and_then(|part| part.as_ident()).map(|i| i.value.clone()),
            _ => None,
        })
        .collect()
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

/// Spark's lateral column aliases (`SELECT lower(x) AS l, l LIKE 'a%'`): when planning
/// failed because a column named as an earlier item of a select list is not found, that
/// item's expression takes the name's place in the later items. Whether anything changed.
pub fn lateral_alias(statement: &mut Statement, error: &DataFusionError) -> bool {
    let DataFusionError::SchemaError(schema_error, _) = error.find_root() else { return false };
    let SchemaError::FieldNotFound { field, .. } = schema_error.as_ref() else { return false };
    if field.relation.is_some() {
        return false;
    }
    struct Lateral<'a> {
        name: &'a str,
        changed: bool,
    }
    impl VisitorMut for Lateral<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = query.body.as_mut() {
                let mut defined: Option<Expr> = None;
                for item in &mut select.projection {
                    match item {
                        SelectItem::ExprWithAlias { expr, alias } if defined.is_none() && alias.value == self.name => defined = Some(expr.clone()),
                        SelectItem::ExprWithAlias { .. } if defined.is_none() => {}
                        SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                            let Some(value) = &defined else { continue };
                            let _ = visit_expressions_mut(expr, |e| {
                                if matches!(e, Expr::Identifier(ident) if ident.value == self.name) {
                                    *e = Expr::Nested(Box::new(value.clone()));
                                    self.changed = true;
                                }
                                ControlFlow::<()>::Continue(())
                            });
                        }
                        _ => {}
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let Statement::Statement(inner) = statement else { return false };
    let mut lateral = Lateral { name: &field.name, changed: false };
    let _ = inner.visit(&mut lateral);
    lateral.changed
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

/// Names the columns of a struct unnested in the select list (Spark's `inline`) after the
/// struct's fields, as Spark does: `UNNEST(...).a` is shown as `a`.
pub fn name_inlined_fields(plan: LogicalPlan) -> datafusion::common::Result<LogicalPlan> {
    let inlined = |name: &str| name.starts_with("UNNEST(").then(|| name.rsplit_once(").")).flatten().map(|(_, field)| field.to_string());
    if !plan.schema().fields().iter().any(|f| inlined(f.name()).is_some()) {
        return Ok(plan);
    }
    let columns: Vec<datafusion::logical_expr::Expr> = plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = datafusion::logical_expr::Expr::Column(datafusion::common::Column::from((qualifier, field)));
            match inlined(field.name()) {
                Some(name) => column.alias(name),
                None => column,
            }
        })
        .collect();
    datafusion::logical_expr::LogicalPlanBuilder::from(plan).project(columns)?.build()
}
