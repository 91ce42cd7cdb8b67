//! hela on a Ballista cluster: a scheduler and two executors started as processes on
//! loopback, each with its own port and work directory, over a lake the test ingests. The
//! same SQL (the Threat Hunter Playbook's included), Sigma hunts and server queries run on
//! the cluster give the local rows, also when an executor is killed mid-query.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Sender;

use common::hela_ok;

/// A `hela cluster` process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a process's log lines are sent to: a channel, with the process's number.
type Log = Option<(usize, Sender<(usize, String)>)>;

/// Starts `hela cluster ARGS` and returns it with the first line it prints; its log (on
/// standard error) goes to `log` when given.
fn start_logging(args: &[&str], log: Log) -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hela"))
        .arg("cluster")
        .args(args)
        .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
        .stdout(Stdio::piped())
        .stderr(if log.is_some() { Stdio::piped() } else { Stdio::null() })
        .spawn()
        .expect("hela cluster starts");
    if let (Some((n, log)), Some(stderr)) = (log, child.stderr.take()) {
        std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).try_for_each(|line| log.send((n, line))));
    }
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("a line");
    (Process(child), line.trim().to_string())
}

fn start(args: &[&str]) -> (Process, String) {
    start_logging(args, None)
}

/// A scheduler and `executors` executors of one core each, with the scheduler's URL.
fn cluster(work: &Path, executors: usize) -> (Vec<Process>, String) {
    cluster_logging(work, executors, None)
}

/// [`cluster`], with each executor's log sent to `log` with its number.
fn cluster_logging(work: &Path, executors: usize, log: Option<Sender<(usize, String)>>) -> (Vec<Process>, String) {
    let (scheduler, line) = start(&["scheduler", "--bind", "127.0.0.1:0", "--executor-timeout", "6"]);
    let url = line.strip_prefix("scheduler listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let mut processes = vec![scheduler];
    for n in 0..executors {
        let dir = work.join(format!("executor-{n}"));
        let args = ["executor", "--scheduler", &url, "--port", "0", "--cores", "1", "--work-dir", dir.to_str().unwrap()];
        let (executor, line) = start_logging(&args, log.clone().map(|log| (n, log)));
        assert!(line.starts_with("executor serving on 127.0.0.1:"), "{line}");
        processes.push(executor);
    }
    (processes, url)
}

/// A lake under `dir` holding `events` sample events.
fn sample_lake(dir: &Path, events: usize) -> PathBuf {
    let (sample, lake) = (dir.join("sample.json"), dir.join("lake"));
    hela_ok(&["sample", "--out", sample.to_str().unwrap(), "--events", &events.to_string()]);
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), sample.to_str().unwrap()]);
    lake
}

/// The lines of `text`, sorted.
fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The jobs whose output executor `n`'s work directory under `work` holds.
fn jobs_run(work: &Path, n: usize) -> usize {
    std::fs::read_dir(work.join(format!("executor-{n}"))).map_or(0, |d| d.count())
}

fn csv(lake: &Path, cluster: Option<&str>, sql: &str) -> String {
    let lake = lake.to_str().unwrap();
    match cluster {
        Some(url) => hela_ok(&["sql", "--lake", lake, "--cluster", url, "--format", "csv", sql]),
        None => hela_ok(&["sql", "--lake", lake, "--format", "csv", sql]),
    }
}

const QUERIES: &[&str] = &[
    "SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY EventID",
    "SELECT Hostname, count(DISTINCT Image) AS images, min(`@timestamp`) AS first FROM events WHERE EventID = 1 GROUP BY Hostname ORDER BY Hostname",
    // The seeds' lateral movement: a network logon joined to the processes of its session.
    "SELECT s.Hostname, s.TargetUserName, p.ParentImage, p.Image FROM events s JOIN events p \
     ON s.TargetLogonId = p.LogonId WHERE s.EventID = 4624 AND s.LogonType = '3' AND p.EventID = 1 ORDER BY 4, 3, 1, 2",
    "SELECT Image, rank() OVER (PARTITION BY Hostname ORDER BY count(*) DESC, Image) AS r FROM events \
     WHERE EventID = 1 GROUP BY Hostname, Image ORDER BY Image, r LIMIT 20",
    // A notebook's view of the whole table, and a view with a filter.
    "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM events; \
     CREATE OR REPLACE TEMP VIEW logons AS SELECT * FROM dataTable WHERE EventID = 4624; \
     SELECT d.Hostname, count(*) AS n, count(DISTINCT l.TargetUserName) AS users FROM dataTable d JOIN logons l ON d.Hostname = l.Hostname \
     WHERE d.EventID = 1 GROUP BY 1 ORDER BY 1",
    // Spark's `avg` beside `stddev`: the scheduler must plan the functions executors run.
    "SELECT Hostname, round(avg(EventID), 6) AS mean, round(stddev(EventID), 6) AS sd, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
    // hela's own Spark functions run on the executors.
    "SELECT date_format(`@timestamp`, 'yyyy-MM-dd HH') AS hour, upper(substring(Hostname, 1, 4)) AS h, count(*) AS n, \
     sum(CASE WHEN EventID = 4624 THEN 1 ELSE 0 END) AS logons FROM events GROUP BY 1, 2 ORDER BY 1, 2",
];

#[test]
fn a_session_on_a_cluster_has_as_many_partitions_as_the_cluster_has_cores() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), 500);
    let (scheduler, line) = start(&["scheduler", "--bind", "127.0.0.1:0"]);
    let url = line.strip_prefix("scheduler listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let mut processes = vec![scheduler];
    for (n, cores) in ["3", "2"].into_iter().enumerate() {
        let work = dir.path().join(format!("executor-{n}"));
        processes.push(start(&["executor", "--scheduler", &url, "--port", "0", "--cores", cores, "--work-dir", work.to_str().unwrap()]).0);
    }
    // The shuffle of a grouping has a partition per core of the two executors (this machine
    // has 2): once both have registered, which they do when they first ask for work.
    let sql = "EXPLAIN SELECT Hostname, count(*) FROM events GROUP BY Hostname";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let plan = csv(&lake, Some(&url), sql);
        if plan.contains("Hash([Hostname@0], 5)") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no shuffle into 5 partitions: {plan}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn queries_on_two_executors_give_the_local_rows() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), 3000);
    let (processes, url) = cluster(dir.path(), 2);
    for sql in QUERIES {
        let local = csv(&lake, None, sql);
        assert!(local.lines().count() > 2, "{sql}: {local}");
        assert_eq!(csv(&lake, Some(&url), sql), local, "{sql}");
    }
    // Executors take tasks as they ask for work: over these queries, each took some.
    for n in 0..2 {
        assert!(jobs_run(dir.path(), n) > 0, "executor {n} kept the shuffle output of its tasks");
    }

    // What cannot run there is refused with its name, before anything is sent.
    let lake_arg = lake.to_str().unwrap();
    let graph = "SELECT * FROM degrees((SELECT Hostname AS src, Image AS dst FROM events))";
    let refused = common::hela(&["sql", "--lake", lake_arg, "--cluster", &url, graph], None);
    assert!(!refused.status.success());
    assert!(common::stderr(&refused).contains("table degrees() cannot run on a cluster"), "{}", common::stderr(&refused));

    // A scheduler that is down is named.
    drop(processes);
    let down = common::hela(&["sql", "--lake", lake_arg, "--cluster", &url, QUERIES[0]], None);
    assert!(common::stderr(&down).contains(&format!("cannot reach the cluster's scheduler at {url}")), "{}", common::stderr(&down));
    // A hunt there prints the reason alone: no table header before it.
    let rule = dir.path().join("processes.yml");
    std::fs::write(
        &rule,
        "title: A process started\nid: 0b1f9d52-6c3e-4a7d-8e21-3f4a5b6c7d80\nstatus: test\nlevel: low\n\
         logsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    EventID: 1\n  condition: sel\n",
    )
    .unwrap();
    let hunt = common::hela(&["hunt", "--lake", lake_arg, "--cluster", &url, "--sigma", rule.to_str().unwrap(), "--format", "table"], None);
    assert!(!hunt.status.success() && hunt.stdout.is_empty(), "{}", String::from_utf8_lossy(&hunt.stdout));
    assert!(common::stderr(&hunt).contains(&format!("cannot reach the cluster's scheduler at {url}")), "{}", common::stderr(&hunt));
}

/// `hela hunt ARGS --format jsonl` over `lake`, locally or on the cluster at `url`: its
/// detections, one JSON line each, in order.
fn hunt(lake: &Path, rules: &[&Path], cluster: Option<&str>) -> Vec<String> {
    let mut args = vec!["hunt", "--lake", lake.to_str().unwrap(), "--format", "jsonl", "--quiet"];
    for rules in rules {
        args.extend(["--sigma", rules.to_str().unwrap()]);
    }
    if let Some(url) = cluster {
        args.extend(["--cluster", url]);
    }
    sorted_lines(&hela_ok(&args))
}

#[test]
fn a_sigma_hunt_on_two_executors_finds_the_local_detections() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), 3000);
    let (_processes, url) = cluster(dir.path(), 2);

    // A rule, and a correlation over two others (run here, over the detections sent back).
    let correlations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/correlations");
    let rule = dir.path().join("shells.yml");
    std::fs::write(
        &rule,
        "title: A shell started\nid: 5d0a9c3e-4b1f-4e52-9d7a-1c2b3d4e5f60\nstatus: test\nlevel: medium\n\
         logsource: {product: windows, category: process_creation}\n\
         detection:\n  sel:\n    Image|endswith: ['\\\\cmd.exe', '\\\\powershell.exe']\n  condition: sel\n",
    )
    .unwrap();
    let local = hunt(&lake, &[&correlations, &rule], None);
    let correlated = local.iter().filter(|l| l.contains("\"correlation\"")).count();
    assert!(correlated > 0 && local.len() > correlated, "{} detections, {correlated} correlated", local.len());
    assert_eq!(hunt(&lake, &[&correlations, &rule], Some(&url)), local);
    assert!(jobs_run(dir.path(), 0) + jobs_run(dir.path(), 1) > 0, "the executors ran the hunt");

    // SigmaHQ's Windows rules over real datasets, when ../shared is there.
    let Some(datasets) = common::shared("datasets/security-datasets") else { return };
    let Some(windows) = common::shared("sigma/rules-corpus/rules/windows") else { return };
    let real = dir.path().join("real");
    for name in ["covenant_copy_smb_CreateRequest.zip", "covenant_dcom_iertutil_dll_hijack.zip", "covenant_lolbin_wuauclt_createremotethread.zip"] {
        hela_ok(&["ingest", "--lake", real.to_str().unwrap(), datasets.join(name).to_str().unwrap()]);
    }
    let local = hunt(&real, &[&windows], None);
    assert!(local.len() > 20, "{} detections", local.len());
    assert_eq!(hunt(&real, &[&windows], Some(&url)), local);
}

#[test]
fn an_executor_killed_mid_query_leaves_the_local_rows_or_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), 200_000);
    // Each scan task hashes every event's text made 4 KB long: long enough to be killed in.
    let sql = "SELECT EventID, count(*) AS n, count(DISTINCT sha2(concat(Hostname, `@timestamp`, repeat('x', 4000)), 256)) AS d \
               FROM events GROUP BY 1 ORDER BY 1";
    let local = csv(&lake, None, sql);
    let (log, lines) = std::sync::mpsc::channel();
    let (mut processes, url) = cluster_logging(dir.path(), 2, Some(log));

    let mut query = Command::new(env!("CARGO_BIN_EXE_hela"))
        .args(["sql", "--lake", lake.to_str().unwrap(), "--cluster", &url, "--format", "csv", sql])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first executor handed a task is killed while it runs it.
    let victim = lines
        .iter()
        .find_map(|(n, line): (usize, String)| line.contains("Received task").then_some(n))
        .expect("an executor receives a task");
    let executor = &mut processes[1 + victim].0;
    assert!(query.try_wait().unwrap().is_none(), "the query still runs when the executor is killed");
    Command::new("kill").args(["-9", &executor.id().to_string()]).status().unwrap();
    executor.wait().unwrap();
    let finished = query.wait_with_output().unwrap();

    let (stdout, stderr) = (String::from_utf8_lossy(&finished.stdout), common::stderr(&finished));
    if finished.status.success() {
        // Ballista's retry ran the lost tasks on the executor left.
        assert_eq!(stdout, local);
        eprintln!("executor {victim} killed mid-query: the query completed on the other");
    } else {
        assert!(stderr.contains("executor") || stderr.contains("Executor"), "an error that names the lost executor: {stderr}");
        assert!(stdout.is_empty(), "no partial rows: {stdout}");
        eprintln!("executor {victim} killed mid-query: the query failed with {stderr}");
    }
}

#[test]
fn a_server_runs_its_queries_on_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), 3000);
    let (_processes, url) = cluster(dir.path(), 2);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hela"))
        .args(["serve", "--lake", lake.to_str().unwrap(), "--listen", "127.0.0.1:0", "--commit-interval", "200", "--cluster", &url])
        .env_remove("HELA_LAKE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _server = Process(child);
    let server = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();

    // Events the server stores are in the lake the executors read.
    let body = "{\"index\":{\"_index\":\"winlogbeat\",\"_id\":\"shipped-1\"}}\n{\"EventID\": 4624, \"Hostname\": \"SHIPPED\", \"LogonType\": \"3\"}\n";
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(30))).build().into();
    let answer = agent.post(&format!("{server}/_bulk?refresh=wait_for")).header("Content-Type", "application/x-ndjson").send(body).unwrap().into_body().read_to_string().unwrap();
    assert!(answer.contains("\"errors\":false"), "{answer}");

    let shipped = "SELECT _index, Hostname, count(*) AS n FROM events WHERE EventID = 4624 GROUP BY 1, 2 ORDER BY 1, 2";
    for sql in [QUERIES[0], QUERIES[2], shipped] {
        let remote = hela_ok(&["sql", "--server", &server, "--format", "csv", sql]);
        assert_eq!(remote, csv(&lake, None, sql), "{sql}");
    }
    assert!(hela_ok(&["sql", "--server", &server, "--format", "csv", shipped]).contains("winlogbeat,SHIPPED,1"));
    assert!(jobs_run(dir.path(), 0) + jobs_run(dir.path(), 1) > 0, "the executors ran the server's queries");
}

#[test]
fn every_threat_hunter_playbook_case_gives_the_local_rows_on_the_cluster() {
    let Some(cases) = common::shared("conformance/thp/cases.jsonl") else { return };
    let Some(datasets) = common::shared("datasets/security-datasets") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_processes, url) = cluster(dir.path(), 2);
    let mut lakes: std::collections::HashMap<Vec<String>, PathBuf> = std::collections::HashMap::new();
    let text = std::fs::read_to_string(cases).unwrap();
    for line in text.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let names: Vec<String> = case["datasets"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
        let count = lakes.len();
        let lake = lakes.entry(names.clone()).or_insert_with(|| {
            let lake = dir.path().join(format!("lake-{count}"));
            let mut args = vec!["ingest".to_string(), "--lake".into(), lake.to_string_lossy().into_owned()];
            args.extend(names.iter().map(|n| datasets.join(n).to_string_lossy().into_owned()));
            hela_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
            lake
        });
        let sql = format!(
            "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM events; CREATE OR REPLACE TEMP VIEW sparkTable AS SELECT * FROM events; {}",
            case["sql"].as_str().unwrap()
        );
        let local = sorted_lines(&csv(lake, None, &sql));
        assert_eq!(sorted_lines(&csv(lake, Some(&url), &sql)), local, "{}", case["id"]);
        // And the lake answers as Spark did over the same archives (as many rows).
        let rows = hela_ok(&["sql", "--lake", lake.to_str().unwrap(), "--format", "jsonl", &sql]).lines().count();
        assert_eq!(rows, case["expected"]["rows"].as_array().unwrap().len(), "{}", case["id"]);
    }
}

/// An S3-compatible server (`s3s-fs`) on loopback, serving the directories under `root` as
/// buckets, killed when dropped; hela reaches it through the `AWS_*` environment.
struct S3Server {
    _process: Process,
}

impl S3Server {
    /// Starts the server with a bucket `bucket`, and points this test process (and the
    /// processes it starts) at it.
    fn start(root: &Path, bucket: &str) -> S3Server {
        std::fs::create_dir_all(root.join(bucket)).unwrap();
        let program = common::cargo_installed("s3s-fs");
        // s3s-fs cannot choose its own port: a free one is found and handed to it, and if
        // another process takes it first, s3s-fs exits and is started on another.
        let (process, address) = (0..5)
            .find_map(|_| {
                let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
                let child = Command::new(&program)
                    .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", "hunter", "--secret-key", "hunter-secret"])
                    .arg(root)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("s3s-fs runs (cargo install s3s-fs --features binary; .ci/run installs it)");
                let mut process = Process(child);
                let address = format!("127.0.0.1:{port}");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                while std::net::TcpStream::connect(&address).is_err() {
                    if process.0.try_wait().unwrap().is_some() {
                        return None;
                    }
                    assert!(std::time::Instant::now() < deadline, "s3s-fs did not listen on {address}");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Some((process, address))
            })
            .expect("s3s-fs started on one of five free ports");
        let settings = [
            ("AWS_ENDPOINT", format!("http://{address}")),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_ACCESS_KEY_ID", "hunter".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "hunter-secret".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ];
        for (name, value) in settings {
            // SAFETY: std serialises its own reads of the environment (`Command::spawn`)
            // with this write, and nothing else in this test binary reads it.
            unsafe { std::env::set_var(name, value) };
        }
        S3Server { _process: process }
    }
}

#[test]
fn a_lake_on_an_object_store_gives_the_local_rows_here_and_on_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let _s3 = S3Server::start(&dir.path().join("s3"), "hunt");
    let local = sample_lake(dir.path(), 3000);
    let sample = dir.path().join("sample.json");
    let store = "s3://hunt/lakes/sample";
    hela_ok(&["ingest", "--lake", store, sample.to_str().unwrap()]);
    assert!(dir.path().join("s3/hunt/lakes/sample/catalog.json").is_file(), "the catalog is in the bucket");
    let (_processes, url) = cluster(dir.path(), 2);
    for sql in QUERIES {
        let expected = csv(&local, None, sql);
        assert_eq!(csv(Path::new(store), None, sql), expected, "{sql}");
        assert_eq!(csv(Path::new(store), Some(&url), sql), expected, "on the cluster: {sql}");
    }
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, "title: Shells\nlogsource: {product: windows}\ndetection:\n  s: {Image|endswith: '\\cmd.exe'}\n  condition: s\n").unwrap();
    let detections = hunt(&local, &[&rules], None);
    assert!(!detections.is_empty());
    assert_eq!(hunt(Path::new(store), &[&rules], None), detections);
    assert_eq!(hunt(Path::new(store), &[&rules], Some(&url)), detections);

    // A second ingest commits on top of the first (a put conditional on the catalog's e-tag).
    let more = dir.path().join("more.json");
    hela_ok(&["sample", "--out", more.to_str().unwrap(), "--events", "500"]);
    hela_ok(&["ingest", "--lake", local.to_str().unwrap(), more.to_str().unwrap()]);
    hela_ok(&["ingest", "--lake", store, more.to_str().unwrap()]);
    assert_eq!(csv(Path::new(store), Some(&url), QUERIES[0]), csv(&local, None, QUERIES[0]));
    // An ingest that adds nothing (its input is in the lake already) commits nothing.
    let lake_in_bucket = dir.path().join("s3/hunt/lakes/sample");
    let catalog_file = lake_in_bucket.join("catalog.json");
    let committed = std::fs::metadata(&catalog_file).unwrap().modified().unwrap();
    hela_ok(&["ingest", "--lake", store, more.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&catalog_file).unwrap().modified().unwrap(), committed, "the catalog was put again");

    // Two writers: the one that commits second, on a catalog that changed since it began,
    // commits nothing and says so; the store keeps the first writer's commit.
    let mut slow = Command::new(env!("CARGO_BIN_EXE_hela"))
        .args(["ingest", "--lake", store, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = slow.stdin.take().unwrap();
    let text = std::fs::read(&sample).unwrap();
    // More than a pipe holds: written only once the writer reads, so it has begun.
    std::io::Write::write_all(&mut input, &text).unwrap();
    let third = dir.path().join("third.json");
    hela_ok(&["sample", "--out", third.to_str().unwrap(), "--events", "200"]);
    hela_ok(&["ingest", "--lake", store, third.to_str().unwrap()]);
    drop(input);
    let refused = slow.wait_with_output().unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("another writer committed to this lake") && message.contains(store), "{message}");
    let count = |lake: &Path| csv(lake, None, "SELECT count(*) AS n FROM events");
    hela_ok(&["ingest", "--lake", local.to_str().unwrap(), third.to_str().unwrap()]);
    assert_eq!(count(Path::new(store)), count(&local));

    // Compaction through a working copy: fewer files in the bucket, the same answers.
    let store_files = || common::catalog(&lake_in_bucket)["tables"]["events"]["files"].as_array().unwrap().len();
    let before = store_files();
    let compacted = common::hela(&["lake", "compact", "--lake", store], None);
    assert!(compacted.status.success() && common::stderr(&compacted).contains("merged "), "{}", common::stderr(&compacted));
    assert!(store_files() < before, "{} files, {before} before", store_files());
    for sql in QUERIES {
        assert_eq!(csv(Path::new(store), None, sql), csv(&local, None, sql), "compacted: {sql}");
    }

    // A vacuum removes the files the compaction retired, once expired, and the files no
    // catalog names (the refused writer's uploads) once an hour old: a write under way
    // uploads its files before it commits them.
    let stored = || -> BTreeSet<String> {
        common::files_under(&lake_in_bucket.join("tables")).iter().map(|f| f.strip_prefix(&lake_in_bucket).unwrap().to_string_lossy().into_owned()).collect()
    };
    let catalog = common::catalog(&lake_in_bucket);
    let named: BTreeSet<String> = catalog["tables"]["events"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    let retired: BTreeSet<String> = catalog["retired"].as_object().unwrap().keys().cloned().collect();
    let unnamed: Vec<String> = stored().into_iter().filter(|f| !named.contains(f) && !retired.contains(f)).collect();
    assert!(!retired.is_empty() && !unnamed.is_empty(), "retired {retired:?}, unnamed {unnamed:?}");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options().write(true).open(lake_in_bucket.join(&unnamed[0])).unwrap().set_modified(two_hours_ago).unwrap();
    let vacuumed = common::hela(&["lake", "vacuum", "--lake", store, "--keep", "0s"], None);
    let said = format!("removed {} files: {} retired and expired, 1 that no catalog names", retired.len() + 1, retired.len());
    assert!(vacuumed.status.success() && common::stderr(&vacuumed).contains(&said), "{}", common::stderr(&vacuumed));
    let kept: BTreeSet<String> = named.iter().chain(&unnamed[1..]).cloned().collect();
    assert_eq!(stored(), kept, "the files named, and the recent ones no catalog names");
    for sql in QUERIES {
        assert_eq!(csv(Path::new(store), None, sql), csv(&local, None, sql), "vacuumed: {sql}");
    }

    // A store that refuses the credentials is named, not taken for an empty lake.
    let refused = Command::new(env!("CARGO_BIN_EXE_hela"))
        .args(["sql", "--lake", store, "SELECT count(*) FROM events"])
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && message.contains("s3://hunt/lakes/sample/catalog.json") && message.contains("403"), "{message}");

    // What keeps state beside the lake cannot run on one in a store.
    let serve = common::hela(&["serve", "--lake", store, "--listen", "127.0.0.1:0"], None);
    assert!(!serve.status.success());
    assert!(common::stderr(&serve).contains("a lake on an object store is written by `hela ingest` only"), "{}", common::stderr(&serve));
}
