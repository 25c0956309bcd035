//! Command-line interface: argument parsing and the dispatch to each command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{self, Overrides, Since};
use crate::report::{self, OutputFormat};
use crate::telemetry::{self, LogFormat};
use crate::{store, sync};

/// Exit code of a run in which a company or the run itself failed.
pub const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(name = "agendor-sync", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub sync: SyncArgs,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the deals won in Agendor into V2 as surgeries (the default command).
    Sync(SyncArgs),
    /// Create or update the integration's own tables in the schema agendor_sync.
    Migrate,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file, every key documented in config.example.toml [env:
    /// AGENDOR_SYNC_CONFIG].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// PostgreSQL URL of the V2 database [env: DATABASE_URL].
    // The configuration reads DATABASE_URL and AGENDOR_SYNC_CONFIG itself, so its errors
    // name the variable rather than the flag.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Format of the logs written to stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log more: -v for debug, -vv for trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Log only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Args, Default, Clone, PartialEq)]
pub struct SyncArgs {
    /// Fetch deals updated since this date (YYYY-MM-DD) or instant (RFC 3339, or a local
    /// date and time in the configured time zone). Default: yesterday, or the start date
    /// of the last completed run when that is earlier.
    #[arg(long, value_name = "DATE|DATETIME", value_parser = config::parse_since)]
    pub since: Option<Since>,

    /// Process only this company id (repeatable). Default: every company with the
    /// Agendor module contracted and the integration enabled.
    #[arg(long = "company", value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
    pub companies: Vec<i64>,

    /// Process only this Agendor deal id, fetched by id (repeatable). It applies to one
    /// company: with several companies enabled, name it with --company.
    #[arg(long = "deal", value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
    pub deals: Vec<i64>,

    /// Run everything and roll it all back; the report shows what would happen.
    #[arg(long)]
    pub dry_run: bool,

    /// Format of the report printed on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() && cli.sync != SyncArgs::default() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "sync options go after the subcommand (`agendor-sync sync --since ...`) or \
                 without one (`agendor-sync --since ...`)",
            )
            .exit();
    }
    telemetry::init(cli.global.log_format, verbosity(&cli.global));

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "failed to start the async runtime");
            return ExitCode::from(EXIT_FAILURE);
        }
    };

    ExitCode::from(runtime.block_on(run(cli)))
}

async fn run(cli: Cli) -> u8 {
    let overrides = Overrides {
        config_path: cli.global.config.clone(),
        database_url: cli.global.database_url.clone(),
    };
    let settings = match config::Settings::load(&overrides) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: invalid configuration: {error}");
            return EXIT_FAILURE;
        }
    };

    match cli.command {
        Some(Command::Migrate) => migrate(&settings).await,
        Some(Command::Sync(args)) => run_sync(&settings, args).await,
        None => run_sync(&settings, cli.sync).await,
    }
}

async fn migrate(settings: &config::Settings) -> u8 {
    match store::migrate(settings).await {
        Ok(applied) => {
            println!("schema agendor_sync is up to date ({applied} migration(s) applied)");
            0
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_FAILURE
        }
    }
}

async fn run_sync(settings: &config::Settings, args: SyncArgs) -> u8 {
    match sync::run(settings, &args).await {
        Ok(run_report) => {
            report::print(&run_report, args.output);
            run_report.exit_code()
        }
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}

fn verbosity(global: &GlobalArgs) -> telemetry::Verbosity {
    match (global.quiet, global.verbose) {
        (true, _) => telemetry::Verbosity::Quiet,
        (false, 0) => telemetry::Verbosity::Normal,
        (false, 1) => telemetry::Verbosity::Debug,
        (false, _) => telemetry::Verbosity::Trace,
    }
}
