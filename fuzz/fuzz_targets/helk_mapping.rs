//! Any text as a HELK mapping file beside the embedded `common.toml`: loaded, or refused
//! with the file and reason; a loaded one normalises a Security and a Sysmon event. Never a
//! panic.
#![no_main]

use hela_helk::{EMBEDDED, Normaliser};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let common = EMBEDDED.iter().find(|(name, _)| *name == "common.toml").expect("common.toml is embedded");
    // The fuzzed text is a source file, or the common file itself.
    let files: Vec<(&str, &str)> = match text.strip_prefix("common\n") {
        Some(common_text) => vec![("common.toml", common_text)],
        None => vec![*common, ("fuzzed.toml", text)],
    };
    let Ok(helk) = Normaliser::from_files(files) else { return };
    for event in [
        json!({"Channel": "Security", "EventID": 4624, "TargetLogonId": "0x3e7", "IpAddress": "10.0.0.1", "TargetUserName": "alice"}),
        json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\x.exe", "ProcessGuid": "{a}", "User": "D\\u"}),
    ] {
        let _ = helk.normalise(event.as_object().expect("an object").clone());
    }
});
