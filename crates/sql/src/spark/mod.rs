//! Spark SQL conventions DataFusion does not share, applied to parsed statements before
//! planning, and Spark's functions where DataFusion has none or different ones.

mod aliases;
mod calls;
mod generators;
mod coercion;
mod dialect;
pub mod functions;
mod lambdas;
mod literals;
mod names;
mod pivot;
mod statements;
mod time_windows;
mod syntax;

pub use calls::rewrite_spark_calls;
pub(crate) use generators::{empty_query, plain_select};
pub use lambdas::plan_lambdas;
pub use pivot::{first_pivot_source, rewrite_first_pivot};
pub use statements::{not_run, rewrite_clauses, spark_setting};
pub use dialect::SparkDialect;
pub use coercion::{analyzer_rules, typed_rewrites, typed_rewrites_of};
pub use literals::{readable_string_literals, unescape_string_literals};
pub use names::{CaseFix, REPEAT_MARK, case_fix, lateral_alias, name_inlined_fields, name_nested_fields, name_repeated_columns, rename_identifier, shown_name};
pub use syntax::{make_subscripts_zero_based, make_temporary_views_plain, rewrite_rlike};
