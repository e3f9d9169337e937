// A rolling restart of a three-hub cluster under chat load, through the SDK behind a load
// balancer. Run by tests/cluster/sharded.rs, which made the database (a venture whose room is
// ROOM, with alice, bob, carol and dave) and the Redis Cluster.
//
// Each user's HubClient connects through a TCP balancer that sends each new connection to the
// next hub that accepts it, and sends a chat message every 30 ms. Each hub in turn gets SIGTERM:
// it closes its listener, hands its sockets back over HUB_DRAIN_SECONDS with a reconnect hint
// the SDK follows, and exits 0; it is started again on its port. Then every acknowledged
// message is stored once, every client saw every message once and in order, and presence holds
// no ghost: once three users close, the fourth sees only itself.
//
// Environment: HUB_BIN, DATABASE_URL, REDIS_URL, HUB_REDIS_PREFIX, JWT_SECRET, ROOM,
// TOKEN_ALICE, TOKEN_BOB, TOKEN_CAROL, TOKEN_DAVE.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { HubClient } from "../../client-sdk/dist/index.js";
import { until } from "./wait.mjs";

const { ROOM: room } = process.env;
let stage = "start";
const step = (name) => {
  stage = name;
};
setTimeout(() => {
  console.error(`stuck at: ${stage}`);
  process.exit(2);
}, 100_000).unref();

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Waits up to `ms` for `check` (async) to be true. */
async function waitFor(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class HubProcess {
  constructor(port) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), "hub-rolling-"));
  }

  async start() {
    this.proc = spawn(process.env.HUB_BIN, [], {
      env: {
        ...process.env,
        HUB_ADDR: `127.0.0.1:${this.port}`,
        DATA_DIR: this.dir,
        HUB_DRAIN_SECONDS: "1",
        HUB_DRAIN_JITTER: "300ms",
        HUB_HEARTBEAT: "200ms",
        HUB_NODE_TIMEOUT: "1s",
        HUB_PRESENCE_GRACE: "500ms",
        HUB_CHAT_RATE: "1000",
        HUB_CHAT_BURST: "1000",
        HUB_REST_RATE_USER: "1000000/1s",
        HUB_MAX_CONNS_PER_IP: "0",
        HUB_HANDSHAKE_RATE_IP: "off",
        RUST_LOG: "warn",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.stderr = "";
    this.proc.stderr.on("data", (d) => {
      this.stderr += d;
    });
    await waitFor(`hub on ${this.port}`, async () => {
      if (this.proc.exitCode !== null) throw new Error(`hub exited: ${this.stderr}`);
      try {
        return (await fetch(`http://127.0.0.1:${this.port}/api/health`)).status === 200;
      } catch {
        return false;
      }
    });
  }

  /** SIGTERM, and the exit code. */
  async terminate() {
    const exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    this.proc.kill("SIGTERM");
    return exited;
  }
}

step("hubs");
const hubs = [];
for (let i = 0; i < 3; i++) {
  const hub = new HubProcess(await freePort());
  await hub.start();
  hubs.push(hub);
}

// The load balancer: each new connection goes to the next hub that accepts it.
let next = 0;
const balancer = net.createServer((client) => {
  client.pause();
  const tryHub = (left) => {
    if (left === 0) return client.destroy();
    const hub = hubs[next++ % hubs.length];
    const upstream = net.connect(hub.port, "127.0.0.1");
    upstream.once("connect", () => {
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once("error", () => tryHub(left - 1));
  };
  tryHub(hubs.length);
});
await new Promise((r) => balancer.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${balancer.address().port}`;

step("clients");
const users = ["alice", "bob", "carol", "dave"];
const people = [];
for (const user of users) {
  const token = process.env[`TOKEN_${user.toUpperCase()}`];
  const c = new HubClient({
    url,
    getToken: async () => token,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 500,
    ackTimeoutMs: 3000,
    transports: ["websocket"],
  });
  await until(`${user} connected`, () => c.state.get() === "connected");
  const r = await c.rooms.join(room);
  const person = { user, c, room: r, got: [], sends: [], hints: 0 };
  r.chat.on("message", (m) => person.got.push(m));
  c.on("draining", () => person.hints++);
  people.push(person);
}

step("load");
let sending = true;
let n = 0;
const senders = people.map(async (p) => {
  while (sending) {
    p.sends.push(p.room.chat.send(`${p.user} ${n++}`));
    await new Promise((r) => setTimeout(r, 30));
  }
});

step("rolling restart");
await new Promise((r) => setTimeout(r, 500));
for (const [i, hub] of hubs.entries()) {
  step(`restart hub ${i}`);
  const code = await hub.terminate();
  assert.equal(code, 0, `hub ${i} exits 0 after draining: ${hub.stderr}`);
  await hub.start();
  await new Promise((r) => setTimeout(r, 700));
}
sending = false;
await Promise.all(senders);

step("every send confirmed");
const confirmed = (await Promise.all(people.flatMap((p) => p.sends))).map((m) => m.id);
assert.equal(new Set(confirmed).size, confirmed.length, "each send confirmed as its own message");

step("history");
const reader = people[0];
const stored = [];
for (;;) {
  const after = stored.at(-1)?.seq ?? 0;
  const page = await reader.c.request("chat:history", { room, after, limit: 100 });
  if (page.messages.length === 0) break;
  stored.push(...page.messages);
}
assert.deepEqual(
  stored.map((m) => m.seq),
  stored.map((_, i) => i + 1),
  "stored gap-free",
);
assert.equal(stored.length, confirmed.length, "every acknowledged message stored once, nothing more");
const storedIds = new Set(stored.map((m) => m.id));
for (const id of confirmed) assert.ok(storedIds.has(id), `acknowledged ${id} is stored`);

step("every client saw everything");
for (const p of people) {
  await until(`${p.user} saw all ${stored.length}`, () => p.got.length >= stored.length);
  assert.deepEqual(
    p.got.map((m) => m.id),
    stored.map((m) => m.id),
    `${p.user} saw every message once, in order`,
  );
}
const hints = people.reduce((sum, p) => sum + p.hints, 0);
assert.ok(hints >= people.length, `every client was handed back at least once (${hints} hints)`);

step("presence");
for (const p of people) {
  await until(`${p.user} sees all four`, () =>
    users.every((u) => p.room.presence.get().some((e) => e.user_id === u)),
  );
}
for (const p of people.slice(1)) p.c.close();
await until("alice sees only herself (no ghost)", () => {
  const present = reader.room.presence.get().map((e) => e.user_id);
  return present.length === 1 && present[0] === "alice";
});
reader.c.close();
balancer.close();
for (const hub of hubs) await hub.terminate();
console.log(`rolling restart ok: ${stored.length} messages, ${hints} hints`);
process.exit(0);
