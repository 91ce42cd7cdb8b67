//! Which partitions of a lake table can hold rows a scan's filters accept: a partition is
//! a source (the `Channel` text of its rows, when they have one) and a day (the date that
//! starts their `@timestamp`), so filters on those two columns rule partitions out.

use std::collections::HashSet;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

/// What the filters of a scan say about the partitions that can hold matching rows.
#[derive(Debug, Default)]
pub struct Bounds {
    /// `Channel` must be one of these (exact values).
    channels: Option<HashSet<String>>,
    /// `lower(Channel)` must be one of these.
    lower_channels: Option<HashSet<String>>,
    /// `@timestamp` lower and upper bounds (strings, as compared).
    after: Option<String>,
    before: Option<String>,
}

/// A record's source is its `Channel` when it has one, so a file of another source holds no
/// row with that `Channel`; its day is the date that starts its `@timestamp`.
const CHANNEL: &str = "Channel";
const TIMESTAMP: &str = "@timestamp";
/// Days are `YYYY-MM-DD`: the first characters of every `@timestamp` in the partition.
const DAY_LENGTH: usize = 10;

impl Bounds {
    /// What the conjuncts of `filters` say about `Channel` and `@timestamp`.
    pub fn from_filters(filters: &[Expr]) -> Bounds {
        let mut bounds = Bounds::default();
        for filter in filters {
            for conjunct in datafusion::logical_expr::utils::split_conjunction(filter) {
                bounds.learn(conjunct);
            }
        }
        bounds
    }

    fn learn(&mut self, expr: &Expr) {
        match expr {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (column, op, value) = match (text_literal(right), text_literal(left)) {
                    (Some(v), _) => (left.as_ref(), *op, v),
                    (None, Some(v)) => match op.swap() {
                        Some(swapped) => (right.as_ref(), swapped, v),
                        None => return,
                    },
                    _ => return,
                };
                self.learn_comparison(column, op, value);
            }
            Expr::Between(Between { expr, negated: false, low, high }) => {
                if let (Some(low), Some(high)) = (text_literal(low), text_literal(high)) {
                    self.learn_comparison(expr, Operator::GtEq, low);
                    self.learn_comparison(expr, Operator::LtEq, high);
                }
            }
            Expr::InList(list) if !list.negated => {
                let values: Option<HashSet<String>> = list.list.iter().map(text_literal).collect();
                if let Some(values) = values {
                    self.restrict(&list.expr, values);
                }
            }
            _ => {}
        }
    }

    fn learn_comparison(&mut self, column: &Expr, op: Operator, value: String) {
        match op {
            Operator::Eq => self.restrict(column, HashSet::from([value])),
            Operator::Gt | Operator::GtEq if is_column(column, TIMESTAMP) => {
                self.after = Some(self.after.take().map_or(value.clone(), |a| a.max(value)));
            }
            Operator::Lt | Operator::LtEq if is_column(column, TIMESTAMP) => {
                self.before = Some(self.before.take().map_or(value.clone(), |b| b.min(value)));
            }
            _ => {}
        }
    }

    fn restrict(&mut self, column: &Expr, values: HashSet<String>) {
        let slot = if is_column(column, CHANNEL) {
            &mut self.channels
        } else if is_lower_of(column, CHANNEL) {
            &mut self.lower_channels
        } else {
            return;
        };
        *slot = Some(match slot.take() {
            Some(known) => known.intersection(&values).cloned().collect(),
            None => values,
        });
    }

    /// False when no row of the partition (`source`, `day`) can pass the filters.
    pub fn may_hold(&self, source: &str, day: &str) -> bool {
        let channel_ok = self.channels.as_ref().is_none_or(|c| c.contains(source));
        let lower_ok = self.lower_channels.as_ref().is_none_or(|c| c.contains(&source.to_lowercase()));
        channel_ok && lower_ok && self.day_may_hold(day)
    }

    /// Every `@timestamp` of a file of day D starts with D: it is below a bound whose first
    /// characters sort after D's, and above one whose first characters sort before D's.
    fn day_may_hold(&self, day: &str) -> bool {
        if day.len() != DAY_LENGTH || !day.is_ascii() {
            return true;
        }
        let prefix = |bound: &str| -> String { bound.chars().take(DAY_LENGTH).collect() };
        let above_lower = self.after.as_ref().is_none_or(|a| {
            let p = prefix(a);
            day.get(..p.len()).is_none_or(|d| d >= p.as_str())
        });
        let below_upper = self.before.as_ref().is_none_or(|b| {
            let p = prefix(b);
            day.get(..p.len()).is_none_or(|d| d <= p.as_str())
        });
        above_lower && below_upper
    }
}

fn text_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)), _) => Some(s.clone()),
        Expr::Cast(cast) if is_text(cast.field.data_type()) => text_literal(&cast.expr),
        _ => None,
    }
}

/// True for the column itself, or the column cast to another string type (comparisons
/// under any other cast do not compare the stored text).
fn is_column(expr: &Expr, name: &str) -> bool {
    match expr {
        Expr::Column(column) => column.name == name,
        Expr::Cast(cast) if is_text(cast.field.data_type()) => is_column(&cast.expr, name),
        _ => false,
    }
}

fn is_text(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn is_lower_of(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::ScalarFunction(f) if f.name() == "lower" && f.args.len() == 1 && is_column(&f.args[0], name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{ident as col, lit};

    fn holds(filters: Vec<Expr>, source: &str, day: &str) -> bool {
        Bounds::from_filters(&filters).may_hold(source, day)
    }

    #[test]
    fn channel_filters_prune_other_sources() {
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        let f = vec![col(CHANNEL).eq(lit(sysmon)).and(col("EventID").eq(lit(1)))];
        assert!(holds(f.clone(), sysmon, "2020-09-21"));
        assert!(!holds(f, "Security", "2020-09-21"));
        let lower = vec![datafusion::functions::string::expr_fn::lower(col(CHANNEL)).eq(lit("security"))];
        assert!(holds(lower.clone(), "Security", "x"));
        assert!(!holds(lower, sysmon, "x"));
        let listed = vec![col(CHANNEL).in_list(vec![lit("Security"), lit("System")], false)];
        assert!(holds(listed.clone(), "System", "x") && !holds(listed, sysmon, "x"));
        // Other columns and disjunctions prune nothing.
        assert!(holds(vec![col("log_name").eq(lit("Security"))], sysmon, "x"));
        assert!(holds(vec![col(CHANNEL).eq(lit("Security")).or(col("EventID").eq(lit(1)))], sysmon, "x"));
    }

    #[test]
    fn timestamp_ranges_prune_other_days() {
        let window = vec![col(TIMESTAMP).between(lit("2019-05-18 00:00:00.000"), lit("2019-05-19 00:00:00.000"))];
        assert!(holds(window.clone(), "Security", "2019-05-18"));
        assert!(holds(window.clone(), "Security", "2019-05-19"));
        assert!(!holds(window.clone(), "Security", "2019-05-20"));
        assert!(!holds(window.clone(), "Security", "2019-05-17"));
        assert!(holds(window, "Security", "unknown"));
        let after = vec![col(TIMESTAMP).gt(lit("2020"))];
        assert!(holds(after.clone(), "Security", "2020-01-01") && !holds(after, "Security", "2019-12-31"));
    }
}
