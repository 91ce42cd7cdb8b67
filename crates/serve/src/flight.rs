//! Arrow Flight SQL (`--flight ADDR`): the same Spark SQL as `POST /_sql`, for ADBC and
//! JDBC drivers, notebooks and BI tools. Results stream as Arrow record batches.
//!
//! - Statements and prepared statements (without parameters) run in a session forked per
//!   request, under the server's memory limit and query timeout. A statement's handle is
//!   its SQL, so no state is kept between calls.
//! - Catalogs, schemas, tables (with their Arrow schemas), table types and SQL info answer
//!   the metadata calls drivers make to list what can be queried.
//! - With API keys, each call carries `authorization: Bearer KEY` (the key `hela apikey
//!   add` printed; `ApiKey` and `Basic` work too), or the client's handshake with HTTP Basic
//!   (user: the key's name, password: its secret) is answered with that bearer token.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery, CommandStatementQuery,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::{Stream, StreamExt};
use datafusion::dataframe::DataFrame;
use hela_sql::{CATALOG, SCHEMA, shown_batch, shown_schema};
use prost::Message;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::{Denied, LENIENT, Role};
use crate::server::AppState;

/// What the server tells drivers about itself.
static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut info = SqlInfoDataBuilder::new();
    info.append(SqlInfo::FlightSqlServerName, "hela");
    info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    info.append(SqlInfo::FlightSqlServerArrowVersion, "59");
    info.append(SqlInfo::FlightSqlServerReadOnly, true);
    info.append(SqlInfo::FlightSqlServerSql, true);
    info.append(SqlInfo::FlightSqlServerSubstrait, false);
    info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
    info.append(SqlInfo::FlightSqlServerCancel, false);
    info.append(SqlInfo::SqlIdentifierQuoteChar, "`");
    info.build().expect("the server's SQL info is well-formed")
});

/// The Flight SQL service over the server's state.
pub struct FlightSql {
    state: Arc<AppState>,
}

/// The gRPC service to serve.
pub fn service(state: Arc<AppState>) -> FlightServiceServer<FlightSql> {
    FlightServiceServer::new(FlightSql { state }).max_decoding_message_size(MAX_REQUEST_BYTES)
}

/// Requests carry SQL and small commands only.
const MAX_REQUEST_BYTES: usize = 16 << 20;

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

impl FlightSql {
    /// Lets a call through if it carries a key with `role` (always, without keys), logging
    /// and counting it either way.
    fn check<T>(&self, request: &Request<T>, call: &str, role: Role) -> Result<(), Status> {
        self.state.metrics.requests.fetch_add(1, Ordering::Relaxed);
        let client = request.remote_addr().map(|a| a.to_string()).unwrap_or_default();
        let Some(keys) = &self.state.keys else {
            log_call(&client, call, "ok");
            return Ok(());
        };
        let authorization = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).map(as_api_key);
        match keys.check(authorization.as_deref(), Some(role)) {
            Ok(()) => {
                log_call(&client, call, "ok");
                Ok(())
            }
            Err(denied) => {
                self.state.metrics.requests_rejected.fetch_add(1, Ordering::Relaxed);
                log_call(&client, call, "refused");
                Err(match denied {
                    Denied::Unauthenticated => Status::unauthenticated(format!(
                        "missing or wrong credentials for [{call}]: send authorization: Bearer KEY, or hand-shake with Basic"
                    )),
                    Denied::Forbidden(name) => Status::permission_denied(format!("[{call}] is unauthorized for API key [{name}]: it needs the role [{}]", role.name())),
                })
            }
        }
    }

    /// Plans `sql` in a session of its own, by `deadline`: its plan and the result's schema.
    async fn plan(&self, sql: &str, deadline: tokio::time::Instant) -> Result<(DataFrame, SchemaRef), Status> {
        let session = self.state.session.fork();
        let frame = match tokio::time::timeout_at(deadline, session.run(sql)).await {
            Ok(frame) => frame.map_err(|e| self.failed(Status::invalid_argument(self.state.scrub(&e.to_string()))))?,
            Err(_) => return Err(self.failed(Status::deadline_exceeded(self.state.timeout_message()))),
        };
        let schema = shown_schema(frame.schema().as_arrow());
        Ok((frame, schema))
    }

    /// The schema of `sql`'s result.
    async fn schema_of(&self, sql: &str) -> Result<SchemaRef, Status> {
        Ok(self.plan(sql, self.deadline()).await?.1)
    }

    fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.state.limits.query_timeout
    }

    /// Runs `sql` and streams its batches, cut short with an error at the query timeout.
    async fn execute(&self, sql: &str) -> Result<Response<DoGetStream>, Status> {
        let started = Instant::now();
        let deadline = self.deadline();
        let (frame, schema) = self.plan(sql, deadline).await?;
        let batches = frame.execute_stream().await.map_err(|e| self.failed(Status::internal(self.state.scrub(&e.to_string()))))?;
        let state = self.state.clone();
        let shown = schema.clone();
        let timeout = self.state.timeout_message();
        let limited = futures::stream::unfold(Some(batches), move |batches| {
            let (state, shown, timeout) = (state.clone(), shown.clone(), timeout.clone());
            async move {
                let mut batches = batches?;
                let next = match tokio::time::timeout_at(deadline, batches.next()).await {
                    Ok(Some(Ok(batch))) => shown_batch(&batch, &shown).map_err(|e| FlightError::ExternalError(Box::new(e))),
                    Ok(Some(Err(e))) => Err(FlightError::Tonic(Box::new(Status::internal(state.scrub(&e.to_string()))))),
                    Ok(None) => {
                        state.metrics.queries.record(started.elapsed());
                        return None;
                    }
                    Err(_) => Err(FlightError::Tonic(Box::new(Status::deadline_exceeded(timeout)))),
                };
                if next.is_err() {
                    state.metrics.query_errors.fetch_add(1, Ordering::Relaxed);
                    return Some((next, None));
                }
                Some((next, Some(batches)))
            }
        });
        Ok(encode(schema, limited))
    }

    fn failed(&self, status: Status) -> Status {
        self.state.metrics.query_errors.fetch_add(1, Ordering::Relaxed);
        status
    }

    /// Every table SQL can name, with its schema.
    async fn tables(&self) -> Result<Vec<(String, SchemaRef)>, Status> {
        let session = self.state.session.fork();
        let schema = session
            .context()
            .catalog(CATALOG)
            .and_then(|catalog| catalog.schema(SCHEMA))
            .ok_or_else(|| Status::internal("the session has no default schema"))?;
        let mut tables = Vec::new();
        for name in schema.table_names() {
            if let Ok(Some(table)) = schema.table(&name).await {
                tables.push((name, table.schema()));
            }
        }
        tables.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(tables)
    }
}

/// The authorization as `hela`'s keys read it: a bearer token is the API key itself.
fn as_api_key(header: &str) -> String {
    match header.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => format!("ApiKey {}", token.trim()),
        _ => header.to_string(),
    }
}

fn log_call(client: &str, call: &str, outcome: &str) {
    eprintln!("{} {client} \"flight {call}\" {outcome}", crate::server::timestamp());
}

/// A result's batches as Flight data.
fn encode(schema: SchemaRef, batches: impl Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static) -> Response<DoGetStream> {
    let stream = FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map(|item| item.map_err(Status::from));
    Response::new(Box::pin(stream))
}

/// One batch as Flight data.
fn encode_one(schema: SchemaRef, batch: Result<RecordBatch, FlightError>) -> Response<DoGetStream> {
    encode(schema, futures::stream::once(async move { batch }))
}

/// The answer to `GetFlightInfo`: one endpoint whose ticket is `ticket`.
fn flight_info(schema: &Schema, ticket: Any, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
    let endpoint = FlightEndpoint::new().with_ticket(Ticket::new(ticket.encode_to_vec()));
    let info = FlightInfo::new().try_with_schema(schema).map_err(|e| Status::internal(e.to_string()))?.with_endpoint(endpoint).with_descriptor(descriptor);
    Ok(Response::new(info))
}

fn statement_text(handle: &[u8]) -> Result<&str, Status> {
    std::str::from_utf8(handle).map_err(|_| Status::invalid_argument("the statement handle is not one this server made"))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>, Status> {
        self.check(&request, "Handshake", Role::Read)?;
        let mut response: Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>> =
            Response::new(Box::pin(futures::stream::once(async { Ok(HandshakeResponse { protocol_version: 0, payload: Default::default() }) })));
        // The token to send from now on: the key that the Basic credentials spell.
        let basic = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic ").map(str::trim));
        if let Some(token) = basic.and_then(|encoded| LENIENT.decode(encoded).ok()).map(|pair| STANDARD.encode(pair)) {
            let value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| Status::invalid_argument("unusable credentials"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(&self, query: CommandStatementQuery, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo statement", Role::Read)?;
        let schema = self.schema_of(&query.query).await?;
        let ticket = TicketStatementQuery { statement_handle: query.query.into_bytes().into() };
        flight_info(&schema, ticket.as_any(), request.into_inner())
    }

    async fn do_get_statement(&self, ticket: TicketStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet statement", Role::Read)?;
        self.execute(statement_text(&ticket.statement_handle)?).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.check(&request, "CreatePreparedStatement", Role::Read)?;
        let schema = self.schema_of(&query.query).await?;
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &IpcWriteOptions::default()).try_into().map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: query.query.into_bytes().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    async fn do_action_close_prepared_statement(&self, _query: ActionClosePreparedStatementRequest, request: Request<Action>) -> Result<(), Status> {
        self.check(&request, "ClosePreparedStatement", Role::Read)
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo prepared statement", Role::Read)?;
        let schema = self.schema_of(statement_text(&query.prepared_statement_handle)?).await?;
        flight_info(&schema, query.as_any(), request.into_inner())
    }

    async fn do_get_prepared_statement(&self, query: CommandPreparedStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet prepared statement", Role::Read)?;
        self.execute(statement_text(&query.prepared_statement_handle)?).await
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo catalogs", Role::Read)?;
        flight_info(&query.clone().into_builder().schema(), query.as_any(), request.into_inner())
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet catalogs", Role::Read)?;
        let mut builder = query.into_builder();
        builder.append(CATALOG);
        Ok(encode_one(builder.schema(), builder.build()))
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo schemas", Role::Read)?;
        flight_info(&query.clone().into_builder().schema(), query.as_any(), request.into_inner())
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet schemas", Role::Read)?;
        let mut builder = query.into_builder();
        builder.append(CATALOG, SCHEMA);
        Ok(encode_one(builder.schema(), builder.build()))
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo tables", Role::Read)?;
        flight_info(&query.clone().into_builder().schema(), query.as_any(), request.into_inner())
    }

    async fn do_get_tables(&self, query: CommandGetTables, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet tables", Role::Read)?;
        let tables = self.tables().await?;
        let mut builder = query.into_builder();
        for (name, schema) in &tables {
            builder.append(CATALOG, SCHEMA, name, "TABLE", schema).map_err(|e| Status::internal(e.to_string()))?;
        }
        Ok(encode_one(builder.schema(), builder.build()))
    }

    async fn get_flight_info_table_types(&self, query: CommandGetTableTypes, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo table types", Role::Read)?;
        flight_info(&query.into_builder().schema(), query.as_any(), request.into_inner())
    }

    async fn do_get_table_types(&self, query: CommandGetTableTypes, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet table types", Role::Read)?;
        let mut builder = query.into_builder();
        builder.append("TABLE");
        Ok(encode_one(builder.schema(), builder.build()))
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.check(&request, "GetFlightInfo SQL info", Role::Read)?;
        flight_info(&query.clone().into_builder(&SQL_INFO).schema(), query.as_any(), request.into_inner())
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet SQL info", Role::Read)?;
        let builder = query.into_builder(&SQL_INFO);
        Ok(encode_one(builder.schema(), builder.build()))
    }

    async fn do_get_fallback(&self, request: Request<Ticket>, message: Any) -> Result<Response<DoGetStream>, Status> {
        self.check(&request, "DoGet", Role::Read)?;
        Err(Status::unimplemented(format!("{} is not served: hela serves SQL queries and the catalog calls", message.type_url)))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_api_keys() {
        assert_eq!(as_api_key("Bearer abc"), "ApiKey abc");
        assert_eq!(as_api_key("bearer  abc "), "ApiKey abc");
        assert_eq!(as_api_key("Basic abc"), "Basic abc");
    }
}
