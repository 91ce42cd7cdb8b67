//! Outliers per group: by z-score (mean and sample standard deviation), by median absolute
//! deviation, or beyond the interquartile fences.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::functions::expr_fn::abs;
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::functions_aggregate::expr_fn::percentile_cont;
use datafusion::functions_aggregate::median::median_udaf;
use datafusion::functions_aggregate::stddev::stddev_udaf;
use datafusion::logical_expr::{Expr, JoinType, Operator, binary_expr, cast, ident, lit, when};

use crate::args::{Call, over};

/// `outliers`' usage.
pub const OUTLIERS: &str = "outliers(table, 'value column', 'zscore' | 'mad' | 'iqr' [, 'group columns' [, threshold]])";

/// `outliers(t, 'logons', 'zscore', 'Hostname')`: every row, with its `score` and
/// `is_outlier`:
/// - `zscore`: (x − mean) / standard deviation (the sample's, as pandas' `std`); an outlier
///   beyond ±3 (the seeds' mean + 3σ) unless another threshold is given;
/// - `mad`: 0.6745 (x − median) / MAD, the modified z-score of Iglewicz and Hoaglin; beyond
///   ±3.5;
/// - `iqr`: how many interquartile ranges x lies beyond the quartiles (0 between them;
///   quartiles interpolated as numpy's); beyond 1.5 (Tukey's fences).
///
/// A group whose spread is 0 scores NULL and has no outliers.
#[derive(Debug)]
pub struct Outliers;

impl TableFunctionImpl for Outliers {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let call = Call::new(&args, OUTLIERS)?;
        call.at_most(4)?;
        let value = call.columns(0)?;
        let [value] = value.as_slice() else { return plan_err!("{OUTLIERS}: name one value column") };
        let method = call.text(1)?.unwrap_or_default().to_ascii_lowercase();
        let groups = call.columns(2)?;
        let partition: Vec<Expr> = groups.iter().map(ident).collect();
        let x = cast(ident(value), DataType::Float64);
        let original: Vec<Expr> = call.table.schema().columns().into_iter().map(Expr::Column).collect();
        let (scored, threshold) = match method.as_str() {
            "zscore" => {
                let mean = over(avg_udaf(), x.clone(), &partition)?.alias("__mean");
                let deviation = over(stddev_udaf(), x.clone(), &partition)?.alias("__sd");
                let frame = call.table.clone().window(vec![mean, deviation])?;
                (frame.with_column("score", (x - ident("__mean")) / nonzero(ident("__sd")))?, call.number(3, 3.0)?)
            }
            "mad" => {
                let middle = over(median_udaf(), x.clone(), &partition)?.alias("__median");
                let frame = call.table.clone().window(vec![middle])?.with_column("__deviation", abs(x.clone() - ident("__median")))?;
                let mad = over(median_udaf(), ident("__deviation"), &partition)?.alias("__mad");
                let frame = frame.window(vec![mad])?;
                (frame.with_column("score", lit(0.6745) * (x - ident("__median")) / nonzero(ident("__mad")))?, call.number(3, 3.5)?)
            }
            "iqr" => {
                let renamed: Vec<String> = (0..groups.len()).map(|i| format!("__group{i}")).collect();
                let keys: Vec<Expr> = groups.iter().zip(&renamed).map(|(g, r)| ident(g).alias(r)).collect();
                let quartile = |p: f64, name: &str| percentile_cont(x.clone().sort(true, false), lit(p)).alias(name);
                let stats = call.table.clone().aggregate(keys, vec![quartile(0.25, "__q1"), quartile(0.75, "__q3")])?;
                let on: Vec<Expr> = groups.iter().zip(&renamed).map(|(g, r)| binary_expr(ident(g), Operator::IsNotDistinctFrom, ident(r))).collect();
                let frame = call.table.clone().join_on(stats, JoinType::Inner, on)?;
                let spread = nonzero(ident("__q3") - ident("__q1"));
                let score = when(x.clone().gt(ident("__q3")), (x.clone() - ident("__q3")) / spread.clone())
                    .when(x.clone().lt(ident("__q1")), (x - ident("__q1")) / spread.clone())
                    .otherwise(lit(0.0) * spread)?;
                (frame.with_column("score", score)?, call.number(3, 1.5)?)
            }
            other => return plan_err!("{OUTLIERS}: the method is zscore, mad or iqr, not `{other}`"),
        };
        let flagged = scored.with_column("is_outlier", abs(ident("score")).gt(lit(threshold)))?;
        let columns: Vec<Expr> = original.into_iter().chain([ident("score"), ident("is_outlier")]).collect();
        Ok(flagged.select(columns)?.into_view())
    }
}

/// `spread`, or NULL when it is 0 (a group of equal values has no outliers).
fn nonzero(spread: Expr) -> Expr {
    when(spread.clone().eq(lit(0.0)), lit(datafusion::common::ScalarValue::Float64(None))).otherwise(spread).expect("a CASE with an ELSE")
}
