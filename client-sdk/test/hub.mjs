// Starts a real hub binary for the SDK's tests: its own port, data directory (SQLite) and
// environment, killed (SIGKILL, like a crash) and restarted on the same port and data.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN =
  process.env.HUB_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(import.meta.dirname, "..", "..", "target"), "debug", "hub");

export const WAIT_MS = 10_000;

/** The JWT secret of the hubs started here. */
export const SECRET = "sdk-test-secret-sdk-test-secret-sdk!";

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function until(what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class Hub {
  constructor(env = {}) {
    this.env = env;
    this.dir = mkdtempSync(join(tmpdir(), "hub-sdk-"));
  }

  static async start(env = {}) {
    const hub = new Hub(env);
    hub.port = await freePort();
    await hub.#spawn();
    return hub;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async #spawn() {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    this.proc = spawn(BIN, [], {
      env: {
        ...env,
        HUB_ADDR: `127.0.0.1:${this.port}`,
        DATA_DIR: this.dir,
        JWT_SECRET: SECRET,
        HUB_ENV: "development",
        LOG_FORMAT: "json",
        RUST_LOG: "warn",
        HUB_REST_RATE_ANON: "100000/1m",
        HUB_CHAT_RATE: "10000",
        HUB_CHAT_BURST: "10000",
        ...this.env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.stderr = "";
    this.proc.stderr.on("data", (d) => {
      this.stderr += d;
    });
    await until(
      "the hub to answer",
      async () => {
        if (this.proc.exitCode !== null) throw new Error(`hub exited: ${this.stderr}`);
        try {
          return (await fetch(`${this.url}/api/health`)).status === 200;
        } catch {
          return false;
        }
      },
      30_000,
    );
  }

  /** SIGKILL: no goodbye, no flush. */
  async kill() {
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGKILL");
    await exited;
  }

  /** SIGTERM: the hub drains (hands its connections back) and exits. */
  async terminate() {
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    return exited;
  }

  async restart() {
    await this.#spawn();
  }

  async stop() {
    if (this.proc.exitCode === null) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A development token (and the demo venture and document the user is made a member of). */
  async token(user, extra = {}) {
    const res = await fetch(`${this.url}/api/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: user, ...extra }),
    });
    if (res.status !== 200) throw new Error(`dev token: ${res.status} ${await res.text()}`);
    return res.json();
  }
}
