//! `hela ingest` end to end on project-made fixtures in the shapes of real datasets.

mod common;

use common::*;

#[test]
fn both_windows_shapes_archives_and_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("nested")).unwrap();
    std::fs::write(data.join("nxlog.json"), nxlog_lines()).unwrap();
    std::fs::write(data.join("nested/winlogbeat.json.gz"), gzip(winlogbeat_lines().as_bytes())).unwrap();
    zip_of(&data.join("dataset.zip"), "dataset_2020.json", nxlog_lines().as_bytes());
    let bad = format!("{}not json at all\n[1, 2]\n{{\"EventID\": \n", nxlog_lines());
    std::fs::write(data.join("bad.jsonl"), bad).unwrap();
    std::fs::write(data.join("notes.txt"), "ignored: not a log file\n").unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();

    let out = hela(&["ingest", "--lake", lake_arg, data.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("4 read, 0 skipped"), "{err}");
    assert!(err.contains("17 stored, 3 quarantined"), "{err}");
    assert!(err.contains("bad.jsonl:6: invalid JSON"), "{err}");
    assert!(err.contains("bad.jsonl:7: record is not a JSON object"), "{err}");

    assert_eq!(count(&lake, "events"), 17);
    assert_eq!(count(&lake, "events WHERE EventID = 4624"), 6);
    // The Winlogbeat shape keeps its nested fields, reachable with dots.
    let rows = query(&lake, "SELECT computer_name, event_data.ParentImage AS parent, event_data.LogonId FROM events WHERE event_id = 1");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["parent"], "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe");
    // Keys differing only in case are two columns.
    assert_eq!(count(&lake, "events WHERE SourceProcessGUID IS NOT NULL"), 3);
    assert_eq!(count(&lake, "events WHERE SourceProcessGuid IS NOT NULL"), 3);
    // A field seen as number and as string is a string holding both.
    let types = query(&lake, "SELECT DISTINCT LogonType FROM events WHERE LogonType IS NOT NULL ORDER BY LogonType");
    assert_eq!(types, vec![serde_json::json!({"LogonType": "3"}), serde_json::json!({"LogonType": "5"})]);
    // @timestamp compares as a string, the way Spark users write it.
    assert_eq!(count(&lake, "events WHERE `@timestamp` BETWEEN '2020-09-21 00:00:00.000' AND '2020-09-22 00:00:00.000'"), 12);

    // The quarantine keeps every bad line with its file, line and reason.
    let quarantine_dir = lake.join("quarantine");
    let entries: Vec<serde_json::Value> = std::fs::read_dir(&quarantine_dir)
        .unwrap()
        .flat_map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>())
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["line"], 6);
    assert_eq!(entries[0]["text"], "not json at all");
    assert!(entries[0]["source"].as_str().unwrap().ends_with("bad.jsonl"));

    // Ingesting again is skipped; --force reads again.
    let again = hela(&["ingest", "--lake", lake_arg, data.to_str().unwrap()], None);
    assert!(again.status.success());
    assert!(stderr(&again).contains("0 read, 4 skipped"), "{}", stderr(&again));
    assert_eq!(count(&lake, "events"), 17);
    let forced = hela(&["ingest", "--force", "--lake", lake_arg, data.join("nxlog.json").to_str().unwrap()], None);
    assert!(forced.status.success());
    assert_eq!(count(&lake, "events"), 22);
}

#[test]
fn truncated_tar_gz_keeps_complete_records_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let body = nxlog_lines().repeat(400);
    let archive = tar_gz("empire_enable_rdp.json", body.as_bytes());
    // The gzip trailer and tar end blocks are missing, as in real downloads.
    let path = dir.path().join("cut.tar.gz");
    std::fs::write(&path, &archive[..archive.len() - 8]).unwrap();
    let lake = dir.path().join("lake");
    let out = hela(&["ingest", "--lake", lake.to_str().unwrap(), path.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning:") && err.contains("cut.tar.gz"), "{err}");
    assert!(err.contains("2000 stored, 0 quarantined"), "{err}");
    assert!(err.contains("warnings  1"), "{err}");
}

#[test]
fn standard_input_and_unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = hela(
        &["ingest", "--lake", lake.to_str().unwrap(), "-", "/no/such/dataset.zip"],
        Some(&gzip(winlogbeat_lines().as_bytes())),
    );
    assert_eq!(out.status.code(), Some(1), "a failed input is an error exit");
    let err = stderr(&out);
    assert!(err.contains("/no/such/dataset.zip"), "{err}");
    assert!(err.contains("1 read, 0 skipped (already in the lake), 1 failed"), "{err}");
    assert_eq!(count(&lake, "events"), 2);
}

#[test]
fn appends_widen_the_schema_and_old_files_read_as_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingest_one_by_one(&dir, &[
        "{\"EventID\":1,\"Channel\":\"a\",\"n\":1,\"data\":{\"x\":1}}\n",
        "{\"EventID\":2,\"Channel\":\"a\",\"n\":2.5,\"data\":{\"y\":\"new\"},\"Added\":true}\n",
    ]);
    let lake_arg = lake.to_str().unwrap();
    assert!(!lake.join("_staging").exists(), "a finished ingest leaves no staging area");
    let rows = query(&lake, "SELECT EventID, n, data.x AS x, data.y AS y, Added FROM events ORDER BY EventID");
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"EventID": 1, "n": 1.0, "x": 1, "y": null, "Added": null}),
            serde_json::json!({"EventID": 2, "n": 2.5, "x": null, "y": "new", "Added": true}),
        ]
    );
    let schema = hela_ok(&["schema", "--lake", lake_arg, "events"]);
    assert!(schema.contains("data: struct\n  x: bigint\n  y: string"), "{schema}");
    let tables = hela_ok(&["tables", "--lake", lake_arg]);
    assert!(tables.lines().any(|l| l.starts_with("events") && l.contains(" 2 ")), "{tables}");
}

#[test]
fn a_nested_field_that_later_holds_text_reads_as_json_text() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingest_one_by_one(&dir, &[
        "{\"EventID\":1,\"Channel\":\"one\",\"x\":{\"a\":1},\"l\":[1,2]}\n",
        "{\"EventID\":2,\"Channel\":\"two\",\"x\":\"text\",\"l\":\"none\",\"later\":true}\n",
    ]);
    let rows = query(&lake, "SELECT EventID, x, l, later FROM events ORDER BY EventID");
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"EventID": 1, "x": "{\"a\":1}", "l": "[1,2]", "later": null}),
            serde_json::json!({"EventID": 2, "x": "text", "l": "none", "later": true}),
        ]
    );
    // The first file, rewritten with its values as text, keeps its own columns only.
    let catalog = catalog(&lake);
    let files = catalog["tables"]["events"]["files"].as_array().unwrap();
    let first = files.iter().find(|f| f["rows"] == 1 && f["event_ids"] == serde_json::json!([1])).expect("the first event's file");
    assert_eq!(catalog["retired"].as_object().unwrap().len(), 1, "the first file was rewritten: {catalog}");
    assert_eq!(parquet_columns(&lake.join(first["path"].as_str().unwrap())), ["Channel", "EventID", "l", "x"]);
}

#[test]
fn a_nested_field_that_holds_text_later_in_the_same_ingest_reads_as_json_text() {
    // The Winlogbeat shape's `host` is an object and NXLog's a string: both in one input, in
    // two partitions (sources) whose files are committed together.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.json");
    let lines = [
        "{\"EventID\":1,\"Channel\":\"a\",\"host\":{\"name\":\"WKS1\"},\"l\":[1]}",
        "{\"EventID\":2,\"Channel\":\"b\",\"host\":\"WKS2\",\"l\":\"none\"}",
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let lake = dir.path().join("lake");
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), input.to_str().unwrap()]);
    let rows = query(&lake, "SELECT EventID, host, l FROM events ORDER BY EventID");
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"EventID": 1, "host": "{\"name\":\"WKS1\"}", "l": "[1]"}),
            serde_json::json!({"EventID": 2, "host": "WKS2", "l": "none"}),
        ]
    );
}

#[test]
fn interrupted_ingest_leaves_the_lake_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let small = dir.path().join("small.json");
    std::fs::write(&small, nxlog_lines()).unwrap();
    hela_ok(&["ingest", "--lake", lake_arg, small.to_str().unwrap()]);
    let big = dir.path().join("big.json");
    hela_ok(&["sample", "--out", big.to_str().unwrap(), "--events", "150000"]);

    // Kill it once it has staged data but before it can have committed the input.
    let staging = lake.join("_staging");
    let ingest = ["ingest", "--quiet", "--lake", lake_arg, big.to_str().unwrap()];
    assert!(kill_when_begun(&ingest, || has_staged_files(&lake)), "the ingest was killed before it finished");
    assert_eq!(count(&lake, "events"), 5, "nothing of the killed ingest is visible");
    // The next ingest cleans up and stores the input whole.
    let out = hela(&["ingest", "--quiet", "--lake", lake_arg, big.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&lake, "events"), 5 + 150_004);
    assert!(files_under(&staging).is_empty());
}

#[test]
fn each_ingest_merges_the_small_files_of_the_partitions_it_wrote() {
    let event = |id: u32, channel: &str, extra: &str| {
        format!("{{\"@timestamp\":\"2020-09-21T04:14:{id:02}.000Z\",\"Channel\":\"{channel}\",\"EventID\":{id}{extra}}}\n")
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let inputs = [
        event(1, "Security", "") + &event(2, "Microsoft-Windows-Sysmon/Operational", ""),
        // A column the partition's first file lacks.
        event(3, "Security", ",\"LogonType\":3"),
        // Another day: a partition of its own.
        event(4, "Security", "").replace("2020-09-21", "2020-09-22"),
    ];
    let on_disk = || files_under(&lake.join("tables")).len();
    let (mut reports, mut files_on_disk) = (Vec::new(), Vec::new());
    for (i, text) in inputs.iter().enumerate() {
        let file = dir.path().join(format!("input-{i}.json"));
        std::fs::write(&file, text).unwrap();
        let out = hela(&["ingest", "--lake", lake_arg, file.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", stderr(&out));
        reports.push(stderr(&out));
        files_on_disk.push(on_disk());
    }
    // The files merged stay, retired, for readers of the catalog before, until they expire.
    assert_eq!(files_on_disk, [2, 4, 5]);
    let retired = || catalog(&lake)["retired"].clone();
    assert_eq!(retired().as_object().map(|r| r.len()), Some(2), "{}", retired());
    assert!(hela_ok(&["lake", "vacuum", "--lake", lake_arg]).is_empty());
    assert_eq!(on_disk(), 5, "retired ten minutes ago at most: kept");
    let out = hela(&["lake", "vacuum", "--lake", lake_arg, "--keep", "0s"], None);
    assert!(stderr(&out).contains("removed 2 files: 2 retired and expired, 0 that no catalog names"), "{}", stderr(&out));
    assert_eq!((on_disk(), retired()), (3, serde_json::Value::Null));
    assert!(reports[1].contains("1 Parquet files written; 1 fewer once each partition's small files were merged"), "{}", reports[1]);
    assert!(!reports[2].contains("fewer"), "the third ingest wrote a partition of one file: {}", reports[2]);

    let partitions = || {
        let catalog = catalog(&lake);
        let mut files: Vec<String> = catalog["tables"]["events"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {} rows={} ids={} channel={}", f["source"], f["day"], f["rows"], f["event_ids"], f["channel"]))
            .collect();
        files.sort();
        files
    };
    assert_eq!(partitions(), [
        r#""Microsoft-Windows-Sysmon/Operational" "2020-09-21" rows=1 ids=[2] channel="every""#,
        r#""Security" "2020-09-21" rows=2 ids=[1,3] channel="every""#,
        r#""Security" "2020-09-22" rows=1 ids=[4] channel="every""#,
    ]);
    let rows = query(&lake, "SELECT EventID, LogonType FROM events WHERE Channel = 'Security' ORDER BY EventID");
    let expected = [(1, None), (3, Some(3)), (4, None)].map(|(id, logon_type)| serde_json::json!({"EventID": id, "LogonType": logon_type}));
    assert_eq!(rows, expected);
    // Merged files merge again.
    hela_ok(&["ingest", "--force", "--lake", lake_arg, dir.path().join("input-0.json").to_str().unwrap()]);
    assert_eq!(count(&lake, "events"), 6);
    assert_eq!(partitions(), [
        r#""Microsoft-Windows-Sysmon/Operational" "2020-09-21" rows=2 ids=[2] channel="every""#,
        r#""Security" "2020-09-21" rows=3 ids=[1,3] channel="every""#,
        r#""Security" "2020-09-22" rows=1 ids=[4] channel="every""#,
    ]);
}

/// Writes each text as a file and ingests the files one after another into a new lake.
fn ingest_one_by_one(dir: &tempfile::TempDir, texts: &[&str]) -> std::path::PathBuf {
    let lake = dir.path().join("lake");
    for (i, text) in texts.iter().enumerate() {
        let file = dir.path().join(format!("input-{i}.json"));
        std::fs::write(&file, text).unwrap();
        hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), file.to_str().unwrap()]);
    }
    lake
}

#[test]
fn lake_files_are_lz4_parquet_with_statistics() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    let lake = dir.path().join("lake");
    hela_ok(&["sample", "--out", sample.to_str().unwrap(), "--events", "300"]);
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), sample.to_str().unwrap()]);
    let mut files = Vec::new();
    let mut dirs = vec![lake.join("tables")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            if entry.path().is_dir() { dirs.push(entry.path()) } else { files.push(entry.path()) }
        }
    }
    assert!(!files.is_empty());
    for file in files {
        let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
        let row_group = reader.metadata().row_group(0);
        for column in row_group.columns() {
            assert_eq!(column.compression(), parquet::basic::Compression::LZ4_RAW, "{}: {}", file.display(), column.column_path());
        }
        let timestamp = row_group.columns().iter().find(|c| c.column_path().string() == "@timestamp").expect("@timestamp");
        assert!(timestamp.statistics().is_some_and(|s| s.min_bytes_opt().is_some()), "{}", file.display());
    }
}

/// Runs `hela ARGS` and kills it (SIGKILL) as soon as `begun` says its work has begun;
/// returns whether it was still running then.
fn kill_when_begun(args: &[&str], begun: impl Fn() -> bool) -> bool {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hela")).args(args).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !begun() && std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    child.wait().unwrap();
    running
}

/// True once a writer has staged a Parquet file in `lake` (it has begun writing, and not yet
/// committed what it staged).
fn has_staged_files(lake: &std::path::Path) -> bool {
    files_under(&lake.join("_staging")).iter().any(|f| f.extension().is_some_and(|e| e == "parquet"))
}

/// One event a day for `days` days from 2020-01-01 (days 1 to 28 of each month), and two
/// in 2099 and one without a time, which retention keeps.
fn events_over_days(days: usize) -> String {
    let dates = (1..=12).flat_map(|month| (1..=28).map(move |day| format!("2020-{month:02}-{day:02}"))).take(days);
    let old = dates.map(|date| format!("{{\"@timestamp\":\"{date}T10:00:00Z\",\"Channel\":\"Security\",\"EventID\":4624}}\n"));
    let kept = ["2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z"].map(|t| format!("{{\"@timestamp\":\"{t}\",\"Channel\":\"Security\",\"EventID\":4625}}\n"));
    old.chain(kept).chain(["{\"Channel\":\"Security\",\"EventID\":1102}\n".to_string()]).collect()
}

#[test]
fn retention_drops_old_days_and_a_vacuum_killed_midway_leaves_the_lake_whole() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let input = dir.path().join("events.json");
    std::fs::write(&input, events_over_days(300)).unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake_arg, input.to_str().unwrap()]);
    assert_eq!(count(&lake, "events"), 303);
    let files = || files_under(&lake.join("tables")).len();
    assert_eq!(files(), 303);

    let catalog = || std::fs::read(lake.join("catalog.json")).unwrap();
    let before = catalog();
    let dry = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "90d", "--dry-run"], None);
    assert!(stderr(&dry).contains("would drop 300 days (2020-01-01 to 2020-11-20): 300 files, 300 rows"), "{}", stderr(&dry));
    assert_eq!(catalog(), before, "a dry run changes nothing");
    let out = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "90d"], None);
    assert!(stderr(&out).contains("dropped 300 days (2020-01-01 to 2020-11-20): 300 files, 300 rows"), "{}", stderr(&out));
    let kept = query(&lake, "SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY EventID");
    assert_eq!(kept, [serde_json::json!({"EventID": 1102, "n": 1}), serde_json::json!({"EventID": 4625, "n": 2})]);
    assert_eq!(files(), 303, "the dropped days' files stay for the queries reading them");
    let again = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "90d"], None);
    assert!(stderr(&again).contains("nothing to drop"), "{}", stderr(&again));

    // A vacuum killed (SIGKILL) at some point of its work: the lake answers as before, and
    // the next vacuum finishes it.
    kill_when_begun(&["lake", "vacuum", "--lake", lake_arg, "--keep", "0s"], || files() != 303);
    assert_eq!(query(&lake, "SELECT EventID, count(*) AS n FROM events GROUP BY EventID ORDER BY EventID"), kept);
    let out = hela(&["lake", "vacuum", "--lake", lake_arg, "--keep", "0s"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(), 3, "the kept partitions' files: two days of 2099, and events without a time");
    assert_eq!(count(&lake, "events"), 3);

    // What cannot be done is said.
    let short = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "12h"], None);
    assert!(!short.status.success() && stderr(&short).contains("less than a day"), "{}", stderr(&short));
    let missing = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "1d", "--table", "logons"], None);
    assert!(stderr(&missing).contains("the lake has no table `logons`"), "{}", stderr(&missing));
    let nowhere = dir.path().join("nowhere");
    let none = hela(&["lake", "vacuum", "--lake", nowhere.to_str().unwrap()], None);
    assert!(!none.status.success() && stderr(&none).contains("no lake here"), "{}", stderr(&none));
    assert!(!nowhere.exists());
}

#[test]
fn a_merge_leaves_out_the_columns_its_files_hold_no_value_in_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    // `x` and `z` are null in every event of the first day, `e` is an empty object (no
    // value); `s` is a struct of null fields, `l` an empty list, `n` such a struct on the
    // second day: values, kept.
    let first = [
        r#"{"@timestamp":"2020-01-01T00:00:00Z","Channel":"Security","EventID":4624,"x":null,"s":{"k":null},"l":[],"e":{},"z":null}"#,
        r#"{"@timestamp":"2020-01-01T01:00:00Z","Channel":"Security","EventID":4625,"x":null,"s":{"k":null},"l":[],"z":null}"#,
    ];
    let second = r#"{"@timestamp":"2020-01-02T00:00:00Z","Channel":"Security","EventID":4624,"x":5,"s":null,"n":{"m":null}}"#;
    for (name, lines) in [("first.json", first.join("\n")), ("second.json", second.to_string())] {
        std::fs::write(dir.path().join(name), lines + "\n").unwrap();
        hela_ok(&["ingest", "--quiet", "--lake", lake_arg, dir.path().join(name).to_str().unwrap()]);
    }
    let answers = || {
        let every = query(&lake, "SELECT * FROM events ORDER BY `@timestamp`");
        let nulls = query(&lake, "SELECT EventID, x IS NULL AS x, z IS NULL AS z, e IS NULL AS e, s IS NULL AS s, l IS NULL AS l, n IS NULL AS n, to_json(s) AS sj, size(l) AS ls FROM events ORDER BY `@timestamp`");
        (every, nulls)
    };
    let before = answers();
    assert_eq!(before.0.len(), 3);
    assert_eq!(before.1[0]["s"], false, "{:?}", before.1);

    let out = hela(&["lake", "compact", "--lake", lake_arg], None);
    assert!(stderr(&out).contains("merged 2 files into 1;"), "{}", stderr(&out));
    assert_eq!(answers(), before, "the same answers from the merged file");
    let catalog = catalog(&lake);
    let merged = &catalog["tables"]["events"]["files"][0];
    let mut columns = parquet_columns(&lake.join(merged["path"].as_str().unwrap()));
    columns.sort();
    assert_eq!(columns, ["@timestamp", "Channel", "EventID", "l", "n", "s", "x"]);
    let described = hela_ok(&["schema", "--lake", lake_arg, "events"]);
    for column in ["e", "z"] {
        assert!(described.lines().any(|line| line.starts_with(&format!("{column}: "))), "the table keeps `{column}`:\n{described}");
    }
}

#[test]
fn records_without_fields_are_stored_and_read_back_as_rows_of_nulls_through_merges_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let answers = || {
        let count = query(&lake, "SELECT count(*) AS n FROM events");
        let rows = query(&lake, "SELECT a FROM events ORDER BY a NULLS FIRST");
        (count, rows)
    };
    // A file of `{}` records alone (no columns of its own), then more into the same
    // partition (merged with the first), then records with a field.
    for (name, lines) in [("a.json", "{}\n{}\n"), ("b.json", "{}\n"), ("c.json", "{\"a\":1}\n{}\n")] {
        std::fs::write(dir.path().join(name), lines).unwrap();
        hela_ok(&["ingest", "--quiet", "--lake", lake_arg, dir.path().join(name).to_str().unwrap()]);
    }
    let null = serde_json::json!({"a": null});
    let expected = (vec![serde_json::json!({"n": 5})], vec![null.clone(), null.clone(), null.clone(), null, serde_json::json!({"a": 1})]);
    assert_eq!(answers(), expected);
    hela_ok(&["lake", "compact", "--lake", lake_arg]);
    let files = catalog(&lake)["tables"]["events"]["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["rows"], 5);
    assert_eq!(answers(), expected, "the same rows once compacted");
    let merged = lake.join(files[0]["path"].as_str().unwrap());
    assert_eq!(parquet_columns(&merged), ["a"], "the merged file holds the field that has a value");
}

#[test]
fn compaction_merges_days_into_few_sorted_files_and_one_killed_midway_leaves_the_lake_whole() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    // Three events a day for 672 days, on each of two channels.
    let days: Vec<String> = (2018..=2019).flat_map(|y| (1..=12).flat_map(move |m| (1..=28).map(move |d| format!("{y}-{m:02}-{d:02}")))).collect();
    let mut lines = String::new();
    for (channel, ids) in [("Security", [4688, 4624, 4625]), ("Microsoft-Windows-Sysmon/Operational", [3, 1, 3])] {
        for day in &days {
            for (hour, id) in ids.iter().enumerate() {
                lines += &format!("{{\"@timestamp\":\"{day}T0{hour}:00:00.000Z\",\"Channel\":\"{channel}\",\"EventID\":{id},\"Hostname\":\"h{hour}\"}}\n");
            }
        }
    }
    let input = dir.path().join("events.json");
    std::fs::write(&input, lines).unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake_arg, input.to_str().unwrap()]);
    let catalog_files = || {
        let catalog = catalog(&lake);
        catalog["tables"]["events"]["files"].as_array().unwrap().len()
    };
    assert_eq!(catalog_files(), 1344, "a file per channel and day");
    let answers = || {
        let totals = query(&lake, "SELECT Channel, EventID, count(*) AS n, min(`@timestamp`) AS first, max(`@timestamp`) AS last FROM events GROUP BY 1, 2 ORDER BY 1, 2");
        let window = query(&lake, "SELECT Channel, EventID, Hostname, `@timestamp` FROM events WHERE `@timestamp` BETWEEN '2019-03-02' AND '2019-03-04' AND EventID IN (1, 4624) ORDER BY 4, 1");
        (totals, window)
    };
    let before = answers();
    assert_eq!(before.0.len(), 5);
    assert_eq!(before.1.len(), 4, "{:?}", before.1);

    // A compaction killed once it has begun writing: nothing of it is seen.
    assert!(kill_when_begun(&["lake", "compact", "--lake", lake_arg], || has_staged_files(&lake)), "killed before it finished");
    assert_eq!(catalog_files(), 1344);
    assert_eq!(answers(), before);

    let out = hela(&["lake", "compact", "--lake", lake_arg], None);
    assert!(stderr(&out).contains("merged 1344 files into 2;"), "{}", stderr(&out));
    assert_eq!(catalog_files(), 2);
    assert_eq!(answers(), before, "the same answers from the compacted files");
    let again = hela(&["lake", "compact", "--lake", lake_arg], None);
    assert!(stderr(&again).contains("nothing to compact"), "{}", stderr(&again));

    // Each file spans its channel's days and its rows are sorted by EventID, then time.
    let catalog = catalog(&lake);
    for file in catalog["tables"]["events"]["files"].as_array().unwrap() {
        assert_eq!((file["day"].as_str(), file["last_day"].as_str(), file["rows"].as_u64()), (Some("2018-01-01"), Some("2019-12-28"), Some(2016)));
        let reader = std::fs::File::open(lake.join(file["path"].as_str().unwrap())).unwrap();
        let mut rows = Vec::new();
        for batch in parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(reader).unwrap().build().unwrap() {
            let batch = batch.unwrap();
            let ids = arrow::compute::cast(batch.column_by_name("EventID").unwrap(), &arrow::datatypes::DataType::Utf8).unwrap();
            let ids = arrow::array::AsArray::as_string::<i32>(&ids).clone();
            let times = batch.column_by_name("@timestamp").unwrap();
            let times = arrow::array::AsArray::as_string::<i32>(times.as_ref()).clone();
            rows.extend((0..batch.num_rows()).map(|i| (ids.value(i).parse::<i64>().unwrap(), times.value(i).to_string())));
        }
        assert!(rows.is_sorted(), "{}", file["path"]);
    }

    // Retention drops a compacted file once its last day is past.
    let out = hela(&["lake", "retain", "--lake", lake_arg, "--older-than", "90d"], None);
    assert!(stderr(&out).contains("dropped 727 days (2018-01-01 to 2019-12-28): 2 files, 4032 rows"), "{}", stderr(&out));
    assert_eq!(count(&lake, "events"), 0);
}
