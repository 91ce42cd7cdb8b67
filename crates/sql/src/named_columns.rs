//! Queries planned over only the columns they name. A lake table has some hundreds of
//! columns, and DataFusion's planning goes through every column of a table at each step
//! until it learns which ones a query reads; so a query is planned over lake tables that
//! show only the columns whose names (in any case) are among the query's words. A query
//! that may read columns it does not name (`*`, a natural join, a table function) sees
//! every column, as does any statement that is not a query.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::error::Result;
use datafusion::execution::session_state::SessionState;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast;
use hela_schema::KeptFields;

use crate::fields_read::{fields_read, table_function_names};
use crate::lake_tables::LakeTable;
use crate::views::WholeTableView;

/// The words of `statement`, in lower case, when it is a query that reads only columns it
/// names; `state`'s table functions take whole tables.
pub(crate) fn query_words(statement: &Statement, state: &SessionState) -> Option<Arc<HashSet<String>>> {
    let Statement::Statement(inner) = statement else { return None };
    if !matches!(inner.as_ref(), ast::Statement::Query(_)) {
        return None;
    }
    match fields_read(&inner.to_string(), &table_function_names(state)) {
        KeptFields::Named(words) => Some(Arc::new(words)),
        KeptFields::All => None,
    }
}

/// The catalogs `catalogs`, their lake tables showing only the columns named among `words`.
pub(crate) fn narrowed(catalogs: &Arc<dyn CatalogProviderList>, words: Arc<HashSet<String>>) -> Arc<dyn CatalogProviderList> {
    Arc::new(NamedColumnCatalogs { inner: Arc::clone(catalogs), words })
}

/// `table` showing only the columns named among `words`: a lake table, or a view of a whole
/// lake table; any other table as it is.
fn narrowed_table(table: Arc<dyn TableProvider>, words: &HashSet<String>) -> Arc<dyn TableProvider> {
    if let Some(lake) = table.downcast_ref::<LakeTable>() {
        return match lake.with_columns(|name| words.contains(&name.to_lowercase())) {
            Some(narrow) => Arc::new(narrow),
            None => table,
        };
    }
    if let Some(view) = table.downcast_ref::<WholeTableView>() {
        let shown = narrowed_table(Arc::clone(view.table()), words);
        if !Arc::ptr_eq(&shown, view.table()) {
            return Arc::new(view.showing(shown));
        }
    }
    table
}

/// The session's catalogs, whose tables show the named columns.
#[derive(Debug)]
struct NamedColumnCatalogs {
    inner: Arc<dyn CatalogProviderList>,
    words: Arc<HashSet<String>>,
}

impl CatalogProviderList for NamedColumnCatalogs {
    fn register_catalog(&self, name: String, catalog: Arc<dyn CatalogProvider>) -> Option<Arc<dyn CatalogProvider>> {
        self.inner.register_catalog(name, catalog)
    }

    fn catalog_names(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        let inner = self.inner.catalog(name)?;
        Some(Arc::new(NamedColumnCatalog { inner, words: Arc::clone(&self.words) }))
    }
}

/// A catalog whose tables show the named columns.
#[derive(Debug)]
struct NamedColumnCatalog {
    inner: Arc<dyn CatalogProvider>,
    words: Arc<HashSet<String>>,
}

impl CatalogProvider for NamedColumnCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let inner = self.inner.schema(name)?;
        Some(Arc::new(NamedColumnSchema { inner, words: Arc::clone(&self.words) }))
    }

    fn register_schema(&self, name: &str, schema: Arc<dyn SchemaProvider>) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }
}

/// A schema whose tables show the named columns.
#[derive(Debug)]
struct NamedColumnSchema {
    inner: Arc<dyn SchemaProvider>,
    words: Arc<HashSet<String>>,
}

#[async_trait]
impl SchemaProvider for NamedColumnSchema {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.inner.table(name).await?.map(|table| narrowed_table(table, &self.words)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::LogicalPlan;
    use hela_lake::{IngestOptions, IngestProgress, Lake, RawEvents, ingest};

    use crate::Session;

    /// The columns each table scan of `plan` was planned over, in plan order.
    fn scanned_columns(plan: &LogicalPlan) -> Vec<Vec<String>> {
        let mut scans = Vec::new();
        use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
        plan.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                scans.push(scan.source.schema().fields().iter().map(|f| f.name().clone()).collect());
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        scans
    }

    #[tokio::test]
    async fn a_query_is_planned_over_the_columns_it_names_and_answers_as_over_all() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("events.json");
        let lines = [
            r#"{"Channel":"Security","EventID":4624,"Hostname":"h1","TargetUserName":"alice","LogonType":3}"#,
            r#"{"Channel":"Security","EventID":4624,"Hostname":"h2","TargetUserName":"bob","LogonType":10}"#,
            r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Hostname":"h1","Image":"C:\\a.exe","CommandLine":"a -x"}"#,
        ];
        std::fs::write(&input, lines.join("\n") + "\n").unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        ingest(&lake, &[input], &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        let session = Session::new(Some(&lake), &[], &RawEvents::default(), &mut |_| {}).unwrap();
        let every: Vec<String> = ["Channel", "CommandLine", "EventID", "Hostname", "Image", "LogonType", "TargetUserName"].map(String::from).to_vec();

        let run = |sql: &'static str| {
            let session = &session;
            async move {
                let frame = session.run(sql).await.unwrap();
                let scans = scanned_columns(frame.logical_plan());
                let rows = crate::text_rows(&frame.collect().await.unwrap(), None, usize::MAX).unwrap();
                (scans, rows)
            }
        };
        // Names in another case than the data's are still found, and only they are planned.
        let (scans, rows) = run("SELECT hostname, targetusername FROM events WHERE logontype = 3").await;
        assert_eq!(scans, [vec!["Hostname".to_string(), "LogonType".into(), "TargetUserName".into()]]);
        assert_eq!(rows, [vec!["h1".to_string(), "alice".into()]]);
        // As notebooks begin: a view of every column, then queries naming some.
        let notebook = "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM events; \
            SELECT d.Image, count(*) AS n FROM dataTable d JOIN dataTable s ON d.Hostname = s.Hostname WHERE s.EventID = 4624 GROUP BY d.Image ORDER BY d.Image";
        let (scans, rows) = run(notebook).await;
        let named = ["EventID", "Hostname", "Image"].map(String::from).to_vec();
        assert_eq!(scans, [named.clone(), named]);
        assert_eq!(rows, [vec!["NULL".to_string(), "2".into()], vec!["C:\\a.exe".to_string(), "1".into()]]);
        // A query that may read columns it does not name sees them all.
        assert_eq!(run("SELECT * FROM events WHERE EventID = 1").await.0, [every]);
        let error = session.run("SELECT Imagee FROM events").await.unwrap_err().to_string();
        // Planned again over every column, the error offers one the query does not name.
        assert!(error.ends_with("did you mean `events.Image`?"), "{error}");
    }
}
