//! `hela serve` and `hela apikey`: the server's options into its crate, and its keys.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use hela_serve::auth::Keys;
use hela_serve::{Limits, ServeOptions, StoreOptions};

use crate::cli::{ApikeyAddArgs, ServeArgs};
use crate::records;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let options = ServeOptions {
        lake: args.lake.lake.clone(),
        listen: args.listen.clone(),
        router: records::router(&args.records)?,
        auth: args.auth.clone(),
        store: StoreOptions { fold_interval: Duration::from_millis(args.commit_interval.max(1)), ..StoreOptions::default() },
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_document_bytes: args.max_document_bytes,
            query_timeout: Duration::from_secs(args.query_timeout.max(1)),
        },
        query_memory: args.query_memory.max(1) << 20,
    };
    let lake = std::path::absolute(&args.lake.lake).unwrap_or_else(|_| args.lake.lake.clone());
    hela_serve::run(options, &mut |address| {
        // The first line of standard output, for scripts and tests waiting for the server.
        println!("listening on http://{address}");
        let _ = std::io::stdout().flush();
        let auth = match &args.auth {
            Some(file) => format!("API keys from {}", file.display()),
            None => "no credentials needed (loopback)".to_string(),
        };
        eprintln!("hela serve: lake {}, {auth}; SIGTERM or Ctrl-C stops it", lake.display());
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn add_key(args: ApikeyAddArgs) -> anyhow::Result<ExitCode> {
    let credential = Keys::add(&args.auth, &args.name, &args.roles)?;
    let pair = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &credential)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    println!("{credential}");
    eprintln!(
        "key `{}` added to {}; it is shown only now, the file keeps its hash.\n\
         Clients send it as `Authorization: ApiKey {credential}`: hela sql --token {credential}, \
         hela.connect(url, token=\"{credential}\"); Beats and Logstash take api_key: \"{pair}\".",
        args.name,
        args.auth.display(),
    );
    Ok(ExitCode::SUCCESS)
}
