//! What a node does on SIGTERM (see [`crate::drain`]).

use clap::Args;
use std::time::Duration;

/// How a node drains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrainConfig {
    /// The connections are handed back spread over this window.
    pub window: Duration,
    /// The most a client is told to wait before it connects again.
    pub jitter: Duration,
}

impl DrainConfig {
    pub const DEFAULT: DrainConfig = DrainConfig {
        window: Duration::from_secs(10),
        jitter: Duration::from_secs(1),
    };
}

impl Default for DrainConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Drain flags.
#[derive(Debug, Clone, Args)]
pub struct DrainArgs {
    /// On SIGTERM, the node hands its connections back spread over this many seconds (a
    /// fraction is allowed; 0: all at once), then exits.
    #[arg(long, env = "HUB_DRAIN_SECONDS", default_value_t = DrainConfig::DEFAULT.window.as_secs_f64())]
    pub drain_seconds: f64,
    /// The most a client is told to wait before it connects again (`session:reconnect`).
    #[arg(long, env = "HUB_DRAIN_JITTER", default_value_t = DrainConfig::DEFAULT.jitter.into())]
    pub drain_jitter: humantime::Duration,
}

impl DrainArgs {
    pub fn resolve(&self) -> anyhow::Result<DrainConfig> {
        let window = Duration::try_from_secs_f64(self.drain_seconds)
            .ok()
            .filter(|w| *w <= Duration::from_secs(3_600))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "HUB_DRAIN_SECONDS must be a number of seconds from 0 to 3600, not {}",
                    self.drain_seconds
                )
            })?;
        Ok(DrainConfig {
            window,
            jitter: *self.drain_jitter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_seconds_up_to_an_hour() {
        let args = |s: f64| DrainArgs {
            drain_seconds: s,
            drain_jitter: Duration::from_secs(1).into(),
        };
        assert_eq!(args(10.0).resolve().unwrap(), DrainConfig::DEFAULT);
        assert_eq!(
            args(0.5).resolve().unwrap().window,
            Duration::from_millis(500)
        );
        assert_eq!(args(0.0).resolve().unwrap().window, Duration::ZERO);
        for bad in [-1.0, f64::NAN, 3_601.0] {
            assert!(args(bad).resolve().is_err(), "{bad}");
        }
    }
}
