// The React hooks (`@hub/client-sdk/react`) against a real hub, rendered with React Testing
// Library in jsdom: each hook's value follows the hub live, with loading and error states.
import "global-jsdom/register";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { act, renderHook, waitFor } from "@testing-library/react";
import { createElement } from "react";
import { HubClient, RestClient, Tokens } from "../dist/index.js";
import {
  HubProvider,
  useActivity,
  useChat,
  useDoc,
  useLeaderboard,
  useNotifications,
  usePresence,
  useProfile,
  useRoom,
  useTyping,
  useWallet,
} from "../dist/react.js";
import { Hub, SECRET, WAIT_MS, until } from "./hub.mjs";

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

let hub;
const clients = [];
before(async () => {
  // Every accepted task credits BUZ (no KYC or reputation gate), so the wallet moves.
  hub = await Hub.start({ HUB_BUZ_REQUIRE_KYC: "false", HUB_BUZ_MIN_REPUTATION: "0" });
});
after(async () => {
  for (const c of clients) c.close();
  await hub?.stop();
});

async function user(id) {
  const info = await hub.token(id);
  const client = new HubClient({
    url: hub.url,
    transports: ["websocket"],
    getToken: async () => (await hub.token(id)).token,
  });
  clients.push(client);
  await until(`${id} connected`, () => client.state.get() === "connected");
  const wrapper = ({ children }) => createElement(HubProvider, { client }, children);
  return { client, info, wrapper, room: `venture:${info.venture_id}` };
}

const wait = (check) => waitFor(check, { timeout: WAIT_MS });

/** A `system` token (the development sign-in never mints one), signed with the test hub's
 * secret. */
function systemToken() {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: "ops", role: "system", exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

test("chat, presence and typing follow the room; a room is left with its last user", async () => {
  const ann = await user("ann");
  const bob = await user("bob");
  const chat = renderHook(() => useChat(ann.room), { wrapper: ann.wrapper });
  assert.equal(chat.result.current.loading, true);
  await wait(() => assert.equal(chat.result.current.loading, false));
  assert.equal(chat.result.current.error, null);
  const presence = renderHook(() => usePresence(ann.room), { wrapper: ann.wrapper });
  const typing = renderHook(() => useTyping(ann.room), { wrapper: ann.wrapper });

  const bobTyping = renderHook(() => useTyping(bob.room), { wrapper: bob.wrapper });
  await wait(() => assert.equal(bobTyping.result.current.loading, false));
  await wait(() =>
    assert.deepEqual(presence.result.current.users.map((p) => p.user_id).sort(), ["ann", "bob"]),
  );
  act(() => bobTyping.result.current.start());
  await wait(() => assert.deepEqual(typing.result.current.users, ["bob"]));

  await act(() => chat.result.current.send("hello from a hook"));
  await wait(() =>
    assert.ok(chat.result.current.messages.some((m) => m.body === "hello from a hook" && m.seq > 0)),
  );
  act(() => bobTyping.result.current.stop());
  await wait(() => assert.deepEqual(typing.result.current.users, []));

  // Three hooks hold ann's room: it stays joined until the last one unmounts.
  chat.unmount();
  typing.unmount();
  assert.ok(ann.client.rooms.get(ann.room), "still held by usePresence");
  presence.unmount();
  await until("left with its last hook", () => ann.client.rooms.get(ann.room) === undefined);
  bobTyping.unmount();
});

test("a room that cannot be joined answers its error", async () => {
  const cat = await user("cat");
  const { result } = renderHook(() => useRoom("venture:nobody-has-this-one"), { wrapper: cat.wrapper });
  await wait(() => assert.equal(result.current.loading, false));
  assert.equal(result.current.room, null);
  assert.ok(["forbidden", "not_found"].includes(result.current.error?.code), String(result.current.error?.code));
});

test("a mention arrives in useNotifications live", async () => {
  const dan = await user("dan");
  const eve = await user("eve");
  const notes = renderHook(() => useNotifications(), { wrapper: eve.wrapper });
  await wait(() => assert.equal(notes.result.current.loading, false));
  const before = notes.result.current.unread;
  const room = await dan.client.rooms.join(dan.room);
  await room.chat.send("look @eve");
  await wait(() => assert.equal(notes.result.current.unread, before + 1));
  assert.equal(notes.result.current.items[0].kind, "mention");
  await act(() => notes.result.current.markAllRead());
  assert.equal(notes.result.current.unread, 0);
});

test("a task credited moves the wallet, the leaderboard and the feed live; the profile on reload", async () => {
  const fay = await user("fay");
  const system = new RestClient({ url: hub.url, tokens: new Tokens(systemToken(), 0) });
  const venture = fay.info.venture_id;

  const wallet = renderHook(() => useWallet(), { wrapper: fay.wrapper });
  const joined = renderHook(() => useRoom(fay.room), { wrapper: fay.wrapper });
  const board = renderHook(() => useLeaderboard(venture, "xp"), { wrapper: fay.wrapper });
  const feed = renderHook(() => useActivity(venture), { wrapper: fay.wrapper });
  const profile = renderHook(() => useProfile(), { wrapper: fay.wrapper });
  await wait(() => {
    assert.equal(wallet.result.current.loading, false);
    assert.equal(joined.result.current.loading, false);
    assert.equal(board.result.current.loading, false);
    assert.equal(feed.result.current.loading, false);
    assert.equal(profile.result.current.loading, false);
  });
  const balance = wallet.result.current.wallet.buz_balance;
  const xp = profile.result.current.profile.xp;

  const answer = await system.taskAccepted({
    body: { task_id: "react-hooks-1", user_id: "fay", venture_id: venture, tier: "C", quality: 1.0, reviewer_trust: 100 },
  });
  assert.ok(answer.buz.credited > 0, JSON.stringify(answer));
  await wait(() => assert.equal(wallet.result.current.wallet.buz_balance, balance + answer.buz.credited));
  await wait(() => {
    const line = board.result.current.board.entries.find((e) => e.user_id === "fay");
    assert.ok(line && line.xp > xp, JSON.stringify(board.result.current.board));
  });
  await wait(() => assert.ok(feed.result.current.items.some((a) => a.verb === "task.accepted")));
  act(() => profile.result.current.reload());
  await wait(() => assert.ok(profile.result.current.profile.xp > xp));
  for (const h of [wallet, joined, board, feed, profile]) h.unmount();
});

test("useDoc binds a Y.Doc both ways", async () => {
  const gus = await user("gus");
  const hal = await user("hal");
  const a = renderHook(() => useDoc(gus.info.doc_id), { wrapper: gus.wrapper });
  const b = renderHook(() => useDoc(hal.info.doc_id), { wrapper: hal.wrapper });
  await wait(() => {
    assert.equal(a.result.current.synced, true);
    assert.equal(b.result.current.synced, true);
  });
  assert.equal(a.result.current.loading, false);
  a.result.current.doc.getText("body").insert(0, "typed through useDoc");
  await wait(() => assert.equal(b.result.current.doc.getText("body").toString(), "typed through useDoc"));
  a.unmount();
  b.unmount();
});
