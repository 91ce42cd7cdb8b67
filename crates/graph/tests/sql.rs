//! The graph functions as SQL users call them: each form of table argument, each function's
//! columns, motifs' element columns, and the errors of wrong calls.

use arrow::array::RecordBatch;
use arrow::util::display::array_value_to_string;
use hela_lake::RawEvents;
use hela_sql::Session;

const EDGES: &str = "CREATE TEMP VIEW edges AS SELECT * FROM VALUES \
    ('alice', 'ws1', 'logon'), ('bob', 'ws1', 'logon'), ('ws1', 'dc1', 'smb'), ('ws1', 'dc1', 'rpc'), \
    ('dc1', 'ws1', 'rdp'), (NULL, 'ws2', 'logon'), ('carol', 'ws2', 'logon') AS t(src, dst, kind); \
    CREATE TEMP VIEW hosts AS SELECT * FROM VALUES ('ws1', 'workstation'), ('ws2', 'workstation'), ('dc1', 'server') AS t(id, role);";

/// Runs the statements of `sql` after making the graph above; the last result's rows as
/// text, sorted, or the error.
fn rows(sql: &str) -> Result<Vec<String>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let session = Session::new(None, &[], &RawEvents::default(), &mut |w| panic!("unexpected warning: {w}")).map_err(|e| e.to_string())?;
        hela_graph::register(&session);
        let batches: Vec<RecordBatch> = session.run(&format!("{EDGES} {sql}")).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())?;
        let mut rows: Vec<String> = batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |r| b.columns().iter().map(|c| array_value_to_string(c, r).unwrap()).collect::<Vec<_>>().join(" | ")))
            .collect();
        rows.sort();
        Ok(rows)
    })
}

#[test]
fn every_form_of_table_argument_gives_the_same_answer() {
    let expected = rows("SELECT id, degree FROM degrees(TABLE(edges))").unwrap();
    assert_eq!(expected, ["alice | 1", "bob | 1", "carol | 1", "dc1 | 3", "ws1 | 5", "ws2 | 1"]);
    for form in ["degrees(edges)", "degrees((SELECT src, dst FROM edges))", "degrees((SELECT * FROM edges))", "degrees(TABLE(hosts), TABLE(edges))"] {
        let found = rows(&format!("SELECT id, degree FROM {form} WHERE degree > 0")).unwrap();
        assert_eq!(found, expected, "{form}");
    }
}

#[test]
fn vertices_without_edges_are_in_the_results() {
    let found = rows("SELECT id, in_degree, out_degree FROM degrees((SELECT 'lonely' AS id UNION ALL SELECT id FROM hosts), edges) WHERE degree = 0").unwrap();
    assert_eq!(found, ["lonely | 0 | 0"]);
}

#[test]
fn components_are_named_by_their_smallest_id() {
    let weak = rows("SELECT id, component FROM connected_components(edges)").unwrap();
    assert_eq!(weak, ["alice | alice", "bob | alice", "carol | carol", "dc1 | alice", "ws1 | alice", "ws2 | carol"]);
    let strong = rows("SELECT component, count(*) FROM strongly_connected_components(edges) GROUP BY component").unwrap();
    assert_eq!(strong, ["alice | 1", "bob | 1", "carol | 1", "dc1 | 2", "ws2 | 1"]);
}

#[test]
fn pagerank_takes_settings_and_sums_to_one() {
    let total = rows("SELECT round(sum(pagerank), 9) FROM pagerank(edges, 0.15, 50, 1e-9)").unwrap();
    assert_eq!(total, ["1.0"]);
    let top = rows("SELECT id FROM pagerank(edges) ORDER BY pagerank DESC LIMIT 1").unwrap();
    assert_eq!(top, ["ws1"]);
}

#[test]
fn shortest_paths_and_bfs_follow_edges() {
    let distances = rows("SELECT * FROM shortest_paths(edges, 'dc1', 'nowhere')").unwrap();
    assert_eq!(distances, ["alice | dc1 | 2", "bob | dc1 | 2", "dc1 | dc1 | 0", "ws1 | dc1 | 1"]);
    let paths = rows("SELECT `from`, `to`, hops, path FROM bfs(TABLE(hosts), TABLE(edges), 'id = ''alice''', 'role = ''server''')").unwrap();
    assert_eq!(paths, ["alice | dc1 | 2 | [alice, ws1, dc1]"]);
    let none = rows("SELECT * FROM bfs(edges, 'id = ''alice''', 'id = ''dc1''', 1)").unwrap();
    assert!(none.is_empty());
}

#[test]
fn motifs_give_a_column_per_named_element() {
    let found = rows("SELECT a.id, e.kind, b.id, b.role FROM motifs(TABLE(hosts), TABLE(edges), '(a)-[e]->(b); (b)-[]->(a)')").unwrap();
    // Each of the two edges back from dc1 makes its own match, as a join does.
    let back = "dc1 | rdp | ws1 | workstation";
    assert_eq!(found, [back, back, "ws1 | rpc | dc1 | server", "ws1 | smb | dc1 | server"]);
    let one_way = rows("SELECT a.id, b.id FROM motifs(edges, '(a)-[]->(b); !(b)-[]->(a)')").unwrap();
    assert_eq!(one_way, ["alice | ws1", "bob | ws1", "carol | ws2"]);
}

#[test]
fn label_propagation_and_triangles() {
    let labels = rows("SELECT count(*) FROM label_propagation(edges, 5) WHERE label IN (SELECT id FROM degrees(edges))").unwrap();
    assert_eq!(labels, ["6"]);
    let triangles = rows("SELECT sum(count) FROM triangle_count(edges)").unwrap();
    assert_eq!(triangles, ["0"]);
}

#[test]
fn wrong_calls_say_what_is_wrong() {
    for (sql, said) in [
        ("SELECT * FROM pagerank(1)", "takes the edges as a table"),
        ("SELECT * FROM pagerank(TABLE(hosts))", "have no column `src`"),
        ("SELECT * FROM degrees(TABLE(edges), TABLE(edges))", "have no column `id`"),
        ("SELECT * FROM pagerank(edges, 2)", "below 1"),
        ("SELECT * FROM motifs(edges, '(a)-[e]->(b); (b)-[e]->(a)')", "used twice"),
        ("SELECT * FROM bfs(edges, 'nonsense ==', 'id = ''x''')", "cannot be read"),
        ("SELECT * FROM degrees(no_such_table)", "no_such_table"),
    ] {
        let error = rows(sql).unwrap_err();
        assert!(error.contains(said), "{sql}: {error}");
    }
}
