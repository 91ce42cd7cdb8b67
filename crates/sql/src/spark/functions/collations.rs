//! Spark's collations as hela has them: one, `UTF8_BINARY` (text compares byte by byte,
//! as Spark's default collation does). `collation(text)` names it; `collations()` lists it.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::ScalarUDF;

use super::args::Kind;
use super::function::SparkFunction;

/// The full name of the one collation.
const COLLATION: &str = "SYSTEM.BUILTIN.UTF8_BINARY";

/// `collation(text)`.
pub fn collation() -> ScalarUDF {
    ScalarUDF::from(SparkFunction::new("collation", &[Kind::Text], 1, DataType::Utf8, |_, _, rows| Ok(Arc::new(StringArray::from(vec![COLLATION; rows])) as ArrayRef)))
}

/// `collations()`: a row for each collation, with Spark's columns.
#[derive(Debug)]
pub struct Collations;

impl TableFunctionImpl for Collations {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("collations takes no arguments");
        }
        let columns = ["CATALOG", "SCHEMA", "NAME", "LANGUAGE", "COUNTRY", "ACCENT_SENSITIVITY", "CASE_SENSITIVITY", "PAD_ATTRIBUTE", "ICU_VERSION"];
        let values = [Some("SYSTEM"), Some("BUILTIN"), Some("UTF8_BINARY"), None, None, Some("ACCENT_SENSITIVE"), Some("CASE_SENSITIVE"), Some("NO_PAD"), None];
        let schema = Arc::new(Schema::new(columns.iter().map(|c| Field::new(*c, DataType::Utf8, true)).collect::<Vec<_>>()));
        let arrays: Vec<ArrayRef> = values.iter().map(|v| Arc::new(StringArray::from(vec![*v])) as ArrayRef).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
