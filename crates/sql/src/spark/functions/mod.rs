//! Spark's functions that neither DataFusion nor `datafusion-spark` provide with Spark's
//! meaning: regular-expression `split`, `reverse` of arrays and strings, `regexp_extract`
//! and `regexp_replace`, date-time functions that take Java date-time patterns, and
//! `decode`/`encode` with character sets, `get_json_object`, `element_at` of arrays and
//! maps, JSON, calendar arithmetic, vectors, and the text and arithmetic functions
//! DataFusion lacks.

/// An aggregate function known by its name alone (one type may serve several names), its
/// arguments checked by its own `coerce_types`.
macro_rules! named_aggregate {
    ($type:ident) => {
        #[derive(Debug, PartialEq, Eq, Hash)]
        struct $type {
            name: &'static str,
            signature: datafusion::logical_expr::Signature,
        }

        impl $type {
            fn new(name: &'static str) -> Self {
                $type { name, signature: datafusion::logical_expr::Signature::user_defined(datafusion::logical_expr::Volatility::Immutable) }
            }
        }
    };
}

mod aes;
mod approx_percentile;
mod args;
mod arithmetic;
mod assert;
mod bitmaps;
mod calendar;
mod charset;
mod collations;
mod collections;
mod conv;
mod element_at;
mod extreme_by;
mod datetime;
mod function;
mod geometry;
mod higher_order;
mod histogram;
mod java_pattern;
mod json;
mod mode;
mod moments;
mod number_format;
mod random;
mod json_path;
mod refused;
mod regexp;
mod reverse;
mod row_hash;
mod sketches;
mod splice;
mod split;
mod text;
mod text_times;
mod times_of_day;
mod try_arithmetic;
mod type_of;
mod variant;
mod vector;
mod xpath;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub(crate) use args::is_text;
pub use collations::Collations;
pub use mode::MODE_HIGHEST;
pub use higher_order::{HIGHER_ORDER, HigherOrder};
pub use text_times::{NAMES as TEXT_TIME_FUNCTIONS, TextAsTime};

/// Every function of this module, to be registered after DataFusion's and
/// `datafusion-spark`'s so that these replace their namesakes.
pub fn all() -> Vec<ScalarUDF> {
    let spark_functions = [
        split::split(),
        conv::conv(),
        charset::decode(),
        charset::encode(),
        json_path::get_json_object(),
        regexp::regexp_extract(),
        regexp::regexp_extract_all(),
        regexp::regexp_replace(),
        datetime::date_format(),
        datetime::from_unixtime(),
        datetime::to_timestamp(),
        datetime::to_date(),
        datetime::unix_timestamp(),
    ];
    let mut all: Vec<ScalarUDF> = spark_functions.into_iter().map(ScalarUDF::from).collect();
    all.push(ScalarUDF::from(reverse::Reverse::new()));
    all.push(ScalarUDF::new_from_impl(element_at::ElementAt::new()));
    all.extend(json::all());
    all.extend(arithmetic::all());
    all.push(assert::assert_true());
    all.extend(calendar::all());
    all.extend(collections::all());
    all.extend(text::all());
    all.extend(splice::all());
    all.extend(random::all());
    all.extend(row_hash::all());
    all.extend(try_arithmetic::all());
    all.extend(aes::all());
    all.push(collations::collation());
    all.extend(refused::all());
    all.push(type_of::type_of());
    all.extend(number_format::all());
    all.extend(times_of_day::all());
    all.extend(vector::all());
    all.extend(variant::all());
    all.extend(geometry::all());
    all.extend(xpath::all());
    all.extend(sketches::scalars());
    all
}

/// The aggregate functions of this module.
pub fn aggregates() -> Vec<AggregateUDF> {
    mode::all().into_iter().chain(histogram::all()).chain(moments::all()).chain(approx_percentile::all()).chain(vector::aggregates()).chain(sketches::aggregates()).chain(bitmaps::all()).chain(extreme_by::all()).chain(variant::aggregates()).collect()
}
