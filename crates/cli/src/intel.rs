//! `hela intel load`: indicator files into the lake.

use std::process::ExitCode;

use hela_intel::LoadSummary;
use hela_lake::Lake;

use crate::cli::IntelLoadArgs;

/// Loads each file and says what it gave; the exit status is 1 when an entry was refused.
pub fn load(args: IntelLoadArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::new(&args.lake.lake);
    let summaries = hela_intel::load(&lake, &args.files, &mut |file, refused| eprintln!("warning: {}: {refused}", file.display())).map_err(anyhow::Error::msg)?;
    let mut refused_any = false;
    for (file, summary) in args.files.iter().zip(summaries) {
        match summary {
            LoadSummary::Loaded { format, stored, refused } => {
                refused_any |= refused > 0;
                let quarantined = if refused > 0 { format!(", {refused} refused (quarantined)") } else { String::new() };
                eprintln!("{}: {format}: {stored} indicators stored{quarantined}", file.display());
            }
            LoadSummary::AlreadyLoaded => eprintln!("{}: skipped: this file is already loaded", file.display()),
        }
    }
    Ok(if refused_any { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
