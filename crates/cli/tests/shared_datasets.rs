//! Ingest and SQL on the real datasets in ../shared, when they are there (CI has them).

mod common;

use common::*;

#[test]
fn all_security_datasets_are_stored_whole() {
    let Some(datasets) = shared("datasets/security-datasets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = hela(&["ingest", "--lake", lake.to_str().unwrap(), datasets.to_str().unwrap()], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("22 read, 0 skipped (already in the lake), 0 failed"), "{err}");
    assert!(err.contains("152955 stored, 0 quarantined"), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("empire_enable_rdp.tar.gz")));
    assert!(warnings.iter().any(|w| w.contains("empire_wdigest_downgrade.tar.gz")));
    assert_eq!(count(&lake, "events"), 152_955);

    // The 2019 Winlogbeat shape and the 2020 NXLog shape live side by side.
    let sysmon_1 = "events WHERE log_name = 'Microsoft-Windows-Sysmon/Operational' AND event_id = 1";
    assert!(count(&lake, sysmon_1) > 0);
    assert_eq!(count(&lake, &format!("{sysmon_1} AND event_data.ParentImage IS NOT NULL")), count(&lake, sysmon_1));
    assert!(count(&lake, "events WHERE Channel = 'Microsoft-Windows-Sysmon/Operational' AND EventID = 1") > 0);

    // Lateral movement through WMI (WORKFLOWS.md section 4, raw field names): a network
    // logon joined on its logon id to the processes started under it.
    let rows = query(&lake, "SELECT s.IpAddress, s.TargetUserName, p.ParentImage, p.Image \
        FROM events s JOIN events p ON s.TargetLogonId = p.LogonId \
        WHERE lower(s.Channel) = 'security' AND s.EventID = 4624 AND s.LogonType = 3 \
          AND p.Channel = 'Microsoft-Windows-Sysmon/Operational' AND p.EventID = 1 \
          AND s.Hostname = p.Hostname AND s.IpAddress = '172.18.39.5' \
          AND s.`@timestamp` LIKE '2020-09-21%' AND lower(p.ParentImage) LIKE '%wmiprvse.exe' \
        ORDER BY p.Image");
    assert!(!rows.is_empty(), "the WMI lateral movement is found");
    assert!(rows.iter().all(|r| r["TargetUserName"] == "pgustavo"), "{rows:?}");
    assert!(rows.iter().any(|r| r["Image"].as_str().unwrap().to_lowercase().ends_with("powershell.exe")), "{rows:?}");
}

#[test]
fn zeek_conn_logs_are_events_too() {
    let Some(zeek) = shared("datasets/zeek") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    hela_ok(&["ingest", "--lake", lake.to_str().unwrap(), zeek.to_str().unwrap()]);
    let lines: usize = std::fs::read_dir(&zeek).unwrap().map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap().lines().filter(|l| !l.trim().is_empty()).count()).sum();
    assert_eq!(count(&lake, "events") as usize, lines);
    let top = query(&lake, "SELECT id_orig_h, count(*) AS n FROM events GROUP BY id_orig_h ORDER BY n DESC LIMIT 1");
    assert!(top[0]["n"].as_i64().unwrap() > 1);
}
