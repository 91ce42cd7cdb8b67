//! `hela serve` as a client sees it: Elasticsearch's bulk and document API into the lake,
//! SQL over HTTP, durability across `kill -9`, and refusals.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{hela, hela_ok};
use serde_json::{Value, json};

/// A `hela serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(lake: &Path, extra: &[&str]) -> Server {
        let log = lake.with_extension(format!("log-{}", std::process::id() ^ Instant::now().elapsed().subsec_nanos()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_hela"))
            .args(["serve", "--lake", lake.to_str().unwrap(), "--listen", "127.0.0.1:0", "--commit-interval", "200"])
            .args(extra)
            .env_remove("HELA_LAKE")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("hela serve runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("no address: {line:?}, log:\n{}", read(&log))).to_string();
        Server { child, url, log }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
    }

    /// Sends `body` to `path` and returns the status and the JSON answer.
    fn send(&self, method: &str, path: &str, body: &[u8], authorization: Option<&str>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let mut request = ureq::http::Request::builder().method(method).uri(&url).header("Content-Type", "application/json");
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = Self::agent().run(request.body(body.to_vec()).unwrap()).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn bulk(&self, body: &str) -> Value {
        let (status, answer) = self.send("POST", "/_bulk?refresh=wait_for", body.as_bytes(), None);
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// The rows of an SQL query, in Elasticsearch SQL's JSON.
    fn sql(&self, query: &str) -> Vec<Vec<Value>> {
        let (status, answer) = self.send("POST", "/_sql", json!({ "query": query }).to_string().as_bytes(), None);
        assert_eq!(status, 200, "{query}: {answer}");
        serde_json::from_value(answer["rows"].clone()).unwrap()
    }

    /// SIGTERM, and the exit status once it has stopped.
    fn stop(mut self) -> ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(read(&self.log).contains("stopping"), "{}", read(&self.log));
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn event(id: u64, host: &str) -> String {
    json!({"@timestamp": "2020-09-21T19:00:00.000Z", "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Hostname": host, "n": id}).to_string()
}

#[test]
fn bulk_documents_are_acknowledged_stored_quarantined_and_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let server = Server::start(&lake, &[]);
    let (status, banner) = server.send("GET", "/", b"", None);
    assert_eq!((status, banner["version"]["number"].as_str().map(|v| v.starts_with("8."))), (200, Some(true)), "{banner}");

    let body = [
        r#"{"index":{"_index":"winlogbeat","_id":"a"}}"#.to_string(),
        event(1, "WKS1"),
        r#"{"create":{"_index":"winlogbeat","_id":"b"}}"#.into(),
        event(2, "WKS2"),
        r#"{"index":{"_index":"winlogbeat"}}"#.into(),
        "{not json".into(),
        r#"{"index":{"_index":"winlogbeat"}}"#.into(),
        "[1,2]".into(),
        r#"{"index":{"_index":"Bad Index"}}"#.into(),
        event(3, "WKS3"),
        r#"{"delete":{"_index":"winlogbeat","_id":"a"}}"#.into(),
        r#"{"index":{"_index":"zeek"}}"#.into(),
        json!({"ts": 1600714800.5, "_path": "conn", "id.orig_h": "10.0.0.5"}).to_string(),
    ]
    .join("\n")
        + "\n";
    let answer = server.bulk(&body);
    assert_eq!(answer["errors"], true);
    let statuses: Vec<(String, u64)> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let (op, body) = item.as_object().unwrap().iter().next().unwrap();
            (op.clone(), body["status"].as_u64().unwrap())
        })
        .collect();
    let expected = [("index", 201), ("create", 201), ("index", 400), ("index", 400), ("index", 400), ("delete", 400), ("index", 201)];
    assert_eq!(statuses, expected.map(|(o, s)| (o.to_string(), s)), "{answer}");
    assert!(answer["items"][2]["index"]["error"]["reason"].as_str().unwrap().contains("failed to parse"), "{answer}");
    assert_eq!(answer["items"][4]["index"]["error"]["type"], "invalid_index_name_exception");

    // Refresh waited for the commit: the documents are there, with their index and id.
    let rows = server.sql("SELECT _index, _id, Hostname FROM events WHERE Hostname IS NOT NULL ORDER BY Hostname");
    assert_eq!(rows, vec![vec![json!("winlogbeat"), json!("a"), json!("WKS1")], vec![json!("winlogbeat"), json!("b"), json!("WKS2")]]);
    assert_eq!(server.sql("SELECT count(*) FROM events WHERE _index = 'zeek'"), vec![vec![json!(1)]]);

    // A shipper's retry: nothing is stored twice.
    // (sent to /winlogbeat/_bulk: the path names the index the actions leave out)
    let body = format!("{{\"index\":{{\"_id\":\"a\"}}}}\n{}\n{{\"create\":{{\"_id\":\"b\"}}}}\n{}\n", event(1, "WKS1"), event(2, "WKS2"));
    let (status, retry) = server.send("POST", "/winlogbeat/_bulk", body.as_bytes(), None);
    assert_eq!(status, 200, "{retry}");
    assert_eq!(retry["items"][0]["index"]["result"], "noop", "{retry}");
    assert_eq!(retry["items"][1]["create"]["status"], 409, "{retry}");
    assert_eq!(retry["items"][1]["create"]["error"]["type"], "version_conflict_engine_exception");

    // Single documents.
    let (status, created) = server.send("PUT", "/winlogbeat/_create/c?refresh=true", event(4, "WKS4").as_bytes(), None);
    assert_eq!((status, created["result"].as_str()), (201, Some("created")), "{created}");
    let (status, again) = server.send("PUT", "/winlogbeat/_create/c", event(4, "WKS4").as_bytes(), None);
    assert_eq!(status, 409, "{again}");
    let (status, auto) = server.send("POST", "/winlogbeat/_doc?refresh=wait_for", event(5, "WKS5").as_bytes(), None);
    assert_eq!(status, 201, "{auto}");
    let id = auto["_id"].as_str().unwrap().to_string();
    assert_eq!(server.sql(&format!("SELECT Hostname FROM events WHERE _id = '{id}'")), vec![vec![json!("WKS5")]]);

    // The same answers through `hela sql --server` as from the lake itself.
    let query = "SELECT _index, _id, Hostname, EventID FROM events ORDER BY _id";
    let remote = hela_ok(&["sql", "--server", &server.url, "--format", "csv", query]);
    let local = hela_ok(&["sql", "--lake", lake.to_str().unwrap(), "--format", "csv", query]);
    assert_eq!(remote, local);
    assert!(remote.contains("winlogbeat,c,WKS4,1"), "{remote}");
    let tables = hela_ok(&["tables", "--server", &server.url]);
    assert!(tables.lines().any(|l| l.starts_with("events") && l.split_whitespace().nth(1) == Some("5")), "{tables}");
    assert!(hela_ok(&["schema", "--server", &server.url, "events"]).contains("_index: string"));
    let csv = server.send("POST", "/_sql?format=csv", br#"{"query": "SELECT Hostname FROM events WHERE _id = 'a'"}"#, None).1;
    assert_eq!(csv, Value::String("Hostname\nWKS1\n".into()));

    assert!(server.stop().success());
    // The refused documents are in the quarantine with their request, line and reason.
    let quarantine: String = std::fs::read_dir(lake.join("quarantine")).unwrap().map(|e| read(&e.unwrap().path())).collect();
    let entries: Vec<Value> = quarantine.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries.len(), 3, "the refused documents; the delete had none: {quarantine}");
    assert!(entries.iter().all(|e| e["source"] == "POST /_bulk"), "{quarantine}");
    assert_eq!(entries.iter().map(|e| e["line"].as_u64().unwrap()).collect::<Vec<_>>(), [6, 8, 10]);
    assert_eq!(entries[0]["text"], "{not json");
    assert!(entries[2]["reason"].as_str().unwrap().contains("invalid_index_name_exception"), "{quarantine}");
    // Every acknowledged document is in the lake after the stop, read without the server.
    assert_eq!(common::query(&lake, "SELECT count(*) AS n FROM events")[0]["n"], 5);
}

#[test]
fn kill_9_under_concurrent_load_loses_no_acknowledged_document_and_stores_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let server = Server::start(&lake, &[]);
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let attempted = Arc::new(Mutex::new(Vec::new()));
    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (url, acknowledged, attempted, running) = (server.url.clone(), acknowledged.clone(), attempted.clone(), running.clone());
            std::thread::spawn(move || {
                let agent = Server::agent();
                for round in 0.. {
                    if !running.load(Ordering::Relaxed) {
                        break;
                    }
                    let ids: Vec<String> = (0..100).map(|n| format!("c{client}-r{round}-n{n}")).collect();
                    attempted.lock().unwrap().extend(ids.clone());
                    let body: String = ids.iter().map(|id| format!("{{\"create\":{{\"_index\":\"load\",\"_id\":\"{id}\"}}}}\n{}\n", event(0, id))).collect();
                    let answer = agent.post(format!("{url}/_bulk")).header("Content-Type", "application/x-ndjson").send(body.as_bytes());
                    let Ok(mut answer) = answer else { break };
                    let Ok(text) = answer.body_mut().read_to_string() else { break };
                    let answer: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(answer["errors"], false, "{answer}");
                    acknowledged.lock().unwrap().extend(ids);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL, in the middle of the load
    server.child.wait().unwrap();
    running.store(false, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    drop(server);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 400, "load ran: {} acknowledged", acknowledged.len());

    let server = Server::start(&lake, &[]);
    let stored: Vec<String> = server.sql("SELECT _id FROM events").into_iter().map(|r| r[0].as_str().unwrap().to_string()).collect();
    let distinct: HashSet<&String> = stored.iter().collect();
    assert_eq!(distinct.len(), stored.len(), "no document stored twice");
    let missing: Vec<_> = acknowledged.iter().filter(|id| !distinct.contains(id)).take(5).collect();
    assert!(missing.is_empty(), "acknowledged and lost: {missing:?} of {}", acknowledged.len());

    // The shippers retry everything they sent: each document is then stored exactly once.
    let attempted = attempted.lock().unwrap().clone();
    for ids in attempted.chunks(500) {
        let body: String = ids.iter().map(|id| format!("{{\"create\":{{\"_index\":\"load\",\"_id\":\"{id}\"}}}}\n{}\n", event(0, id))).collect();
        let answer = server.bulk(&body);
        for item in answer["items"].as_array().unwrap() {
            let status = item["create"]["status"].as_u64().unwrap();
            assert!(status == 201 || status == 409, "{item}");
        }
    }
    let counts = server.sql("SELECT count(*), count(DISTINCT _id) FROM events");
    assert_eq!(counts, vec![vec![json!(attempted.len()), json!(attempted.len())]]);
    assert!(server.stop().success());
}

#[test]
fn credentials_roles_limits_and_the_network_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let keys = dir.path().join("keys.toml");
    let key = |name: &str, role: &str| hela_ok(&["apikey", "add", "--auth", keys.to_str().unwrap(), "--name", name, "--role", role]).trim().to_string();
    let (shipper, hunter) = (key("winlogbeat", "ingest"), key("hunter", "read"));
    let server = Server::start(&lake, &["--auth", keys.to_str().unwrap(), "--max-body-bytes", "100000", "--query-timeout", "1"]);
    let bulk = format!("{{\"index\":{{\"_index\":\"w\"}}}}\n{}\n", event(1, "WKS1"));
    let sql = br#"{"query": "SELECT count(*) FROM events"}"#;
    let api_key = |credential: &str| format!("ApiKey {credential}");

    let (status, answer) = server.send("POST", "/_bulk", bulk.as_bytes(), None);
    assert_eq!(status, 401, "{answer}");
    assert!(!answer.to_string().contains(lake.to_str().unwrap()), "no paths: {answer}");
    assert_eq!(server.send("POST", "/_bulk?refresh=true", bulk.as_bytes(), Some(&api_key(&shipper))).0, 200);
    assert_eq!(server.send("POST", "/_sql", sql, Some(&api_key(&shipper))).0, 403, "an ingest key cannot query");
    assert_eq!(server.send("POST", "/_bulk", bulk.as_bytes(), Some(&api_key(&hunter))).0, 403, "a read key cannot ingest");
    let (status, answer) = server.send("POST", "/_sql", sql, Some(&format!("Basic {hunter}")));
    assert_eq!((status, &answer["rows"]), (200, &json!([[1]])), "{answer}");
    let wrong = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "hunter:guessed");
    assert_eq!(server.send("POST", "/_sql", sql, Some(&api_key(&wrong))).0, 401);
    assert_eq!(server.send("GET", "/_hela/health", b"", None).0, 200, "health needs no key");
    assert_eq!(server.send("GET", "/metrics", b"", Some(&api_key(&hunter))).0, 403);

    // SQL from the network cannot reach the server's files or settings.
    for statement in [
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/x.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let (status, answer) = server.send("POST", "/_sql", json!({ "query": statement }).to_string().as_bytes(), Some(&api_key(&hunter)));
        assert_eq!(status, 400, "{statement}: {answer}");
        assert!(answer["error"]["reason"].as_str().unwrap().contains("not allowed over the network"), "{answer}");
    }
    let (status, answer) = server.send("POST", "/_sql", br#"{"query": "SELECT * FROM nowhere"}"#, Some(&api_key(&hunter)));
    assert_eq!(status, 400);
    assert!(!answer.to_string().contains(lake.to_str().unwrap()), "no paths: {answer}");

    let endless = br#"{"query": "SELECT count(*) FROM range(1000000000000)"}"#;
    let (status, answer) = server.send("POST", "/_sql", endless, Some(&api_key(&hunter)));
    assert_eq!((status, answer["error"]["type"].as_str()), (408, Some("timeout_exception")), "{answer}");
    let (status, answer) = server.send("POST", "/_bulk", &vec![b' '; 200_000], Some(&api_key(&shipper)));
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = server.send("GET", "/_search", b"", Some(&api_key(&shipper)));
    assert_eq!(status, 400);
    assert!(answer["error"]["reason"].as_str().unwrap().contains("does not implement [GET /_search]"), "{answer}");
    assert!(server.stop().success());

    // Beyond loopback both keys and TLS are needed, on either port.
    let lake_arg = lake.to_str().unwrap();
    let exposed = [
        (vec!["--listen", "0.0.0.0:0"], "API keys (--auth FILE) and TLS"),
        (vec!["--listen", "0.0.0.0:0", "--auth", keys.to_str().unwrap()], "needs TLS (--tls-cert FILE --tls-key FILE)"),
        (vec!["--flight", "0.0.0.0:0"], "API keys (--auth FILE) and TLS"),
    ];
    for (options, missing) in exposed {
        let refused = hela(&[&["serve", "--lake", lake_arg][..], &options].concat(), None);
        assert_eq!(refused.status.code(), Some(2));
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains("refusing to listen on 0.0.0.0") && message.contains(missing), "{options:?}: {message}");
    }
    let missing_cert = dir.path().join("missing.pem");
    let options = ["serve", "--lake", lake_arg, "--tls-cert", missing_cert.to_str().unwrap(), "--tls-key", missing_cert.to_str().unwrap()];
    let refused = hela(&options, None);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("missing.pem") && message.contains("No such file"), "{message}");
}

#[test]
fn with_the_helk_schema_documents_go_to_helks_tables_as_hela_ingest_puts_them() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    hela_ok(&["sample", "--out", sample.to_str().unwrap(), "--events", "300"]);
    let local = dir.path().join("local");
    hela_ok(&["ingest", "--lake", local.to_str().unwrap(), "--schema", "helk", sample.to_str().unwrap()]);
    let server = Server::start(&dir.path().join("served"), &["--schema", "helk"]);
    let body: String = read(&sample).lines().filter(|l| !l.trim().is_empty()).map(|l| format!("{{\"index\":{{\"_index\":\"winlogbeat\"}}}}\n{l}\n")).collect();
    assert_eq!(server.bulk(&body)["errors"], false);
    let query = "SELECT host_name, process_parent_name, process_name FROM `logs-endpoint-winevent-sysmon-*` \
                 WHERE event_id = 1 AND process_parent_name = 'wmiprvse.exe' ORDER BY 1, 2, 3";
    let remote = hela_ok(&["sql", "--server", &server.url, "--format", "csv", query]);
    assert_eq!(remote, hela_ok(&["sql", "--lake", local.to_str().unwrap(), "--format", "csv", query]));
    assert!(remote.contains("powershell.exe"), "{remote}");
    // The same tables with the same rows (the served files differ: they hold `_index`, `_id`).
    let names_and_rows = |listing: String| -> Vec<(String, String)> {
        listing.lines().skip(1).map(|l| l.split_whitespace().take(2).map(str::to_string).collect::<Vec<_>>()).map(|c| (c[0].clone(), c[1].clone())).collect()
    };
    let served = names_and_rows(hela_ok(&["tables", "--server", &server.url]));
    assert_eq!(served, names_and_rows(hela_ok(&["tables", "--lake", local.to_str().unwrap()])));
    assert!(served.iter().any(|(name, _)| name == "logs-endpoint-winevent-security"), "{served:?}");
    assert!(server.stop().success());
}

#[test]
fn a_server_with_a_retention_period_drops_the_days_past_it_and_holds_the_lake_against_other_writers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let input = dir.path().join("events.json");
    let timed = ["2020-09-20T10:00:00Z", "2020-09-21T10:00:00Z", "2020-09-21T11:00:00Z", "2099-01-01T00:00:00Z"];
    let lines: String = timed.iter().map(|t| format!("{{\"@timestamp\":\"{t}\",\"Channel\":\"Security\",\"EventID\":4624}}\n")).collect();
    std::fs::write(&input, lines + "{\"Channel\":\"Security\",\"EventID\":1102}\n").unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake.to_str().unwrap(), input.to_str().unwrap()]);

    let server = Server::start(&lake, &["--retain", "90d"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !read(&server.log).contains("retention: dropped") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let said = read(&server.log);
    assert!(said.contains("retention: dropped the days 2020-09-20 to 2020-09-21 (2 files, 3 rows), older than 90 days"), "{said}");
    assert_eq!(server.sql("SELECT EventID, count(*) FROM events GROUP BY EventID ORDER BY EventID"), [vec![json!(1102), json!(1)], vec![json!(4624), json!(1)]]);
    let refused = hela(&["lake", "retain", "--lake", lake.to_str().unwrap(), "--older-than", "1d"], None);
    assert!(!refused.status.success(), "the server holds the lake's lock");
    assert!(server.stop().success());
    assert_eq!(common::count(&lake, "events"), 2, "the drop was committed");
}

#[test]
fn a_server_compacts_its_small_files_across_days_at_its_period_and_keeps_storing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let server = Server::start(&lake, &["--compact-every", "3s"]);
    // Three requests, each of three days: a file per day and request, too few per day for
    // the merge each commit makes, until compaction merges them across days.
    let days = ["2020-09-19", "2020-09-20", "2020-09-21"];
    for request in 0..3 {
        let body: String = days
            .iter()
            .enumerate()
            .map(|(d, day)| {
                let document = json!({"@timestamp": format!("{day}T1{request}:00:00.000Z"), "Channel": "Security", "EventID": 4700 - 10 * request - d as i64});
                format!("{{\"index\":{{\"_index\":\"winlogbeat\"}}}}\n{document}\n")
            })
            .collect();
        assert_eq!(server.bulk(&body)["errors"], false);
    }
    let catalog_files = || {
        common::catalog(&lake)["tables"]["events"]["files"].as_array().unwrap().clone()
    };
    assert_eq!(catalog_files().len(), 9, "a file per day and request before compaction");
    let by_day = "SELECT substr(CAST(`@timestamp` AS STRING), 1, 10) AS day, count(*), min(EventID) FROM events GROUP BY 1 ORDER BY 1";
    let before = server.sql(by_day);
    assert_eq!(before.len(), 3, "{before:?}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while !read(&server.log).contains("compaction: merged") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let said = read(&server.log);
    assert!(said.contains("compaction: merged 9 files into 1 in"), "{said}");
    let files = catalog_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!((files[0]["day"].as_str(), files[0]["last_day"].as_str()), (Some("2020-09-19"), Some("2020-09-21")), "it spans the days");
    assert_eq!(server.sql(by_day), before, "the same answers from the compacted file");
    let compacted = lake.join(files[0]["path"].as_str().unwrap());
    let ids = hela_ok(&["sql", "--table", &format!("f={}", compacted.display()), "--format", "csv", "SELECT EventID FROM f"]);
    let ids: Vec<i64> = ids.lines().skip(1).map(|id| id.parse().unwrap()).collect();
    assert!(ids.len() == 9 && ids.is_sorted(), "rows sorted by EventID: {ids:?}");

    // The server goes on storing after it compacted.
    assert_eq!(server.bulk(&format!("{{\"index\":{{\"_index\":\"winlogbeat\"}}}}\n{}\n", event(7, "WKS7")))["errors"], false);
    assert_eq!(server.sql("SELECT count(*) FROM events"), [vec![json!(10)]]);
    assert!(server.stop().success());
}
