//! `hela serve` and `hela apikey`: the server's options into its crate, and its keys.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use hela_serve::auth::Keys;
use hela_serve::tls::TlsFiles;
use hela_live::SinkOptions;
use hela_serve::{Limits, LiveOptions, ServeOptions, StoreOptions};
use hela_stream::kafka::KafkaOptions;

use crate::cli::{ApikeyAddArgs, ServeArgs};

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.kafka.is_some() && args.topic.is_empty() && args.alerts_topic.is_none() {
        anyhow::bail!("--kafka names brokers for --topic (topics to consume) or --alerts-topic; give one of them");
    }
    let live = (!args.rules.is_empty() || !args.intel.is_empty()).then(|| LiveOptions {
        rules: args.rules.clone(),
        intel: args.intel.clone(),
        selection: args.selection.selection(),
        sinks: SinkOptions {
            webhook: args.webhook.clone(),
            file: args.alerts_file.clone(),
            kafka: args.kafka.clone().zip(args.alerts_topic.clone()),
            ..SinkOptions::default()
        },
    });
    let options = ServeOptions {
        lake: args.lake.lake.clone(),
        listen: args.listen.clone(),
        flight: args.flight.clone(),
        router: args.records.router()?,
        auth: args.auth.clone(),
        tls: args.tls_cert.clone().zip(args.tls_key.clone()).map(|(cert, key)| TlsFiles { cert, key }),
        store: StoreOptions {
            fold_interval: Duration::from_millis(args.commit_interval.max(1)),
            retain_days: args.retain,
            compact_every: (args.compact_every > 0).then(|| Duration::from_secs(args.compact_every)),
            ..StoreOptions::default()
        },
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_document_bytes: args.max_document_bytes,
            query_timeout: Duration::from_secs(args.query_timeout.max(1)),
        },
        query_memory: args.query_memory.max(1) << 20,
        kafka: args
            .kafka
            .clone()
            .filter(|_| !args.topic.is_empty())
            .map(|brokers| KafkaOptions::new(brokers, args.topic.clone(), args.group.clone())),
        live,
        pages: Some(hela_web::pages(hela_web::Settings { playbooks: args.playbooks.clone() })),
        sql_functions: crate::SQL_FUNCTIONS.to_vec(),
        queries_on: args.cluster.clone().map(|url| -> hela_serve::QueriesOn { Box::new(move |session| hela_cluster::connect(session, &url)) }),
    };
    let lake = std::path::absolute(&args.lake.lake).unwrap_or_else(|_| args.lake.lake.clone());
    hela_serve::run(options, &mut |bound| {
        // Standard output's first lines, for scripts and tests waiting for the server: the
        // Flight SQL address first, so that the HTTP line means both are listening.
        let (http, grpc) = if bound.tls { ("https", "grpc+tls") } else { ("http", "grpc") };
        if let Some(flight) = bound.flight {
            println!("flight sql on {grpc}://{flight}");
        }
        println!("listening on {http}://{}", bound.http);
        eprintln!("web UI on {http}://{}/", bound.http);
        let _ = std::io::stdout().flush();
        let auth = match &args.auth {
            Some(file) => format!("API keys from {}", file.display()),
            None => "no credentials needed (loopback)".to_string(),
        };
        let tls = if bound.tls { ", TLS" } else { "" };
        eprintln!("hela serve: lake {}, {auth}{tls}; SIGTERM or Ctrl-C stops it", lake.display());
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
