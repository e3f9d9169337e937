// Revoke-to-close time across two nodes, with the stock socket.io-client (run by
// `loadtest/bench.sh revoke`): TABS tabs of one user spread over two hubs; a backend revokes the
// user through node A; the time until the last tab's disconnect arrives is recorded, ROUNDS
// times. Env: A, B (the nodes' base URLs), SECRET (their JWT secret), KEY (an API key with the
// `disconnect` scope), ROUNDS, TABS.
import { io } from "socket.io-client";
import { createHmac } from "node:crypto";
const { A, B, KEY } = process.env;
const rounds = Number(process.env.ROUNDS ?? 20);
const tabs = Number(process.env.TABS ?? 10);
function token(user) {
  const h = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const p = Buffer.from(JSON.stringify({ sub: user, exp: now + 3600, iat: now })).toString("base64url");
  const s = createHmac("sha256", process.env.SECRET).update(`${h}.${p}`).digest("base64url");
  return `${h}.${p}.${s}`;
}
const samples = [];
for (let r = 0; r < rounds; r++) {
  const user = `rv${r}`;
  const t = token(user);
  const socks = [];
  for (let i = 0; i < tabs; i++) {
    const s = io(i % 2 ? B : A, { auth: { token: t }, reconnection: false, transports: ["websocket"] });
    await new Promise((res, rej) => { s.once("connect", res); s.once("connect_error", rej); });
    socks.push(s);
  }
  const closed = socks.map((s) => new Promise((res) => s.once("disconnect", () => res(performance.now()))));
  const t0 = performance.now();
  const resp = await fetch(`${A}/api/v1/users/${user}/revoke`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: "{}" });
  if (resp.status !== 200) throw new Error(await resp.text());
  const ends = await Promise.all(closed);
  samples.push(Math.max(...ends) - t0);
}
samples.sort((a, b) => a - b);
const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))].toFixed(1);
console.log(`revoke to the last of ${tabs} tabs closed over 2 nodes, ${rounds} rounds: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${samples[samples.length - 1].toFixed(1)} ms`);
process.exit(0);
