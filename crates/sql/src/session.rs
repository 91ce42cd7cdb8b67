//! A DataFusion session over the lake and inline tables, running statements in order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::{Column, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::datasource::MemTable;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast;
use datafusion::logical_expr::ScalarUDF;
use datafusion_spark::SessionStateBuilderSpark;
use hela_lake::{Lake, Router};
use hela_schema::KeptFields;

use crate::fields_read::{fields_read, table_function_names};
use crate::index_patterns::IndexPatternSchema;
use crate::named_columns;
use crate::inline::{Warn, load_table};
use crate::object_stores::LakeStores;
use crate::parquet_table::{parquet_files, parquet_table};
use crate::spark::CaseFix;
use crate::table_args::{PlannedArguments, TableArguments, take_first_table_argument};
use crate::views::{self, WholeTableView};
use crate::{SqlError, TableSpec, spark};

/// The catalog tables are named under, as in Spark (`spark_catalog.default.events`).
pub const CATALOG: &str = "spark_catalog";
/// The schema (Spark's database) tables are named under.
pub const SCHEMA: &str = "default";

/// Column names in another case than the data's that one statement may use.
const MAX_CASE_FIXES: usize = 64;

/// One statement of a query text, read and rewritten into DataFusion's terms
/// ([`Session::parse`]), to be planned and run by [`Session::execute`].
pub struct ParsedStatement(pub(crate) Statement);

/// A query session: the lake's tables (when there is a lake) and the inline tables.
pub struct Session {
    ctx: SessionContext,
    partitions: usize,
    lake_schema: Arc<IndexPatternSchema>,
    /// Statements that reach outside the session (files, settings) are refused: the SQL
    /// comes from the network.
    untrusted: bool,
    /// Some table of files was read keeping only the fields a statement text names.
    fields_left_out: bool,
}

impl Session {
    /// Opens a session. Inline tables hide lake tables of the same name; their records are
    /// stored as `router` makes them.
    pub fn new(lake: Option<&Lake>, tables: &[TableSpec], router: &dyn Router, warn: Warn) -> Result<Session, SqlError> {
        let partitions = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let mut config = SessionConfig::new().with_information_schema(true).with_target_partitions(partitions);
        // Column names keep their case, as in the data (`Hostname`, `EventID`).
        config.options_mut().sql_parser.enable_ident_normalization = false;
        config.options_mut().catalog.default_catalog = CATALOG.into();
        config.options_mut().catalog.default_schema = SCHEMA.into();
        // NULLs sort first when ascending, last when descending, as in Spark.
        config.options_mut().sql_parser.default_null_ordering = "nulls_min".into();
        // Reading every file's footer while planning costs more than the statistics save
        // (measured: 1.4 s → 0.5 s for a selective hunt over 516 lake files); row groups
        // are still pruned by their statistics when the scan opens each file.
        config.options_mut().execution.collect_statistics = false;
        // Filters are evaluated while Parquet is decoded, cheapest first, so the other
        // columns are decoded only for the rows that pass: a hunt selects few events of
        // wide records (35 THP queries over 2 GB: 1.49 s -> 1.24 s in all).
        config.options_mut().execution.parquet.pushdown_filters = true;
        config.options_mut().execution.parquet.reorder_filters = true;
        // A lake file's row groups hold a few pages each, so the page index prunes little and
        // decoding it for some 300 columns per file costs more (geometric mean of the 35 THP
        // queries over 2 GB: 25 ms -> 20 ms without it).
        config.options_mut().execution.parquet.enable_page_index = false;
        // A file's footer is read with one guess at its size; lake footers run to some 17 KB
        // (median), and the default guess (512 KiB) reads most lake files whole (cold queries
        // over 2 GB: geometric mean 37.7 ms -> 36.2 ms).
        config.options_mut().execution.parquet.metadata_size_hint = Some(64 << 10);
        // A join's build side reaches the scan of the other side as a hash lookup, not as an
        // IN list to be simplified and checked against each row group's statistics and bloom
        // filters (a logon-id join of 4624 to 4656 events over 2 GB: 210 ms -> 45 ms).
        config.options_mut().optimizer.hash_join_inlist_pushdown_max_size = 0;
        // Tables given to table functions (`pagerank(TABLE(edges))`), planned beforehand.
        let config = config.with_extension(Arc::new(TableArguments::default()));
        let runtime = RuntimeEnvBuilder::new().with_object_store_registry(LakeStores::shared()).build_arc()?;
        let ctx = with_spark(SessionStateBuilder::new().with_config(config).with_runtime_env(runtime).with_default_features());
        let lake_schema = Arc::new(IndexPatternSchema::new(lake.cloned())?);
        ctx.catalog(CATALOG).expect("the default catalog").register_schema(SCHEMA, lake_schema.clone())?;
        let mut session = Session { ctx, partitions, lake_schema, untrusted: false, fields_left_out: false };
        session.add_tables(tables, router, None, warn)?;
        Ok(session)
    }

    /// Makes a table of each name in `tables` from the files, directories and archives given
    /// it, read as `hela sql --table` reads them; each hides a lake table or earlier table
    /// of the same name. When `read_by` is given (the statements that will run), records keep
    /// only the fields it may read, if `router` stores fields under their own names.
    pub fn add_tables(&mut self, tables: &[TableSpec], router: &dyn Router, read_by: Option<&str>, warn: Warn) -> Result<(), SqlError> {
        let kept = match read_by {
            Some(sql) if router.keeps_field_names() => fields_read(sql, &table_function_names(&self.ctx.state())),
            _ => KeptFields::All,
        };
        let mut by_name: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
        for spec in tables {
            by_name.entry(spec.name.as_str()).or_default().push(spec.path.clone());
        }
        // Names given the same paths (`--table dataTable=x --table sparkTable=x`) share one
        // reading of them.
        let mut read: Vec<(Vec<PathBuf>, Arc<dyn TableProvider>)> = Vec::new();
        for (name, paths) in by_name {
            let table = match read.iter().find(|(read_paths, _)| *read_paths == paths) {
                Some((_, table)) => table.clone(),
                None => {
                    let table = files_table(name, &paths, self.partitions, router, &kept, &mut *warn)?;
                    read.push((paths, table.clone()));
                    table
                }
            };
            self.register(name, table)?;
        }
        self.fields_left_out |= !tables.is_empty() && kept != KeptFields::All;
        Ok(())
    }

    /// Whether some table of files was read keeping only the fields a statement text names
    /// ([`Session::add_tables`]): a statement that fails to plan here may plan with every
    /// field, and an unknown column is best explained among all of them.
    pub fn left_fields_out(&self) -> bool {
        self.fields_left_out
    }

    /// The session with `ctx` in place of its context (one that runs plans elsewhere, say),
    /// which must see the same catalog.
    pub fn with_context(mut self, ctx: SessionContext) -> Session {
        self.ctx = ctx;
        self
    }

    /// A session for SQL from the network: queries run within `memory_limit` bytes (in
    /// all, across the sessions [`Session::fork`]ed from it, spilling where they can), and
    /// statements that would read or write files or change settings are refused.
    pub fn for_network(lake: &Lake, router: &dyn Router, memory_limit: usize) -> Result<Session, SqlError> {
        let mut session = Session::new(Some(lake), &[], router, &mut |_| {})?;
        let pool = Arc::new(FairSpillPool::new(memory_limit));
        let runtime = RuntimeEnvBuilder::from_runtime_env(&session.ctx.runtime_env()).with_memory_pool(pool).build_arc()?;
        let state = SessionStateBuilder::new_from_existing(session.ctx.state()).with_runtime_env(runtime).build();
        session.ctx = SessionContext::new_with_state(state);
        session.untrusted = true;
        Ok(session)
    }

    /// A session over the same lake, functions, settings and memory pool, with none of the
    /// views or tables registered in this one, so that what one request makes is not seen
    /// by another; cheap enough to make per request.
    pub fn fork(&self) -> Session {
        let lake_schema = Arc::new(self.lake_schema.fork());
        let catalog = MemoryCatalogProvider::new();
        catalog.register_schema(SCHEMA, lake_schema.clone()).expect("a memory catalog takes any schema");
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(CATALOG.to_string(), Arc::new(catalog));
        let state = SessionStateBuilder::new_from_existing(self.ctx.state()).with_catalog_list(Arc::new(catalogs)).build();
        Session {
            ctx: SessionContext::new_with_state(state),
            partitions: self.partitions,
            lake_schema,
            untrusted: self.untrusted,
            fields_left_out: self.fields_left_out,
        }
    }

    /// Makes the table `name` from files, directories and archives, read as `hela sql
    /// --table` reads them; it hides a lake table or earlier table of the same name.
    /// Parquet files and directories of them are read in place instead, as they are.
    pub fn register_files(&self, name: &str, paths: &[PathBuf], router: &dyn Router, warn: Warn) -> Result<(), SqlError> {
        self.register(name, files_table(name, paths, self.partitions, router, &KeptFields::All, warn)?)
    }

    /// Makes the table `name` from batches already in memory (a DataFrame handed over from
    /// Python, say); it hides a lake table or earlier table of the same name.
    pub fn register_batches(&self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<(), SqlError> {
        let table = MemTable::try_new(schema, vec![batches]).map_err(|e| SqlError::Table { name: name.to_string(), message: e.to_string() })?;
        self.register(name, Arc::new(table))
    }

    /// Hides the rows of every lake table with a text column `column` whose value is not in
    /// `[start, end)`: a scheduled query's window over the events' times (ISO 8601 times in
    /// UTC, `...Z`, compare as text in time order).
    pub async fn within(&self, column: &str, start: &str, end: &str) -> Result<(), SqlError> {
        for name in self.lake_schema.table_names() {
            let provider = self.ctx.table_provider(TableReference::bare(name.as_str())).await?;
            if provider.schema().field_with_name(column).is_err() {
                continue;
            }
            let time = || Expr::Column(Column::new_unqualified(column));
            let frame = self.ctx.read_table(provider)?.filter(time().gt_eq(lit(start)).and(time().lt(lit(end))))?;
            self.register(&name, frame.into_view())?;
        }
        Ok(())
    }

    fn register(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<(), SqlError> {
        // Names are taken as written (`dataTable`), not folded to lower case.
        self.ctx.deregister_table(TableReference::bare(name))?;
        self.ctx.register_table(TableReference::bare(name), table)?;
        Ok(())
    }

    /// Runs every statement of `sql` in order and returns the last one's result. The text
    /// is read as Spark SQL writes it ([`spark::SparkDialect`]): strings in single or double
    /// quotes, identifiers in backticks.
    pub async fn run(&self, sql: &str) -> Result<DataFrame, SqlError> {
        let mut last = None;
        for statement in Session::parse(sql)? {
            last = Some(self.execute(statement).await?);
        }
        Ok(last.expect("parse gives at least one statement"))
    }

    /// Reads the statements of `sql` (at least one) as Spark SQL writes them (raw strings
    /// `r'...'` too), each rewritten into DataFusion's terms; none is planned yet.
    pub fn parse(sql: &str) -> Result<Vec<ParsedStatement>, SqlError> {
        let statements = DFParser::parse_sql_with_dialect(&spark::readable_string_literals(sql), &spark::SparkDialect).map_err(|e| {
            let unread = || crate::table_args::unread_form(sql);
            SqlError::Query(spark::not_run(sql).or_else(unread).unwrap_or_else(|| format!("cannot parse the SQL (mistyped, or Spark syntax hela does not support yet): {e}")))
        })?;
        if statements.is_empty() {
            return Err(SqlError::Query("no SQL statement given".into()));
        }
        let rewrite = |mut statement: Statement| {
            spark::unescape_string_literals(&mut statement);
            spark::rewrite_spark_calls(&mut statement).map_err(SqlError::Query)?;
            spark::make_temporary_views_plain(&mut statement);
            spark::rewrite_rlike(&mut statement);
            spark::make_subscripts_zero_based(&mut statement);
            spark::name_repeated_columns(&mut statement);
            spark::name_nested_fields(&mut statement);
            spark::rewrite_clauses(&mut statement);
            spark::plan_lambdas(&mut statement).map_err(SqlError::Query)?;
            Ok(ParsedStatement(statement))
        };
        statements.into_iter().map(rewrite).collect()
    }

    /// Plans one statement: one that makes a view or table takes effect here; a query is
    /// a plan that runs when its frame is collected.
    pub async fn execute(&self, statement: ParsedStatement) -> Result<DataFrame, SqlError> {
        if self.untrusted {
            network_policy(&statement.0)?;
        }
        if let Some(refusal) = spark::spark_setting(&statement.0).or_else(|| spark::not_run(&statement.0.to_string())) {
            return Err(SqlError::Query(refusal));
        }
        if self.make_whole_table_view(&statement.0).await? {
            return Ok(DataFrame::new(self.ctx.state(), LogicalPlanBuilder::empty(false).build()?));
        }
        let plan = self.plan(statement.0).await?;
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// Makes the view of `CREATE [OR REPLACE] VIEW v AS SELECT * FROM t`, over a table there
    /// is, as the table itself under the name `v` (see [`views`]); false for any other
    /// statement. As with any view, `v` must not exist unless the statement replaces it.
    async fn make_whole_table_view(&self, statement: &Statement) -> Result<bool, SqlError> {
        let Statement::Statement(inner) = statement else { return Ok(false) };
        let ast::Statement::CreateView(view) = inner.as_ref() else { return Ok(false) };
        let Some((name, table)) = views::whole_table_view(view) else { return Ok(false) };
        let Ok(provider) = self.ctx.table_provider(table).await else { return Ok(false) };
        if !view.or_replace && self.ctx.table_exist(name.clone())? {
            return Err(SqlError::Query(format!("table '{name}' already exists")));
        }
        self.ctx.deregister_table(name.clone())?;
        self.ctx.register_table(name, Arc::new(WholeTableView::new(provider, inner.to_string())))?;
        Ok(true)
    }

    /// Plans a statement. A column written in another case than the data's (`LogonID` for
    /// `LogonId`) is renamed to the data's spelling and the statement planned again, since
    /// Spark resolves column names without regard to case; an exact match always wins. A
    /// name no column has that an earlier item of the select list is called is that item
    /// (Spark's lateral column alias). A query is planned over lake tables showing only the
    /// columns it names (see [`named_columns`]), and over every column if it fails so.
    async fn plan(&self, mut statement: Statement) -> Result<LogicalPlan, SqlError> {
        // A table function's table arguments are planned first, each kept until the
        // statement is planned.
        let mut state = self.ctx.state();
        let arguments = state.config().get_extension::<TableArguments>().expect("the session's table arguments");
        let mut planned = PlannedArguments { arguments: arguments.clone(), keys: Vec::new() };
        loop {
            let key = arguments.new_key();
            let Some(query) = take_first_table_argument(&mut statement, &key) else { break };
            let plan = Box::pin(self.plan(query)).await?;
            arguments.insert(key.clone(), plan);
            planned.keys.push(key);
        }
        // A PIVOT groups on its source's other columns: plan the source to know them.
        while let Some(source) = spark::first_pivot_source(&mut statement) {
            let planned = Box::pin(self.plan(source)).await?;
            let columns: Vec<String> = planned.schema().fields().iter().map(|f| f.name().clone()).collect();
            spark::rewrite_first_pivot(&mut statement, &columns).map_err(SqlError::Query)?;
        }
        // A query planned over only the columns it names plans faster; one that fails so is
        // planned again over every column, to fail or be fixed as before.
        if let Some(words) = named_columns::query_words(&statement, &state) {
            let every_column = Arc::clone(state.catalog_list());
            state.register_catalog_list(named_columns::narrowed(&every_column, words));
            if let Ok(plan) = self.plan_in(&state, statement.clone()).await {
                return Ok(plan);
            }
            state.register_catalog_list(every_column);
        }
        self.plan_in(&state, statement).await
    }

    /// Plans `statement` in `state`, renaming columns written in another case than the
    /// data's and naming Spark's lateral column aliases (see [`Session::plan`]).
    async fn plan_in(&self, state: &SessionState, mut statement: Statement) -> Result<LogicalPlan, SqlError> {
        for _ in 0..MAX_CASE_FIXES {
            let error = match state.statement_to_plan(statement.clone()).await {
                Ok(plan) => return Ok(spark::name_inlined_fields(spark::typed_rewrites(plan)?)?),
                Err(error) => error,
            };
            match spark::case_fix(&error) {
                CaseFix::Rename { from, to } => spark::rename_identifier(&mut statement, &from, &to),
                CaseFix::Ambiguous(message) => return Err(SqlError::Query(message)),
                CaseFix::NotCase if spark::lateral_alias(&mut statement, &error) => {}
                CaseFix::NotCase => return Err(self.missing_table(&error).unwrap_or_else(|| error.into())),
            }
        }
        Err(SqlError::Query(format!("more than {MAX_CASE_FIXES} column names differ in case from the data")))
    }

    /// The error for a statement naming a table there is not, saying what there is.
    fn missing_table(&self, error: &DataFusionError) -> Option<SqlError> {
        let DataFusionError::Plan(text) = error.find_root() else { return None };
        if crate::error::explain(error) != error.find_root().to_string() {
            // A Spark form hela does not read yet (`VALUES 1, 2`), which the error names.
            return None;
        }
        let qualified = text.strip_prefix("table '")?.strip_suffix("' not found")?;
        let name = qualified.strip_prefix(&format!("{CATALOG}.{SCHEMA}.")).unwrap_or(qualified);
        Some(SqlError::Query(self.lake_schema.explain_missing(name)))
    }

    /// Reads the lake's catalog again, so that what was ingested since the session opened
    /// (or since the lake was made) is seen; registered tables and views stay.
    pub fn reload_lake(&self) -> Result<(), SqlError> {
        Ok(self.lake_schema.reload()?)
    }

    /// The DataFusion context, for callers that need more than SQL text.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}

/// Refuses what SQL from the network may not do: read or write files (`CREATE EXTERNAL
/// TABLE`, `COPY`, `INSERT`), change the session's settings (`SET`, `RESET`), or anything
/// else but queries, views and descriptions of tables.
fn network_policy(statement: &Statement) -> Result<(), SqlError> {
    let refused = match statement {
        Statement::Statement(inner) => match inner.as_ref() {
            ast::Statement::Query(_)
            | ast::Statement::CreateView(_)
            | ast::Statement::Drop { object_type: ast::ObjectType::View, .. }
            | ast::Statement::ShowTables { .. }
            | ast::Statement::ShowColumns { .. }
            | ast::Statement::ExplainTable { .. } => return Ok(()),
            ast::Statement::Explain { statement, .. } => return network_policy(&Statement::Statement(statement.clone())),
            other => statement_kind(other),
        },
        Statement::Explain(explain) => return network_policy(&explain.statement),
        Statement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".to_string(),
        Statement::CopyTo(_) => "COPY".to_string(),
        Statement::Reset(_) => "RESET".to_string(),
    };
    Err(SqlError::Query(format!("{refused} is not allowed over the network: only queries (SELECT, WITH), views, SHOW TABLES and DESCRIBE")))
}

/// The first words of a statement (`INSERT`, `SET`), for an error message.
fn statement_kind(statement: &ast::Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    match words.as_slice() {
        [first, second] if ["CREATE", "DROP", "ALTER"].contains(&first.to_uppercase().as_str()) => format!("{first} {second}").to_uppercase(),
        [first, ..] => first.to_uppercase(),
        [] => "this statement".to_string(),
    }
}

/// A context of `builder`'s state with the Spark SQL front end: Spark's functions
/// (`datafusion-spark`'s `concat`, `substring`, `hex`, ..., then hela's `split`,
/// `regexp_replace`, `date_format`, ...) replace DataFusion's namesakes, and text compared
/// with a number is read leniently (see `spark::coercion`).
pub fn with_spark(builder: SessionStateBuilder) -> SessionContext {
    let state = builder.with_spark_features().with_analyzer_rules(spark::analyzer_rules()).build();
    let ctx = SessionContext::new_with_state(state);
    for function in spark::functions::all() {
        ctx.register_udf(function);
    }
    for function in spark::functions::aggregates() {
        ctx.register_udaf(function);
    }
    for name in spark::functions::TEXT_TIME_FUNCTIONS {
        if let Some(inner) = ctx.state().scalar_functions().get(name).cloned() {
            ctx.register_udf(ScalarUDF::new_from_impl(spark::functions::TextAsTime::new(inner)));
        }
    }
    ctx.register_udf(ScalarUDF::new_from_impl(spark::functions::HigherOrder::new(ctx.state_weak_ref())));
    ctx.register_udtf("collations", Arc::new(spark::functions::Collations));
    ctx
}

/// The table `name` of files, directories and archives read as `hela sql --table` reads
/// them, or of Parquet files and directories of them read in place.
fn files_table(
    name: &str,
    paths: &[PathBuf],
    partitions: usize,
    router: &dyn Router,
    kept: &KeptFields,
    warn: Warn,
) -> Result<Arc<dyn TableProvider>, SqlError> {
    if let Some(files) = parquet_files(name, paths)? {
        return Ok(Arc::new(parquet_table(name, &files)?));
    }
    Ok(Arc::new(load_table(name, paths, partitions, router, kept, warn)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hela_lake::RawEvents;

    #[test]
    fn files_read_for_a_query_keep_only_the_fields_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, "{\"EventID\":1,\"Image\":\"a.exe\",\"User\":{\"Name\":\"x\"}}\n{\"eventid\":2,\"Other\":[1]}\n").unwrap();
        let tables = [TableSpec { name: "t".into(), path }];
        let columns = |read_by: Option<&str>| {
            let mut session = Session::new(None, &[], &RawEvents::default(), &mut |_| {}).unwrap();
            session.add_tables(&tables, &RawEvents::default(), read_by, &mut |_| {}).unwrap();
            let schema = futures::executor::block_on(session.context().table_provider("t")).unwrap().schema();
            let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            (names, session.left_fields_out())
        };
        assert_eq!(columns(Some("SELECT EVENTID, user.name FROM t")), (vec!["EventID".into(), "User".into(), "eventid".into()], true));
        assert_eq!(columns(Some("SELECT count(*) FROM t")), (vec![], true));
        let notebook = "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM t; SELECT Image FROM dataTable";
        assert_eq!(columns(Some(notebook)), (vec!["Image".into()], true));
        let every = vec!["EventID".into(), "Image".into(), "Other".into(), "User".into(), "eventid".into()];
        assert_eq!(columns(Some("SELECT * FROM t")), (every.clone(), false));
        assert_eq!(columns(None), (every, false));
    }
}
