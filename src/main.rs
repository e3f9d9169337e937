//! `hub`: parses flags and runs the chosen command. Errors end the process with one line.

use clap::Parser;
use hub::config::{Cli, Command};
use hub_protocol::AccountRole;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    hub::telemetry::init_logging(cli.settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = cli.settings.resolve()?;
            // Every connection is a file descriptor: take all the process may have.
            if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
                tracing::warn!(error = %e, "could not raise the file descriptor limit");
            }
            let listener = tokio::net::TcpListener::bind(cli.settings.addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cli.settings.addr))?;
            hub::memory::spawn_trimmer();
            hub::run(config, listener, hub::shutdown_signal()).await
        }
        Command::Migrate => {
            let config = cli.settings.resolve()?;
            hub::open_store(&config).await?;
            println!("migrations applied ({})", config.backend().as_str());
            Ok(())
        }
        Command::Token(args) => {
            let secret = cli.settings.jwt_secret()?;
            let role: AccountRole = args.role.parse()?;
            let token = hub::auth::mint_with_secret(
                &secret,
                &args.user,
                args.name.as_deref(),
                role,
                args.ttl,
            )?;
            println!("{token}");
            Ok(())
        }
    }
}
