//! Stack counting: how often each value (or combination of values) occurs per group, the
//! rarest first; and the values first seen within the last days of the data.

use std::sync::Arc;

use arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{count, max, min};
use datafusion::functions_aggregate::min_max::max_udaf;
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::functions_window::expr_fn::rank;
use datafusion::logical_expr::{Expr, ExprFunctionExt, cast, ident, lit};

use crate::args::{Call, over};

/// `stack_count`'s usage.
pub const STACK_COUNT: &str = "stack_count(table, 'value columns' [, 'group columns' [, rarest]])";
/// `first_seen`'s usage.
pub const FIRST_SEEN: &str = "first_seen(table, 'value columns', 'time column' [, 'group columns' [, days = 7]])";

fn idents(names: &[String]) -> Vec<Expr> {
    names.iter().map(ident).collect()
}

/// `stack_count(t, 'ParentImage, Image', 'Hostname', 10)`: each combination of the value
/// columns per group with its `count`, its `share` of the group's rows and its `rarity`
/// (1 for the least frequent in its group; ties share a rank), the `rarest` ranks only when
/// given.
#[derive(Debug)]
pub struct StackCount;

impl TableFunctionImpl for StackCount {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let call = Call::new(&args, STACK_COUNT)?;
        call.at_most(3)?;
        let values = call.columns(0)?;
        if values.is_empty() {
            return plan_err!("{STACK_COUNT}: name the columns whose values are counted");
        }
        let groups = call.columns(1)?;
        let rarest = call.number(2, 0.0)?;
        if rarest < 0.0 || rarest.fract() != 0.0 {
            return plan_err!("{STACK_COUNT}: rarest is a whole number of ranks, not {rarest}");
        }
        let keys = idents(&groups).into_iter().chain(idents(&values)).collect();
        let counted = call.table.clone().aggregate(keys, vec![count(lit(1)).alias("count")])?;
        let total = over(sum_udaf(), ident("count"), &idents(&groups))?.alias("group_total");
        let rarity = rank().partition_by(idents(&groups)).order_by(vec![ident("count").sort(true, false)]).build()?.alias("rarity");
        // One window at a time: DataFusion runs windows of one ordering together.
        let ranked = counted.window(vec![total])?.window(vec![rarity])?;
        let share = cast(ident("count"), DataType::Float64) / cast(ident("group_total"), DataType::Float64);
        let mut frame = ranked.with_column("share", share)?;
        if rarest > 0.0 {
            frame = frame.filter(ident("rarity").lt_eq(lit(rarest as u64)))?;
        }
        let mut columns = groups.clone();
        columns.extend(values);
        columns.extend(["count", "share", "rarity", "group_total"].map(String::from));
        Ok(frame.select(idents(&columns))?.into_view())
    }
}

/// `first_seen(t, 'Image', '@timestamp', 'Hostname', 7)`: each combination of the value
/// columns per group whose first event is within `days` of the data's last (not of the
/// clock: a dataset from 2020 is hunted as of its own end), with `first_seen`, `last_seen`
/// and `count`.
#[derive(Debug)]
pub struct FirstSeen;

impl TableFunctionImpl for FirstSeen {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let call = Call::new(&args, FIRST_SEEN)?;
        call.at_most(4)?;
        let values = call.columns(0)?;
        let time = call.columns(1)?;
        let ([time], false) = (time.as_slice(), values.is_empty()) else {
            return plan_err!("{FIRST_SEEN}: name the value columns, then one time column");
        };
        let groups = call.columns(2)?;
        let days = call.number(3, 7.0)?;
        if days < 0.0 {
            return plan_err!("{FIRST_SEEN}: days cannot be negative");
        }
        let at = cast(ident(time), DataType::Timestamp(TimeUnit::Nanosecond, None));
        let keys = idents(&groups).into_iter().chain(idents(&values)).collect();
        let seen = call.table.clone().aggregate(keys, vec![min(at.clone()).alias("first_seen"), max(at).alias("last_seen"), count(lit(1)).alias("count")])?;
        let latest = over(max_udaf(), ident("last_seen"), &[])?.alias("latest");
        let window = lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, 0, (days * 86_400e9) as i64))));
        let recent = seen.window(vec![latest])?.filter(ident("first_seen").gt_eq(ident("latest") - window))?;
        let mut columns = groups.clone();
        columns.extend(values);
        columns.extend(["first_seen", "last_seen", "count"].map(String::from));
        Ok(recent.select(idents(&columns))?.into_view())
    }
}
