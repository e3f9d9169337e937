//! Redis for the cluster tests: the machine's (channels of each test's own keep tests apart),
//! or a private server a test stops and starts.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The shared Redis (`HUB_TEST_REDIS_URL`, default the local one).
pub fn redis_url() -> String {
    std::env::var("HUB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A channel prefix of a test's own.
pub fn prefix() -> String {
    format!("test-{}:", uuid::Uuid::now_v7())
}

/// A free TCP port on loopback (free when asked).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A Redis server of a test's own; stopped when dropped.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts `redis-server` on `port` and waits until it accepts connections.
    pub async fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/services installs it)");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        PrivateRedis {
            port,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (what it held is gone: it keeps nothing on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Redis Cluster of a test's own: three masters and three replicas on loopback ports, made
/// with `redis-server --cluster-enabled yes` and `redis-cli --cluster create`; stopped when
/// dropped.
pub struct RedisCluster {
    pub ports: Vec<u16>,
    servers: Vec<Option<Child>>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    pub async fn start() -> RedisCluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
        let mut servers = Vec::new();
        for port in &ports {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-node-timeout", "1000"])
                // A replica fails over however long ago it last heard its master (the default
                // refuses once the data is older than a few node timeouts).
                .args(["--cluster-replica-validity-factor", "0"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--dir", &dir.path().display().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed (scripts/services installs it)");
            servers.push(Some(child));
        }
        for port in &ports {
            wait_for_port(*port).await;
        }
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli is installed");
        assert!(created.success(), "redis-cli --cluster create failed");
        let cluster = RedisCluster {
            ports,
            servers,
            _dir: dir,
        };
        cluster.wait_ok().await;
        cluster
    }

    /// `redis+cluster://` with every node.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// Waits until every live node says the cluster is ok and has three masters that serve.
    pub async fn wait_ok(&self) {
        for _ in 0..600 {
            if self
                .live_ports()
                .iter()
                .all(|p| cli(*p, &["cluster", "info"]).contains("cluster_state:ok"))
                && self.masters().len() == 3
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the Redis Cluster did not become ok");
    }

    fn live_ports(&self) -> Vec<u16> {
        self.ports
            .iter()
            .zip(&self.servers)
            .filter(|(_, s)| s.is_some())
            .map(|(p, _)| *p)
            .collect()
    }

    /// The live masters' ports (as the first live node sees them).
    pub fn masters(&self) -> Vec<u16> {
        let Some(port) = self.live_ports().first().copied() else {
            return Vec::new();
        };
        cli(port, &["cluster", "nodes"])
            .lines()
            .filter(|l| l.contains("master") && !l.contains("fail"))
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter_map(|addr| addr.split('@').next()?.rsplit(':').next()?.parse().ok())
            .collect()
    }

    /// The port of the master that owns `channel`'s hash slot.
    pub fn master_of(&self, channel: &str) -> u16 {
        let port = self.live_ports()[0];
        let slot: u16 = cli(port, &["cluster", "keyslot", channel])
            .trim()
            .parse()
            .expect("a slot");
        for line in cli(port, &["cluster", "nodes"]).lines() {
            if !line.contains("master") || line.contains("fail") {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let serves = fields
                .iter()
                .skip(8)
                .any(|range| match range.split_once('-') {
                    Some((a, b)) => {
                        a.parse::<u16>().is_ok_and(|a| a <= slot)
                            && b.parse::<u16>().is_ok_and(|b| slot <= b)
                    }
                    None => range.parse::<u16>() == Ok(slot),
                });
            if serves {
                return fields[1]
                    .split('@')
                    .next()
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.parse().ok())
                    .expect("a port");
            }
        }
        panic!("no master serves slot {slot}");
    }

    /// Kills the server on `port` (SIGKILL): its replica takes over after the node timeout.
    pub fn kill(&mut self, port: u16) {
        let i = self.ports.iter().position(|p| *p == port).expect("a node");
        if let Some(mut child) = self.servers[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in self.servers.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nothing listens on {port}");
}
