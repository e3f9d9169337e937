// The demo page in a real browser (Debian's chromium, driven by playwright-core): two pages as
// two users meet in the demo venture; chat, presence and typing cross, and text typed in one
// page's editor appears in the other's. A screenshot of each page is saved under
// web/test-results/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { Hub } from "../../client-sdk/test/hub.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const RESULTS = join(import.meta.dirname, "..", "test-results");
const WAIT = { timeout: 15_000 };

let hub;
let browser;
before(async () => {
  hub = await Hub.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function page(user) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const p = await context.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(e.message));
  await p.goto(`${hub.url}/?user=${user}`);
  await p.getByTestId("connection").filter({ hasText: "connected" }).waitFor(WAIT);
  return { p, errors };
}

test("two users collaborate in two pages: presence, typing, chat and the shared document", async () => {
  const { p: ann, errors: annErrors } = await page("ann");
  const { p: bob, errors: bobErrors } = await page("bob");
  // Presence crosses: each page lists both.
  await ann.locator('[data-testid=presence] [data-user="bob"]').waitFor(WAIT);
  await bob.locator('[data-testid=presence] [data-user="ann"]').waitFor(WAIT);
  // Typing crosses.
  await bob.getByTestId("chat-input").pressSequentially("hello from bob", { delay: 10 });
  await ann.getByTestId("typing").filter({ hasText: "Bob is typing" }).waitFor(WAIT);
  // Chat crosses.
  await bob.getByTestId("send").click();
  await ann.getByTestId("messages").filter({ hasText: "hello from bob" }).waitFor(WAIT);
  await ann.getByTestId("typing").filter({ hasText: /^$/ }).waitFor(WAIT);
  await ann.getByTestId("chat-input").fill("hi @bob");
  await ann.getByTestId("chat-input").press("Enter");
  await bob.getByTestId("messages").filter({ hasText: "hi @bob" }).waitFor(WAIT);
  // The mention reaches bob's notifications.
  await bob.getByTestId("notifications").filter({ hasText: "Ann mentioned you" }).waitFor(WAIT);
  // The editor: ann types, bob sees; bob types, ann sees.
  const annEditor = ann.locator("[data-testid=editor] .cm-content");
  const bobEditor = bob.locator("[data-testid=editor] .cm-content");
  await annEditor.waitFor(WAIT);
  await bobEditor.waitFor(WAIT);
  await annEditor.click();
  await ann.keyboard.type("Plan: ship the demo", { delay: 5 });
  await bobEditor.filter({ hasText: "Plan: ship the demo" }).waitFor(WAIT);
  await bobEditor.click();
  await bob.keyboard.press("End");
  await bob.keyboard.type(" (bob agrees)", { delay: 5 });
  await annEditor.filter({ hasText: "Plan: ship the demo (bob agrees)" }).waitFor(WAIT);
  // The same text on both sides (without the other user's cursor and its name label).
  const text = (p) =>
    p.evaluate(() => {
      const copy = document.querySelector("[data-testid=editor] .cm-content").cloneNode(true);
      for (const el of copy.querySelectorAll(".cm-ySelectionCaret, .cm-ySelectionInfo, .cm-widgetBuffer")) el.remove();
      return [...copy.querySelectorAll(".cm-line")].map((l) => l.textContent).join("\n");
    });
  assert.equal(await text(ann), "Plan: ship the demo (bob agrees)");
  assert.equal(await text(bob), "Plan: ship the demo (bob agrees)");
  mkdirSync(RESULTS, { recursive: true });
  await ann.screenshot({ path: join(RESULTS, "ann.png") });
  await bob.screenshot({ path: join(RESULTS, "bob.png") });
  assert.deepEqual(annErrors, []);
  assert.deepEqual(bobErrors, []);
});

test("a newcomer picks a user on the sign-in page", async () => {
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.goto(`${hub.url}/`);
  await p.getByTestId("pick-carol").click();
  await p.getByTestId("me").filter({ hasText: "Carol" }).waitFor(WAIT);
  await p.getByTestId("ventures").filter({ hasText: "Demo venture" }).waitFor(WAIT);
  await p.locator('[data-testid=presence] [data-user="carol"]').waitFor(WAIT);
});

test("an invitation arrives live and the invitee joins the venture by accepting it", async () => {
  const { p, errors } = await page("dana");
  await p.getByTestId("invitations").filter({ hasText: "None" }).waitFor(WAIT);
  // Eve creates a venture and invites Dana (a pending member sees nothing of it).
  const eve = (await hub.token("eve")).token;
  const call = async (path, body) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${eve}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const venture = await call("/api/v1/ventures", { name: "Orbit Labs" });
  assert.equal(venture.status, 201);
  const invited = await call(`/api/v1/ventures/${venture.body.id}/members`, { user_id: "dana", role: "member" });
  assert.equal(invited.status, 202);
  const invitation = p.getByTestId("invitation").filter({ hasText: "Orbit Labs as member, from eve" });
  await invitation.waitFor(WAIT);
  assert.equal(await p.getByTestId("ventures").filter({ hasText: "Orbit Labs" }).count(), 0);
  await invitation.getByRole("button", { name: "Accept" }).click();
  await p.getByTestId("ventures").filter({ hasText: "Orbit Labs" }).waitFor(WAIT);
  await p.getByTestId("invitations").filter({ hasText: "None" }).waitFor(WAIT);
  assert.deepEqual(errors, []);
  // With two ventures, a fresh tab still opens the demo venture (where the other demo users
  // are), says so in its title, and the address names the venture to open.
  const { p: again } = await page("dana");
  await again.getByTestId("room-title").filter({ hasText: "Demo venture" }).waitFor(WAIT);
  assert.match(await again.title(), /^Demo venture · Dana · hub$/);
  const orbit = `${hub.url}/?user=dana&venture=${venture.body.id}`;
  await again.goto(orbit);
  await again.getByTestId("room-title").filter({ hasText: "Orbit Labs" }).waitFor(WAIT);
  assert.match(new URL(again.url()).search, new RegExp(`venture=${venture.body.id}`));
});
