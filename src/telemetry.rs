//! Logging to stderr through `tracing`, as text or JSON.

use tracing_subscriber::EnvFilter;

/// Format of the log lines written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How much to log, from the `-q` and `-v` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Debug,
    Trace,
}

impl Verbosity {
    fn directive(self) -> &'static str {
        match self {
            Verbosity::Quiet => "warn",
            Verbosity::Normal => "info,sqlx=warn",
            Verbosity::Debug => "debug,sqlx=warn,hyper=info,reqwest=info",
            Verbosity::Trace => "trace",
        }
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, replaces the level given by
/// the flags.
pub fn init(format: LogFormat, verbosity: Verbosity) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(verbosity.directive()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);

    // A second initialisation (tests running several commands in one process) keeps
    // the first subscriber, which is what those tests want.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}
