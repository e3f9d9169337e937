// Collaborative editing with stock Yjs clients (yjs, y-protocols, y-websocket) against a live
// hub, run by tests/docs.rs. Environment: HUB_URL, DOCS (comma-separated document ids, one per
// scenario), TOKEN_ALICE, TOKEN_BOB (editors), TOKEN_VIC (viewer).
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import * as syncProtocol from "y-protocols/sync";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import WebSocket from "ws";
import { io } from "socket.io-client";
import assert from "node:assert/strict";
import { WAIT_MS, until } from "./wait.mjs";

const { HUB_URL: hub, TOKEN_ALICE, TOKEN_BOB, TOKEN_VIC } = process.env;
const docs = process.env.DOCS.split(",");
const wsUrl = hub.replace(/^http/, "ws") + "/yjs";

async function editor(doc, token) {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(wsUrl, doc, ydoc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true,
  });
  await until(`sync of ${doc}`, () => provider.synced);
  return { ydoc, provider, text: ydoc.getText("t") };
}

const close = (...clients) => clients.forEach((c) => c.provider.destroy());

const scenarios = {
  async "two stock clients converge on the same text"(doc) {
    const a = await editor(doc, TOKEN_ALICE);
    const b = await editor(doc, TOKEN_BOB);
    a.text.insert(0, "hello ");
    b.text.insert(0, "world ");
    await until("convergence", () => a.text.toString() === b.text.toString() && a.text.length === 12);
    assert.ok(a.text.toString().includes("hello") && a.text.toString().includes("world"));
    close(a, b);
  },

  async "a client that edits offline converges when it reconnects"(doc) {
    const a = await editor(doc, TOKEN_ALICE);
    const b = await editor(doc, TOKEN_BOB);
    a.text.insert(0, "base");
    await until("base", () => b.text.toString() === "base");
    a.provider.disconnect();
    a.text.insert(4, " offline-a");
    b.text.insert(0, "online-b ");
    await until("b's own edit", () => b.text.toString().startsWith("online-b"));
    a.provider.connect();
    await until("reconnect convergence", () => a.text.toString() === b.text.toString() && a.text.toString().includes("offline-a") && a.text.toString().includes("online-b"));
    close(a, b);
  },

  async "a Socket.IO client and a /yjs client edit one document together"(doc) {
    const y = await editor(doc, TOKEN_ALICE);
    const ydoc = new Y.Doc();
    const socket = io(hub, { auth: { token: TOKEN_BOB }, transports: ["websocket"], reconnection: false });
    await new Promise((resolve, reject) => { socket.on("connect", resolve); socket.on("connect_error", reject); });
    let synced = false;
    socket.on("doc:msg", (id, data) => {
      assert.equal(id, doc);
      const decoder = decoding.createDecoder(new Uint8Array(data));
      const type = decoding.readVarUint(decoder);
      if (type !== 0) return; // awareness: not needed here
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 0);
      const kind = syncProtocol.readSyncMessage(decoder, encoder, ydoc, "server");
      if (kind === syncProtocol.messageYjsSyncStep2) synced = true;
      if (encoding.length(encoder) > 1) socket.emit("doc:msg", doc, encoding.toUint8Array(encoder));
    });
    ydoc.on("update", (update, origin) => {
      if (origin === "server") return;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 0);
      syncProtocol.writeUpdate(encoder, update);
      socket.emit("doc:msg", doc, encoding.toUint8Array(encoder));
    });
    const joined = await socket.timeout(WAIT_MS).emitWithAck("doc:join", { doc });
    assert.equal(joined.ok, true, JSON.stringify(joined));
    assert.equal(joined.can_write, true);
    // Ask for the server's state, as a provider does after connecting.
    const step1 = encoding.createEncoder();
    encoding.writeVarUint(step1, 0);
    syncProtocol.writeSyncStep1(step1, ydoc);
    socket.emit("doc:msg", doc, encoding.toUint8Array(step1));
    await until("socket.io sync", () => synced);
    y.text.insert(0, "from-yjs ");
    ydoc.getText("t").insert(0, "from-socketio ");
    await until("cross-transport convergence", () => y.text.toString() === ydoc.getText("t").toString() && y.text.length === 23);
    const err = await socket.timeout(WAIT_MS).emitWithAck("doc:msg", doc, new Uint8Array([0, 2, 200, 1, 2]));
    assert.equal(err.ok, false);
    assert.equal(err.error.code, "invalid");
    socket.close();
    close(y);
  },

  async "a viewer's edits are refused while its awareness shows"(doc) {
    const a = await editor(doc, TOKEN_ALICE);
    a.text.insert(0, "owned by editors");
    const v = await editor(doc, TOKEN_VIC);
    await until("viewer sees the text", () => v.text.toString() === "owned by editors");
    v.text.insert(0, "VANDAL ");
    // Frames of one connection are handled in order: once alice sees the viewer's awareness,
    // the viewer's earlier update has been handled (and refused).
    v.provider.awareness.setLocalStateField("user", "vic");
    await until("viewer awareness", () => [...a.provider.awareness.getStates().values()].some((s) => s.user === "vic"));
    assert.equal(a.text.toString(), "owned by editors");
    const state = await fetch(`${hub}/api/v1/docs/${doc}/state`, { headers: { authorization: `Bearer ${TOKEN_ALICE}` } });
    const server = new Y.Doc();
    Y.applyUpdate(server, new Uint8Array(await state.arrayBuffer()));
    assert.equal(server.getText("t").toString(), "owned by editors");
    close(a, v);
  },

  async "awareness appears, and disappears when its connection drops"(doc) {
    const a = await editor(doc, TOKEN_ALICE);
    const b = await editor(doc, TOKEN_BOB);
    a.provider.awareness.setLocalStateField("user", { name: "Alice", color: "#f00" });
    const aliceId = a.ydoc.clientID;
    await until("alice's awareness at bob", () => b.provider.awareness.getStates().get(aliceId)?.user?.name === "Alice");
    // A dropped connection (no goodbye from the client): the hub removes its states.
    a.provider.shouldConnect = false;
    a.provider.ws.terminate();
    await until("alice's awareness removed", () => !b.provider.awareness.getStates().has(aliceId));
    a.provider.destroy();
    close(b);
  },
};

let passed = 0;
let failed = 0;
const names = Object.keys(scenarios);
for (const [i, name] of names.entries()) {
  try {
    await scenarios[name](docs[i]);
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}
console.log(`yjs: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
