//! Logging to stderr through `tracing`, as text or JSON, and the progress bar shown when
//! stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
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
        .with_writer(|| BarAwareStderr);

    // A second initialisation (tests running several commands in one process) keeps
    // the first subscriber, which is what those tests want.
    let _ = match format {
        LogFormat::Text => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}

fn progress_bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(MultiProgress::new)
}

/// Returns a spinner counting one company's deals; hidden unless stderr is a terminal,
/// so cron logs never contain it.
pub fn deal_progress(company_id: i64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = progress_bars().add(ProgressBar::new_spinner());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} company {prefix}: {pos} deals processed {msg}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(company_id.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Stderr that hides the progress bars while a log line is written, so the two never
/// garble each other.
struct BarAwareStderr;

impl Write for BarAwareStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        progress_bars().suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
