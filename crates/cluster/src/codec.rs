//! How hela's tables and plan nodes cross the wire. A lake table goes to the scheduler as
//! the very files (and schema) the client planned with, so every process reads one catalog
//! version; a hunt of a lake table as those files and the hunt's rule files, and its plan
//! node to the executors as the rule files ([`PlanCodec`]). Other tables and nodes go as
//! Ballista codes them.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{TableReference, internal_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use hela_hunt::plan::{SigmaExec, SigmaScan};
use hela_sql::WholeTableView;
use hela_sql::lake_tables::LakeTable;

/// The first byte of a table or node coded by Ballista...
const BALLISTA: u8 = 0;
/// ...of a lake table...
const LAKE: u8 = 1;
/// ...and of a hunt (a [`SigmaScan`] table or its [`SigmaExec`] node).
const HUNT: u8 = 2;

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
            Some((&HUNT, table)) => Ok(Arc::new(SigmaScan::from_bytes(table)?)),
            Some((&BALLISTA, table)) => self.ballista.try_decode_table_provider(table, table_ref, schema, ctx),
            _ => internal_err!("table {table_ref} arrived in a form this hela does not know"),
        }
    }

    fn try_encode_table_provider(&self, table_ref: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        // A view of a whole table (a notebook's `dataTable`) goes as the table it shows.
        if let Some(view) = node.downcast_ref::<WholeTableView>() {
            return self.try_encode_table_provider(table_ref, Arc::clone(view.table()), buf);
        }
        if let Some(lake) = node.downcast_ref::<LakeTable>() {
            return tagged(buf, LAKE, lake.to_bytes());
        }
        if let Some(hunt) = node.downcast_ref::<SigmaScan>() {
            return tagged(buf, HUNT, hunt.to_bytes());
        }
        buf.push(BALLISTA);
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
            .map_err(|e| e.context(format!("table {table_ref} {NOT_ON_A_CLUSTER} (lake tables and views over them can)")))
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// Ballista's physical codec, with hela's plan nodes.
#[derive(Debug, Default)]
pub struct PlanCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PlanCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match buf.split_first() {
            Some((&HUNT, node)) => match inputs {
                [events] => Ok(Arc::new(SigmaExec::from_bytes(node, Arc::clone(events))?)),
                _ => internal_err!("a hunt's node arrived with {} inputs, not one", inputs.len()),
            },
            Some((&BALLISTA, node)) => self.ballista.try_decode(node, inputs, ctx, converter),
            _ => internal_err!("a plan node arrived in a form this hela does not know"),
        }
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>, converter: &dyn PhysicalProtoConverterExtension) -> Result<()> {
        if let Some(hunt) = node.downcast_ref::<SigmaExec>() {
            return tagged(buf, HUNT, hunt.to_bytes());
        }
        buf.push(BALLISTA);
        self.ballista.try_encode(node, buf, converter)
    }
}

/// Writes `bytes` to `buf` after the byte `tag` that says what they are.
fn tagged(buf: &mut Vec<u8>, tag: u8, bytes: Result<Vec<u8>>) -> Result<()> {
    let bytes = bytes?;
    buf.push(tag);
    buf.extend(bytes);
    Ok(())
}
