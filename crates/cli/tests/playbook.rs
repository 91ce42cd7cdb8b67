//! `hela playbook run`: a Markdown playbook's SQL blocks run in order against a lake made from
//! hela's sample, with reports in Markdown and HTML and exit statuses for expectations.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A lake holding hela's sample (one WMI lateral movement among background events).
fn sample_lake(dir: &Path) -> PathBuf {
    let sample = dir.join("sample.json");
    let lake = dir.join("lake");
    hela_ok(&["sample", "--out", sample.to_str().unwrap(), "--events", "500"]);
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), sample.to_str().unwrap()]);
    lake
}

fn example_playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lateral-movement.md")
}

#[test]
fn the_example_playbook_finds_the_lateral_movement() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let report = dir.path().join("report.html");
    let out = hela(&["playbook", "run", example_playbook().to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--report", report.to_str().unwrap()], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("block 2/4 (line 27): 3 rows") && err.contains("expected hits: held"), "{err}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h1>Lateral movement via WMI</h1>"), "{html}");
    assert!(html.contains("<td>C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</td>"), "{html}");
    assert!(html.contains("<td>172.18.39.5</td><td>pgustavo</td><td>1</td>"), "{html}");
    assert!(html.contains("<svg") && html.contains("Processes started by WmiPrvSE.exe"), "the chart is inline");
    assert!(html.contains("4 blocks: 2 expectations held, 0 not, 0 failed"), "{html}");
}

#[test]
fn markdown_report_shows_prose_sql_and_results_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let playbook = dir.path().join("hunt.md");
    std::fs::write(&playbook, "# Logons\n\nWho logged on from the network?\n\n```sql\nSELECT TargetUserName, IpAddress FROM events WHERE EventID = 4624 AND LogonType = '3'\n```\n\nDone.\n").unwrap();
    let report = hela_ok(&["playbook", "run", playbook.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    let (prose, table, done) = (report.find("Who logged on").unwrap(), report.find("| pgustavo | 172.18.39.5 |").unwrap(), report.find("Done.").unwrap());
    assert!(prose < table && table < done, "{report}");
    assert!(report.contains("```sql\nSELECT TargetUserName") && report.contains("| TargetUserName | IpAddress |\n|---|---|\n"), "{report}");
}

#[test]
fn an_expected_hit_that_is_missing_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let playbook = dir.path().join("check.md");
    std::fs::write(&playbook, "```sql expect=hits\nSELECT * FROM events WHERE Image LIKE '%mimikatz%'\n```\n\n```sql expect=none\nSELECT * FROM events WHERE EventID = 4624\n```\n").unwrap();
    let out = hela(&["playbook", "run", playbook.to_str().unwrap(), "--lake", lake.to_str().unwrap()], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("block 1/2 (line 1): 0 rows") && err.contains("NOT AS EXPECTED: expected hits, none returned"), "{err}");
    assert!(err.contains("NOT AS EXPECTED: expected no rows,") && err.contains("2 expectations did not hold"), "{err}");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("> ✗ 0 rows"), "{report}");
}

#[test]
fn a_failing_block_is_reported_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let playbook = dir.path().join("broken.md");
    std::fs::write(&playbook, "```sql\nSELECT ParentImagee FROM events\n```\n\n```sql expect=hits\nSELECT count(*) AS n FROM events\n```\n").unwrap();
    let out = hela(&["playbook", "run", playbook.to_str().unwrap(), "--lake", lake.to_str().unwrap()], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("block 1/2 (line 1): error: unknown column `ParentImagee`"), "{err}");
    assert!(err.contains("block 2/2 (line 5): 1 row"), "{err}");
}

#[test]
fn playbook_mistakes_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("typo.md");
    std::fs::write(&playbook, "intro\n\n```sql expect=always\nSELECT 1\n```\n").unwrap();
    let out = hela(&["playbook", "run", playbook.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("typo.md: line 3: expect=always: expect takes hits or none"), "{}", stderr(&out));
    std::fs::write(&playbook, "no sql here\n").unwrap();
    assert!(stderr(&hela(&["playbook", "run", playbook.to_str().unwrap()], None)).contains("no ```sql blocks to run"));
}

#[test]
fn sql_draws_charts_to_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let svg = dir.path().join("parents.svg");
    let sql = "SELECT ParentImage, count(*) AS n FROM events WHERE EventID = 1 GROUP BY ParentImage ORDER BY n DESC";
    let out = hela(&["sql", "--lake", lake.to_str().unwrap(), "--chart", "bar", "--x", "ParentImage", "--y", "n", "--out", svg.to_str().unwrap(), "--format", "csv", sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ParentImage,n\n"), "the result is printed too");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("WmiPrvSE.exe"), "{text}");
    let png = dir.path().join("n.png");
    let out = hela(&["sql", "--lake", lake.to_str().unwrap(), "--chart", "hist", "--x", "n", "--out", png.to_str().unwrap(), sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let out = hela(&["sql", "--lake", lake.to_str().unwrap(), "--chart", "bar", "--x", "Nope", "--out", svg.to_str().unwrap(), sql], None);
    assert!(!out.status.success() && stderr(&out).contains("Nope"), "{}", stderr(&out));
    let out = hela(&["sql", "--lake", lake.to_str().unwrap(), "--chart", "bar", "--x", "n", sql], None);
    assert!(!out.status.success() && stderr(&out).contains("--out"), "{}", stderr(&out));
}
