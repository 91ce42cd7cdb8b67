//! The logon graph: who logged on where, and from which host, as edges for the graph
//! functions (`bfs` between two hosts finds lateral-movement paths).

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider, view::ViewTable};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::functions::expr_fn::{coalesce, concat, nullif, regexp_like, split_part, strpos, upper};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, case, cast, ident, lit};
use hela_sql::table_argument;

/// The names of a logon's fields: hela's raw names (Windows'), or HELK's.
struct Names {
    event_id: &'static str,
    host: &'static str,
    account: &'static str,
    domain: &'static str,
    address: &'static str,
    workstation: &'static str,
    logon_type: &'static str,
}

const RAW: Names = Names {
    event_id: "EventID",
    host: "Hostname",
    account: "TargetUserName",
    domain: "TargetDomainName",
    address: "IpAddress",
    workstation: "WorkstationName",
    logon_type: "LogonType",
};

const HELK: Names = Names {
    event_id: "event_id",
    host: "host_name",
    account: "user_name",
    domain: "user_domain",
    address: "src_ip_addr",
    workstation: "src_host_name",
    logon_type: "logon_type",
};

/// The usage line.
pub const USAGE: &str = "logon_graph(events)";

/// `logon_graph(events)`: from Windows' logons (4624 logged on, 4625 failed, 4648 explicit
/// credentials) the edges `src`, `dst`, with `kind`, `account`, `logon_type`, `event_id`,
/// `source_address` and `time`:
/// - `logon` / `failed logon`: the account (`DOMAIN\user`) to the host it logged on to;
/// - `network logon` / `failed network logon`: the host the logon came from (its workstation
///   name, else its address) to the host logged on to;
/// - `explicit credentials`: the host whose user used another account's credentials to the
///   server named (4648's `TargetServerName`).
///
/// Hosts are named as Windows' NetBIOS names are (`WS5` for `ws5.corp.local`), in capitals;
/// addresses stay as they are.
#[derive(Debug)]
pub struct LogonGraph;

impl TableFunctionImpl for LogonGraph {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (Some(events), 1) = (table_argument(&args, 0), args.exprs().len()) else {
            return plan_err!("logon_graph takes one table, the events: {USAGE}");
        };
        Ok(Arc::new(ViewTable::new(logon_edges(events)?, None)))
    }
}

fn logon_edges(events: LogicalPlan) -> Result<LogicalPlan> {
    let schema = events.schema().inner().clone();
    let has = |column: &str| schema.field_with_name(column).is_ok();
    let Some(names) = [&RAW, &HELK].into_iter().find(|n| has(n.event_id) && has(n.host) && has(n.account)) else {
        return plan_err!("logon_graph: the events have no logons (EventID, Hostname and TargetUserName, or HELK's event_id, host_name and user_name): it needs Windows' Security events");
    };
    // A field as text; NULL where the events lack it.
    let text = |column: &str| if has(column) { cast(ident(column), DataType::Utf8) } else { lit(ScalarValue::Utf8(None)) };
    let event = ident(names.event_id);
    let host = short_host(text(names.host));
    let account = case(nullif(text(names.domain), lit("-")).is_null())
        .when(lit(true), text(names.account))
        .otherwise(concat(vec![text(names.domain), lit("\\"), text(names.account)]))?;
    let source = coalesce(vec![nullif(nullif(text(names.workstation), lit("-")), lit("")), nullif(nullif(text(names.address), lit("-")), lit(""))]);
    let failed = event.clone().eq(lit(4625));
    let logons = LogicalPlanBuilder::from(events.clone()).filter(event.clone().in_list(vec![lit(4624), lit(4625)], false))?.build()?;
    let common = |kind: Expr| {
        vec![
            kind.alias("kind"),
            account.clone().alias("account"),
            text(names.logon_type).alias("logon_type"),
            ident(names.event_id).alias("event_id"),
            text(names.address).alias("source_address"),
            text("@timestamp").alias("time"),
        ]
    };
    let kind = |plain: &str, when_failed: &str| case(failed.clone()).when(lit(true), lit(when_failed.to_string())).otherwise(lit(plain.to_string()));
    let to_host = LogicalPlanBuilder::from(logons.clone())
        .project([vec![account.clone().alias("src"), host.clone().alias("dst")], common(kind("logon", "failed logon")?)].concat())?
        .build()?;
    let from_host = LogicalPlanBuilder::from(logons)
        .filter(source.clone().is_not_null())?
        .project([vec![short_host(source).alias("src"), host.clone().alias("dst")], common(kind("network logon", "failed network logon")?)].concat())?
        .build()?;
    let explicit = LogicalPlanBuilder::from(events)
        .filter(event.eq(lit(4648)).and(text("TargetServerName").is_not_null()))?
        .project([vec![host.alias("src"), short_host(text("TargetServerName")).alias("dst")], common(lit("explicit credentials"))].concat())?
        .build()?;
    LogicalPlanBuilder::from(to_host).union(from_host)?.union(explicit)?.build()
}

/// A host's NetBIOS name in capitals (`WS5` for `ws5.corp.local`); an address as it is.
fn short_host(name: Expr) -> Expr {
    let address = strpos(name.clone(), lit(":")).gt(lit(0)).or(regexp_like(name.clone(), lit("^[0-9.]+$"), None));
    case(address).when(lit(true), name.clone()).otherwise(upper(split_part(name, lit("."), lit(1)))).expect("a CASE with an ELSE")
}
