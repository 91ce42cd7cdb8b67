//! Which files of a lake table can hold rows a scan's filters accept: a file's partition is
//! a source (the `Channel` text of its rows, when they have one) and a day (the date that
//! starts their `@timestamp`), and the catalog knows the `EventID`s of most files, so
//! filters on those three columns rule files out before they are opened.

use std::collections::HashSet;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use hela_lake::ChannelFill;

/// What the filters of a scan say about the partitions that can hold matching rows.
#[derive(Debug, Default)]
pub struct Bounds {
    /// Tests of `Channel` every row must pass.
    channel_tests: Vec<ChannelTest>,
    /// `@timestamp` lower and upper bounds (strings, as compared).
    after: Option<String>,
    before: Option<String>,
    /// `EventID` (a number column) must be one of these.
    event_ids: Option<HashSet<i64>>,
}

/// A record's source is its `Channel` when it has one, so a file of another source holds no
/// row with that `Channel`.
pub(crate) use hela_lake::partition::CHANNEL;
/// A record's day is the date that starts its `@timestamp`.
const TIMESTAMP: &str = "@timestamp";
/// Days are `YYYY-MM-DD`: the first characters of every `@timestamp` in the partition.
const DAY_LENGTH: usize = 10;
const EVENT_ID: &str = "EventID";

/// A filter that tests `Channel` alone: `Channel` (or `lower(Channel)`) is one of some
/// texts, written with `=`, `IN`, or `OR` of those.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTest {
    lower: bool,
    values: HashSet<String>,
}

impl ChannelTest {
    /// The test `filter` makes, when it tests `Channel` and nothing else.
    pub fn of(filter: &Expr) -> Option<ChannelTest> {
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => match (text_literal(right), text_literal(left)) {
                (Some(value), _) => ChannelTest::on(left, HashSet::from([value])),
                (None, Some(value)) => ChannelTest::on(right, HashSet::from([value])),
                _ => None,
            },
            Expr::InList(list) if !list.negated => ChannelTest::on(&list.expr, list.list.iter().map(text_literal).collect::<Option<_>>()?),
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
                let (mut either, other) = (ChannelTest::of(left)?, ChannelTest::of(right)?);
                (either.lower == other.lower).then(|| {
                    either.values.extend(other.values);
                    either
                })
            }
            _ => None,
        }
    }

    fn on(column: &Expr, values: HashSet<String>) -> Option<ChannelTest> {
        let lower = if is_column(column, CHANNEL) {
            false
        } else if is_lower_of(column, CHANNEL) {
            true
        } else {
            return None;
        };
        Some(ChannelTest { lower, values })
    }

    /// True when a row whose `Channel` is `source` passes.
    pub fn accepts(&self, source: &str) -> bool {
        if self.lower { self.values.contains(&source.to_lowercase()) } else { self.values.contains(source) }
    }

    /// True when the test passes every row of a file of `source` whose rows' `Channel`s are
    /// as `fill` says, or passes none and [`Bounds::may_hold`] rules the file out: then the
    /// test need not be applied to the rows.
    pub fn settled_by_file(&self, source: &str, fill: Option<ChannelFill>) -> bool {
        match fill {
            Some(ChannelFill::Every | ChannelFill::Absent) => true,
            Some(ChannelFill::Mixed) | None => !self.accepts(source),
        }
    }
}

impl Bounds {
    /// What the conjuncts of `filters` say about `Channel`, `@timestamp` and `EventID`.
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
        if self.learn_event_ids(expr) {
            return;
        }
        if let Some(test) = ChannelTest::of(expr) {
            self.channel_tests.push(test);
            return;
        }
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
                self.learn_timestamp_bound(column, op, value);
            }
            Expr::Between(Between { expr, negated: false, low, high }) => {
                if let (Some(low), Some(high)) = (text_literal(low), text_literal(high)) {
                    self.learn_timestamp_bound(expr, Operator::GtEq, low);
                    self.learn_timestamp_bound(expr, Operator::LtEq, high);
                }
            }
            _ => {}
        }
    }

    fn learn_timestamp_bound(&mut self, column: &Expr, op: Operator, value: String) {
        if !is_column(column, TIMESTAMP) {
            return;
        }
        match op {
            Operator::Gt | Operator::GtEq => self.after = Some(self.after.take().map_or(value.clone(), |a| a.max(value))),
            Operator::Lt | Operator::LtEq => self.before = Some(self.before.take().map_or(value.clone(), |b| b.min(value))),
            _ => {}
        }
    }

    /// `EventID = n` or `EventID IN (n, m)` with whole-number literals, on the column itself
    /// (a number column: text compared with a number goes through a cast and is not learnt).
    fn learn_event_ids(&mut self, expr: &Expr) -> bool {
        let values: HashSet<i64> = match expr {
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), value) | (value, Expr::Column(c)) if c.name == EVENT_ID => match integer_literal(value) {
                    Some(v) => HashSet::from([v]),
                    None => return false,
                },
                _ => return false,
            },
            Expr::InList(list) if !list.negated && matches!(list.expr.as_ref(), Expr::Column(c) if c.name == EVENT_ID) => {
                match list.list.iter().map(integer_literal).collect::<Option<HashSet<i64>>>() {
                    Some(values) => values,
                    None => return false,
                }
            }
            _ => return false,
        };
        self.event_ids = Some(match self.event_ids.take() {
            Some(known) => known.intersection(&values).copied().collect(),
            None => values,
        });
        true
    }

    /// False when no row of a file of source `source` and days `days` (first and last),
    /// whose rows have the `event_ids` and `Channel`s as `channel` says (`None`: unknown),
    /// can pass the filters.
    pub fn may_hold(&self, source: &str, days: (&str, &str), event_ids: Option<&[i64]>, channel: Option<ChannelFill>) -> bool {
        let tests = &self.channel_tests;
        let channel_ok = tests.iter().all(|t| t.accepts(source)) && (tests.is_empty() || channel != Some(ChannelFill::Absent));
        let ids_ok = match (&self.event_ids, event_ids) {
            (Some(wanted), Some(held)) => held.iter().any(|id| wanted.contains(id)),
            _ => true,
        };
        channel_ok && ids_ok && self.days_may_hold(days)
    }

    /// Every `@timestamp` of a file of days F to L starts with one of them: it is below a
    /// bound whose first characters sort after F's, and above one whose first characters
    /// sort before L's.
    fn days_may_hold(&self, (first, last): (&str, &str)) -> bool {
        let is_day = |day: &str| day.len() == DAY_LENGTH && day.is_ascii();
        if !is_day(first) || !is_day(last) {
            return true;
        }
        let prefix = |bound: &str| -> String { bound.chars().take(DAY_LENGTH).collect() };
        let above_lower = self.after.as_ref().is_none_or(|a| {
            let p = prefix(a);
            last.get(..p.len()).is_none_or(|d| d >= p.as_str())
        });
        let below_upper = self.before.as_ref().is_none_or(|b| {
            let p = prefix(b);
            first.get(..p.len()).is_none_or(|d| d <= p.as_str())
        });
        above_lower && below_upper
    }
}

fn integer_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Literal(value, _) => match value {
            ScalarValue::Int64(Some(v)) => Some(*v),
            ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
            ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
            ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
            ScalarValue::UInt32(Some(v)) => Some(i64::from(*v)),
            ScalarValue::UInt16(Some(v)) => Some(i64::from(*v)),
            ScalarValue::UInt8(Some(v)) => Some(i64::from(*v)),
            _ => None,
        },
        Expr::Cast(cast) if matches!(cast.field.data_type(), DataType::Int64) => integer_literal(&cast.expr),
        _ => None,
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

pub(crate) fn is_text(data_type: &DataType) -> bool {
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
        Bounds::from_filters(&filters).may_hold(source, (day, day), None, None)
    }

    #[test]
    fn event_id_filters_prune_files_without_those_ids() {
        let ids = |filters: Vec<Expr>, held: Option<&[i64]>| Bounds::from_filters(&filters).may_hold("Security", ("x", "x"), held, None);
        let eq = vec![col(EVENT_ID).eq(lit(5140i64))];
        assert!(ids(eq.clone(), Some(&[4624, 5140])));
        assert!(!ids(eq.clone(), Some(&[4624, 4688])));
        assert!(!ids(eq.clone(), Some(&[])));
        assert!(ids(eq, None), "a file whose ids are unknown is read");
        let listed = vec![col(EVENT_ID).in_list(vec![lit(1i64), lit(3i64)], false)];
        assert!(ids(listed.clone(), Some(&[3])) && !ids(listed, Some(&[7])));
        let both = vec![col(EVENT_ID).eq(lit(1i64)), col(EVENT_ID).eq(lit(3i64))];
        assert!(!ids(both, Some(&[1, 3])), "no row is both 1 and 3");
        // Text compared with a number, a disjunction, and negation prune nothing.
        assert!(ids(vec![col(EVENT_ID).eq(lit("5140"))], Some(&[1])));
        assert!(ids(vec![col(EVENT_ID).eq(lit(5140i64)).or(col("x").eq(lit(1i64)))], Some(&[1])));
        assert!(ids(vec![col(EVENT_ID).in_list(vec![lit(5140i64)], true)], Some(&[1])));
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
    fn channel_tests_are_filters_on_channel_alone() {
        let test = |filter: Expr| ChannelTest::of(&filter);
        let either = test(col(CHANNEL).eq(lit("Security")).or(col(CHANNEL).eq(lit("System")))).unwrap();
        assert!(either.accepts("Security") && either.accepts("System") && !either.accepts("security"));
        let lower = datafusion::functions::string::expr_fn::lower(col(CHANNEL));
        assert!(test(lower.clone().eq(lit("security"))).unwrap().accepts("SECURITY"));
        assert_eq!(test(lower.eq(lit("security")).or(col(CHANNEL).eq(lit("System")))), None, "two kinds of test");
        assert_eq!(test(col(CHANNEL).eq(lit("Security")).or(col(EVENT_ID).eq(lit(1i64)))), None);
        assert_eq!(test(col(CHANNEL).in_list(vec![lit("Security")], true)), None, "NOT IN");
        assert_eq!(test(col(CHANNEL).not_eq(lit("Security"))), None);
    }

    #[test]
    fn files_settle_a_channel_test_when_their_rows_all_have_a_channel_or_none_has() {
        let security = ChannelTest::of(&col(CHANNEL).eq(lit("Security"))).unwrap();
        assert!(security.settled_by_file("Security", Some(ChannelFill::Every)));
        assert!(security.settled_by_file("System", Some(ChannelFill::Every)));
        assert!(security.settled_by_file("Security", Some(ChannelFill::Absent)));
        assert!(!security.settled_by_file("Security", Some(ChannelFill::Mixed)));
        assert!(!security.settled_by_file("Security", None), "unknown");
        assert!(security.settled_by_file("System", None), "no row of another source passes");
        // The scan skips the files the test passes no row of.
        let bounds = Bounds::from_filters(&[col(CHANNEL).eq(lit("Security"))]);
        assert!(bounds.may_hold("Security", ("x", "x"), None, Some(ChannelFill::Every)));
        assert!(!bounds.may_hold("Security", ("x", "x"), None, Some(ChannelFill::Absent)));
        assert!(bounds.may_hold("Security", ("x", "x"), None, Some(ChannelFill::Mixed)));
        assert!(Bounds::from_filters(&[]).may_hold("Security", ("x", "x"), None, Some(ChannelFill::Absent)));
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

    #[test]
    fn timestamp_ranges_prune_files_spanning_days_wholly_outside() {
        let window = Bounds::from_filters(&[col(TIMESTAMP).between(lit("2019-05-18 00:00:00.000"), lit("2019-05-19 23:59:59.999"))]);
        let spans = |first, last| window.may_hold("Security", (first, last), None, None);
        assert!(spans("2019-05-01", "2019-05-18") && spans("2019-05-19", "2019-06-01") && spans("2019-05-01", "2019-06-01"));
        assert!(!spans("2019-05-01", "2019-05-17") && !spans("2019-05-20", "2019-06-01"));
        assert!(spans("unknown", "unknown"));
    }
}
