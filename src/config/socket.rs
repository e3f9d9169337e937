//! Connections: Socket.IO and the WebSocket under it, and the timeouts of every connection.

use anyhow::bail;
use clap::Args;
use std::time::Duration;

/// Socket.IO tuning.
#[derive(Debug, Clone)]
pub struct SocketConfig {
    pub max_buffer_size: usize,
    pub max_payload: u64,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// WebSocket read buffer per connection; small keeps idle connections cheap.
    pub ws_read_buffer_size: usize,
    /// A connection whose writes make no progress for this long is closed (the peer stopped
    /// reading); applies to every connection: Socket.IO, `/yjs` and plain HTTP.
    pub write_timeout: Duration,
    /// A Socket.IO session that has not completed its CONNECT by then is closed.
    pub connect_timeout: Duration,
}

impl SocketConfig {
    /// The defaults (the flags of [`SocketArgs`] start from them).
    pub const DEFAULT: SocketConfig = SocketConfig {
        max_buffer_size: 1024,
        max_payload: 1_000_000,
        ping_interval: Duration::from_secs(25),
        ping_timeout: Duration::from_secs(20),
        ws_read_buffer_size: 1024,
        write_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
    };
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Connection flags.
#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// Packets buffered per socket before it counts as a slow consumer and is disconnected.
    #[arg(long, env = "HUB_SOCKET_BUFFER", default_value_t = SocketConfig::DEFAULT.max_buffer_size)]
    pub socket_buffer: usize,
    /// Read buffer of each Socket.IO WebSocket, in bytes: what an idle connection keeps for
    /// reading. A longer message is read in steps of this size.
    #[arg(long, env = "HUB_WS_READ_BUFFER", default_value_t = SocketConfig::DEFAULT.ws_read_buffer_size as u32, value_parser = clap::value_parser!(u32).range(256..=1_048_576))]
    pub ws_read_buffer: u32,
    /// Largest Socket.IO payload accepted, in bytes.
    #[arg(long, env = "HUB_MAX_PAYLOAD", default_value_t = SocketConfig::DEFAULT.max_payload)]
    pub max_payload: u64,
    /// Engine.IO ping interval.
    #[arg(long, env = "HUB_PING_INTERVAL", default_value_t = SocketConfig::DEFAULT.ping_interval.into())]
    pub ping_interval: humantime::Duration,
    /// Engine.IO ping timeout.
    #[arg(long, env = "HUB_PING_TIMEOUT", default_value_t = SocketConfig::DEFAULT.ping_timeout.into())]
    pub ping_timeout: humantime::Duration,
    /// A connection whose writes make no progress for this long (the peer stopped reading) is
    /// closed and its memory freed.
    #[arg(long, env = "HUB_WRITE_TIMEOUT", default_value_t = SocketConfig::DEFAULT.write_timeout.into())]
    pub write_timeout: humantime::Duration,
    /// A Socket.IO session that has not completed its CONNECT (authenticated) by then is closed.
    #[arg(long, env = "HUB_CONNECT_TIMEOUT", default_value_t = SocketConfig::DEFAULT.connect_timeout.into())]
    pub connect_timeout: humantime::Duration,
}

impl SocketArgs {
    pub fn resolve(&self) -> anyhow::Result<SocketConfig> {
        if self.write_timeout.is_zero() || self.connect_timeout.is_zero() {
            bail!("HUB_WRITE_TIMEOUT and HUB_CONNECT_TIMEOUT must be longer than zero");
        }
        if self.socket_buffer == 0 {
            bail!("HUB_SOCKET_BUFFER must be at least 1");
        }
        Ok(SocketConfig {
            max_buffer_size: self.socket_buffer,
            max_payload: self.max_payload,
            ping_interval: *self.ping_interval,
            ping_timeout: *self.ping_timeout,
            write_timeout: *self.write_timeout,
            connect_timeout: *self.connect_timeout,
            ws_read_buffer_size: self.ws_read_buffer as usize,
        })
    }
}
