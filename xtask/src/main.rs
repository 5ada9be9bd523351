//! `cargo xtask …`: maintenance commands for the `deck` crate.

#[path = "../../src/codegen.rs"]
#[allow(dead_code)]
mod codegen;
#[path = "../../src/normalize.rs"]
#[allow(dead_code)]
mod normalize;

mod assemble;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Maintenance commands for the deck crate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Commands on the vendored spec, openapi/v2.json.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Rebuild openapi/v2.json from the Deck docs fragments plus openapi/transcribed.json,
    /// failing when two sources define the same component or operation differently.
    Assemble {
        /// Folder of verbatim OpenAPI fragments (YAML).
        #[arg(long, default_value = "../shared/deck-spec/fragments")]
        fragments: PathBuf,
        /// Operations transcribed from the reference pages (JSON).
        #[arg(long, default_value = "openapi/transcribed.json")]
        transcribed: PathBuf,
        /// Where to write the union.
        #[arg(long, default_value = "openapi/v2.json")]
        out: PathBuf,
        /// Compare with the existing file instead of writing it.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Spec { command } => match command {
            SpecCommand::Assemble {
                fragments,
                transcribed,
                out,
                check,
            } => assemble::run(&fragments, &transcribed, &out, check),
        },
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
