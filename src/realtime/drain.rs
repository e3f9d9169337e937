//! A draining node's hand-back of its connections (see [`crate::drain`]): every Socket.IO
//! socket and every `/yjs` connection, in random order, spread evenly over the window.

use super::emit;
use crate::config::DrainConfig;
use crate::drain::slot;
use crate::services::Services;
use crate::services::docs::CloseReason;
use hub_protocol::realtime::server;
use hub_protocol::server::SessionReconnect;
use rand::Rng;
use socketioxide::SocketIo;

/// One connection to hand back.
enum Handback {
    Socket(socketioxide::extract::SocketRef),
    Yjs(crate::services::docs::OpenConn),
}

/// Hands this node's connections back (see the module docs), spread over the window; returns
/// once the last is handed back.
pub async fn hand_back(io: &SocketIo, services: &Services, config: DrainConfig) {
    let mut all: Vec<Handback> = io.sockets().into_iter().map(Handback::Socket).collect();
    all.extend(services.docs.open_conns().into_iter().map(Handback::Yjs));
    {
        use rand::seq::SliceRandom;
        all.shuffle(&mut rand::rng());
    }
    let n = all.len();
    tracing::info!(
        connections = n,
        window_ms = config.window.as_millis() as u64,
        "draining: handing connections back"
    );
    metrics::gauge!("hub_draining").set(1.0);
    let start = tokio::time::Instant::now();
    let jitter_ms = config.jitter.as_millis() as u64;
    for (i, conn) in all.into_iter().enumerate() {
        tokio::time::sleep_until(start + slot(i, n, config.window)).await;
        match conn {
            Handback::Socket(socket) => {
                let after_ms = if jitter_ms == 0 {
                    0
                } else {
                    rand::rng().random_range(0..=jitter_ms)
                };
                emit::to_socket(
                    &socket,
                    server::SessionReconnectEvent,
                    &SessionReconnect {
                        reason: "draining".into(),
                        after_ms,
                    },
                );
                emit::disconnect(&socket);
            }
            Handback::Yjs(conn) => services.docs.close_open(conn, CloseReason::Restart),
        }
        metrics::counter!("hub_drain_handed_back_total").increment(1);
    }
}
