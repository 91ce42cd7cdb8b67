//! What keeps the graph functions bounded: motif matches past the query's memory limit end
//! the query with the reason, and a LIMIT stops `bfs` among two to the thirtieth shortest
//! paths at once.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use hela_lake::{Lake, RawEvents};
use hela_sql::Session;

/// Runs `sql` in a session holding at most `memory` bytes, as `hela serve` opens them.
fn run(sql: &str, memory: usize) -> Result<Vec<RecordBatch>, String> {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let session = Session::for_network(&Lake::new(dir.path()), &RawEvents::default(), memory).map_err(|e| e.to_string())?;
        hela_graph::register(&session);
        session.run(sql).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())
    })
}

#[test]
fn motif_matches_beyond_the_memory_limit_end_the_query_with_the_reason() {
    // A complete graph of 80 vertices: 80^4 paths of three hops, far beyond 32 MiB.
    let complete = "CREATE TEMP VIEW v AS SELECT CAST(id AS STRING) AS id FROM range(80); \
        CREATE TEMP VIEW e AS SELECT a.id AS src, b.id AS dst FROM v a CROSS JOIN v b WHERE a.id <> b.id;";
    let error = run(&format!("{complete} SELECT count(*) FROM motifs(e, '(a)-[]->(b); (b)-[]->(c); (c)-[]->(d)')"), 32 << 20).unwrap_err();
    assert!(error.contains("partial matches exceed the query's memory"), "{error}");
    let small = run(&format!("{complete} SELECT count(*) AS n FROM motifs(e, '(a)-[]->(b)')"), 32 << 20).unwrap();
    assert_eq!(arrow::util::display::array_value_to_string(small[0].column(0), 0).unwrap(), "6320");
}

#[test]
fn a_limit_stops_bfs_among_exponentially_many_paths() {
    // Thirty diamonds in a row: 2^30 shortest paths from the first vertex to the last.
    let mut edges = Vec::new();
    for i in 0..30 {
        for side in ["a", "b"] {
            edges.push(format!("('n{i}', 'm{i}{side}')"));
            edges.push(format!("('m{i}{side}', 'n{}')", i + 1));
        }
    }
    let sql = format!("CREATE TEMP VIEW e AS SELECT * FROM VALUES {} AS t(src, dst); SELECT hops FROM bfs(e, 'id = ''n0''', 'id = ''n30''', 100) LIMIT 5", edges.join(", "));
    let started = Instant::now();
    let batches = run(&sql, 64 << 20).unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}
