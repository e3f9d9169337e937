// The server API with the stock socket.io-client, run by tests/cluster/server_api.rs: a client
// on one node (HUB_URL) joins ROOM; another backend publishes through the other node (API_URL)
// with an API key (API_KEY); then it revokes the user's tokens. Prints what it saw.
import { io } from "socket.io-client";
import assert from "node:assert/strict";

const { HUB_URL, API_URL, HUB_TOKEN, API_KEY, ROOM } = process.env;
const WAIT_MS = 10_000;

function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), WAIT_MS);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

async function api(path, body) {
  const res = await fetch(`${API_URL}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const socket = io(HUB_URL, { auth: { token: HUB_TOKEN }, reconnection: false, timeout: WAIT_MS });
await once(socket, "connect");
const joined = await socket.timeout(WAIT_MS).emitWithAck("room:join", { room: ROOM });
assert.equal(joined.ok, true, JSON.stringify(joined));

const heard = once(socket, "server:event");
const sent = await api(`/api/v1/rooms/${encodeURIComponent(ROOM)}/publish`, {
  event: "deal:closed",
  data: { amount: 42, currency: "BUZ" },
});
const [publication] = await heard;
assert.deepEqual(publication, sent);
assert.equal(publication.event, "deal:closed");
assert.deepEqual(publication.data, { amount: 42, currency: "BUZ" });
console.log("heard the publication");

const closed = once(socket, "session:closed");
const gone = once(socket, "disconnect");
await api("/api/v1/users/bob/revoke", { reason: "compromised" });
const [why] = await closed;
assert.deepEqual(why, { code: "revoked", reason: "compromised" });
const [reason] = await gone;
assert.equal(reason, "io server disconnect");
console.log("closed as revoked");

const again = io(HUB_URL, { auth: { token: HUB_TOKEN }, reconnection: false, timeout: WAIT_MS });
const [err] = await once(again, "connect_error");
assert.match(err.message, /token revoked/);
again.close();
console.log("refused after revocation");
