//! `hub`: parses flags and runs the chosen command. Errors end the process with one line.

use clap::Parser;
use hub::config::{AuditCommand, Cli, Command};
use hub_protocol::AccountRole;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let command = cli.into_command();
    let log_format = match &command {
        Command::Serve(s) | Command::Migrate(s) => s.log_format,
        Command::Token(_) | Command::Audit(_) => hub::config::LogFormat::Pretty,
    };
    hub::telemetry::init_logging(log_format);
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
    if let Command::Audit(AuditCommand::Verify(args)) = &command {
        return runtime.block_on(audit_verify(args));
    }
    match runtime.block_on(execute(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hub: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` print as usual; a flag that does not parse is one line on stderr
/// and exit code 1, like every other configuration error.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "hub: {} (see hub --help)",
        usage_line(&e.render().to_string())
    );
    ExitCode::FAILURE
}

/// clap's message on one line: what is wrong, what is missing and its tip ("a similar
/// argument exists"), without the usage block that follows.
fn usage_line(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("error: "))
        .collect();
    if parts.is_empty() {
        "invalid arguments".to_owned()
    } else {
        parts.join(" ")
    }
}

/// An error and its causes on one line, each cause said once: a cause whose text its parent
/// already carries is skipped, and Postgres' source locations (`(postinit.c:885)`) are dropped.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = strip_source_location(&text);
        if out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

fn strip_source_location(text: &str) -> &str {
    match text.rfind(" (") {
        Some(i) if text.ends_with(')') && text[i..].contains(".c:") => &text[..i],
        _ => text,
    }
}

/// `hub audit verify`: what it checked on stdout, the verdict last; exit 0, 1 (the log does
/// not hold) or 2 (it could not be checked).
async fn audit_verify(args: &hub::verifier::VerifyArgs) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match hub::verifier::verify(args).await {
        Ok(report) => {
            for line in &report.lines {
                println!("{line}");
            }
            println!("{}", report.verdict());
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("hub audit verify: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(settings) => {
            let config = settings.resolve()?;
            // Every connection is a file descriptor: take all the process may have.
            if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
                tracing::warn!(error = %e, "could not raise the file descriptor limit");
            }
            let addr = settings.listen_addr();
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
            hub::memory::spawn_trimmer();
            hub::run(config, listener, hub::shutdown_signal()).await
        }
        Command::Migrate(settings) => {
            let config = settings.resolve()?;
            hub::open_store(&config).await?;
            println!("migrations applied ({})", config.backend().as_str());
            Ok(())
        }
        Command::Token(args) => {
            let (secret, from) = args.secret()?;
            eprintln!("hub: token signed with the secret from {from}");
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
        Command::Audit(AuditCommand::Verify(_)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::usage_line;
    use clap::Parser;

    fn line(args: &[&str]) -> String {
        let e = hub::config::Cli::try_parse_from(args).unwrap_err();
        usage_line(&e.render().to_string())
    }

    #[test]
    fn a_usage_error_is_one_line_that_names_what_is_missing_and_the_tip() {
        let missing = line(&["hub", "token"]);
        assert!(
            missing.contains("required arguments were not provided"),
            "{missing}"
        );
        assert!(missing.contains("--user <USER>"), "{missing}");
        let typo = line(&["hub", "tokn"]);
        assert!(
            typo.contains("'tokn'") && typo.contains("'token'"),
            "{typo}"
        );
        let flag = line(&["hub", "--adr", "x"]);
        assert!(
            flag.contains("'--adr'") && flag.contains("'--addr'"),
            "{flag}"
        );
        for l in [missing, typo, flag] {
            assert!(!l.contains('\n') && !l.contains("Usage:"), "{l}");
        }
    }
}
