//! How hela's lake tables cross the wire in a plan sent to the scheduler: as the very files
//! (and schema) the client planned with, so every process reads one catalog version. Other
//! tables and nodes go as Ballista codes them.

use std::sync::Arc;

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{TableReference, internal_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use hela_sql::lake_tables::LakeTable;

/// The first byte of a table coded by Ballista...
const BALLISTA: u8 = 0;
/// ...and of a lake table.
const LAKE: u8 = 1;

/// What the error for a table that cannot be sent says.
pub(crate) const NOT_ON_A_CLUSTER: &str = "cannot run on a cluster";

/// Ballista's logical codec, with hela's lake tables.
#[derive(Debug, Default)]
pub struct LakeCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LakeCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(&self, buf: &[u8], table_ref: &TableReference, schema: SchemaRef, ctx: &TaskContext) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&LAKE, table)) => Ok(Arc::new(LakeTable::from_bytes(table)?)),
            Some((&BALLISTA, table)) => self.ballista.try_decode_table_provider(table, table_ref, schema, ctx),
            _ => internal_err!("table {table_ref} arrived in a form this hela does not know"),
        }
    }

    fn try_encode_table_provider(&self, table_ref: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        match node.downcast_ref::<LakeTable>() {
            Some(lake) => {
                buf.push(LAKE);
                buf.extend(lake.to_bytes()?);
                Ok(())
            }
            None => {
                buf.push(BALLISTA);
                self.ballista.try_encode_table_provider(table_ref, node, buf).map_err(|e| {
                    e.context(format!("table {table_ref} {NOT_ON_A_CLUSTER} (lake tables and views over them can)"))
                })
            }
        }
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}
