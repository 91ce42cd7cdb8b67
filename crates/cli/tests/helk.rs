//! `--schema helk`: HELK's field names and index tables, and the HELK users' hunts
//! (../shared/seeds/WORKFLOWS.md sections 3 and 4) run as they wrote them.

mod common;

use std::path::Path;

use common::*;

/// WORKFLOWS.md section 4, verbatim but for its date window, moved to the day of the data.
const LATERAL_MOVEMENT: &str = r#"
CREATE OR REPLACE TEMP VIEW security_events AS SELECT * FROM `logs-endpoint-winevent-security-*`;
CREATE OR REPLACE TEMP VIEW sysmon_events AS SELECT * FROM `logs-endpoint-winevent-sysmon-*`;

CREATE OR REPLACE TEMP VIEW security_4624_3 AS
SELECT event_id, host_name, src_ip_addr, user_logon_id, user_name, logon_type, `@timestamp`
FROM security_events
WHERE event_id = 4624 AND logon_type = 3 AND src_ip_addr is not null
  AND `@timestamp` BETWEEN "2020-09-21 00:00:00.000" AND "2020-09-22 00:00:00.000";

CREATE OR REPLACE TEMP VIEW sysmon_1 AS
SELECT event_id, host_name, process_parent_name, process_parent_guid,
       process_parent_command_line, process_name, process_guid, process_command_line,
       user_logon_id, `@timestamp`
FROM sysmon_events
WHERE event_id = 1
  AND `@timestamp` BETWEEN "2020-09-21 00:00:00.000" AND "2020-09-22 00:00:00.000";

SELECT s.`@timestamp`, s.host_name, s.src_ip_addr, s.logon_type, s.user_logon_id, s.user_name,
       p.process_parent_name, p.process_parent_guid, p.process_parent_command_line,
       p.process_name, p.process_guid, p.process_command_line
FROM security_4624_3 s INNER JOIN sysmon_1 p ON s.user_logon_id = p.user_logon_id;
"#;

fn ingest_helk(lake: &Path, input: &Path) -> String {
    let out = hela(&["ingest", "--schema", "helk", "--lake", lake.to_str().unwrap(), input.to_str().unwrap()], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    err
}

/// The (source ip, user, parent → process) of each row of the lateral-movement hunt, sorted.
fn lateral_movement(lake: &Path) -> Vec<String> {
    let mut found: Vec<String> = query(lake, LATERAL_MOVEMENT)
        .iter()
        .map(|r| format!("{} {} {}→{}", r["src_ip_addr"], r["user_name"], r["process_parent_name"], r["process_name"]))
        .map(|r| r.replace('"', ""))
        .collect();
    found.sort();
    found
}

#[test]
fn the_lateral_movement_hunt_runs_verbatim_on_helk_tables() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    hela_ok(&["sample", "--out", sample.to_str().unwrap()]);
    let lake = dir.path().join("lake");
    ingest_helk(&lake, &sample);
    let tables = hela_ok(&["tables", "--lake", lake.to_str().unwrap()]);
    assert!(tables.contains("logs-endpoint-winevent-security") && tables.contains("logs-endpoint-winevent-sysmon"), "{tables}");
    assert!(!tables.contains("events"), "every sample record is a Windows event: {tables}");
    assert_eq!(lateral_movement(&lake), [
        "172.18.39.5 pgustavo powershell.exe→conhost.exe",
        "172.18.39.5 pgustavo powershell.exe→whoami.exe",
        "172.18.39.5 pgustavo wmiprvse.exe→powershell.exe",
    ]);
    // WORKFLOWS.md section 3: Sysmon process creation by its HELK action name.
    let created = count(&lake, "`logs-endpoint-winevent-sysmon-*` WHERE action = 'processcreate'");
    assert_eq!(created, count(&lake, "`logs-endpoint-winevent-sysmon-*` WHERE event_id = 1"));
    assert!(created > 0);
    // An index pattern may name several tables; they read as one.
    let windows = count(&lake, "`logs-endpoint-winevent-*`");
    let each = count(&lake, "`logs-endpoint-winevent-security-*`") + count(&lake, "`logs-endpoint-winevent-sysmon-*`");
    assert_eq!(windows, each);
    // A lake holds one schema: raw records are refused, not mixed in.
    let out = hela(&["ingest", "--force", "--lake", lake.to_str().unwrap(), sample.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("this lake holds the helk schema; ingest with --schema helk"), "{err}");
}

#[test]
fn inline_tables_take_the_helk_schema_too() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    hela_ok(&["sample", "--out", sample.to_str().unwrap()]);
    let table = format!("t={}", sample.display());
    let sql = "SELECT DISTINCT process_parent_name FROM t WHERE action = 'processcreate' AND process_name = 'whoami.exe'";
    let out = hela_ok(&["sql", "--schema", "helk", "--table", &table, "--format", "csv", sql]);
    assert_eq!(out, "process_parent_name\npowershell.exe\n");
}

#[test]
fn the_lateral_movement_hunt_finds_the_empire_wmi_movement() {
    let Some(dataset) = shared("datasets/security-datasets/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest_helk(&lake, &dataset);
    assert_eq!(lateral_movement(&lake), [
        "172.18.39.5 pgustavo powershell.exe→conhost.exe",
        "172.18.39.5 pgustavo powershell.exe→whoami.exe",
        "172.18.39.5 pgustavo wmiprvse.exe→powershell.exe",
    ]);
}

#[test]
fn both_input_shapes_fill_the_same_helk_fields() {
    let Some(datasets) = shared("datasets/security-datasets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let err = ingest_helk(&lake, &datasets);
    assert!(err.contains("152955 stored, 0 quarantined"), "{err}");
    // Sysmon process creation from the 2019 Winlogbeat archives and the 2020 NXLog ones.
    let created = "`logs-endpoint-winevent-sysmon-*` WHERE action = 'processcreate'";
    for (shape, day) in [("Winlogbeat 6", "2019-05-18"), ("NXLog", "2020-09-21")] {
        let that_day = format!("{created} AND `@timestamp` LIKE '{day}%'");
        let total = count(&lake, &that_day);
        assert!(total > 0, "{shape}: no process creation");
        for field in ["host_name", "process_name", "process_path", "process_guid", "process_parent_name", "process_command_line", "user_logon_id"] {
            let filled = count(&lake, &format!("{that_day} AND {field} IS NOT NULL"));
            assert_eq!(filled, total, "{shape}: {field} is filled on {filled} of {total} process creations");
        }
    }
    let logons = "`logs-endpoint-winevent-security-*` WHERE event_id = 4624";
    assert_eq!(count(&lake, &format!("{logons} AND user_logon_id IS NOT NULL")), count(&lake, logons));
}
