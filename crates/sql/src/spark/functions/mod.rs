//! Spark's functions that neither DataFusion nor `datafusion-spark` provide with Spark's
//! meaning: regular-expression `split`, `reverse` of arrays and strings, `regexp_extract`
//! and `regexp_replace`, and date-time functions that take Java date-time patterns.

mod args;
mod datetime;
mod function;
mod java_pattern;
mod regexp;
mod reverse;
mod split;

use datafusion::logical_expr::ScalarUDF;

pub(crate) use args::is_text;

/// Every function of this module, to be registered after DataFusion's and
/// `datafusion-spark`'s so that these replace their namesakes.
pub fn all() -> Vec<ScalarUDF> {
    let spark_functions = [
        split::split(),
        regexp::regexp_extract(),
        regexp::regexp_replace(),
        datetime::date_format(),
        datetime::from_unixtime(),
        datetime::to_timestamp(),
        datetime::to_date(),
        datetime::unix_timestamp(),
    ];
    let mut all: Vec<ScalarUDF> = spark_functions.into_iter().map(ScalarUDF::from).collect();
    all.push(ScalarUDF::from(reverse::Reverse::new()));
    all
}
