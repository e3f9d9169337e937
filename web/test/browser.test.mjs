// The demo page in a real browser (Debian's chromium, driven by playwright-core), two users in
// two pages: an invitation accepted, chat with times, typing, the shared rich-text document
// edited together, a mention notified, sample tasks moving the wallet, XP and a badge on the
// user's page and the leaderboard on the other's, a file uploaded, downloaded and shared.
// Screenshots at 1,400, 800 and 390 px wide go to web/test-results/; axe-core finds no serious
// or critical accessibility violation at any of those widths.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { Hub } from "../../client-sdk/test/hub.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const RESULTS = join(import.meta.dirname, "..", "test-results");
const WAIT = { timeout: 15_000 };
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

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
  mkdirSync(RESULTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function page(user, width = 1400, height = 900) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const p = await context.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(e.message));
  await p.goto(`${hub.url}/?user=${user}`);
  await p.getByTestId("connection").filter({ hasText: "connected" }).waitFor(WAIT);
  return { p, errors };
}

/** Serious and critical axe-core violations on the page as it is now. */
async function accessibility(p) {
  await p.addScriptTag({ content: AXE });
  const result = await p.evaluate(async () => await globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const number = async (locator) => Number((await locator.textContent()).trim());

test("two users: invitation, chat with times, typing, the document, a mention, live rewards, files", async () => {
  const { p: ann, errors: annErrors } = await page("ann");
  const { p: bob, errors: bobErrors } = await page("bob");

  // An invitation: Eve's venture, Bob accepts on his page, and it joins his ventures.
  const eve = (await hub.token("eve")).token;
  const call = async (path, body) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${eve}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const orbit = await call("/api/v1/ventures", { name: "Orbit Labs" });
  assert.equal(orbit.status, 201);
  assert.equal((await call(`/api/v1/ventures/${orbit.body.id}/members`, { user_id: "bob", role: "member" })).status, 202);
  const invitation = bob.getByTestId("invitation").filter({ hasText: "Orbit Labs as member, from eve" });
  await invitation.waitFor(WAIT);
  await invitation.getByRole("button", { name: "Accept" }).click();
  await bob.getByTestId("ventures").filter({ hasText: "Orbit Labs" }).waitFor(WAIT);
  await bob.getByTestId("invitations").filter({ hasText: "None" }).waitFor(WAIT);
  // Both are still in the demo venture's room.
  await ann.getByTestId("room-title").filter({ hasText: "Demo venture" }).waitFor(WAIT);
  assert.match(await ann.title(), /^Demo venture · Ann · hub$/);

  // Presence and typing cross.
  await ann.locator('[data-testid=presence] [data-user="bob"]').waitFor(WAIT);
  await bob.locator('[data-testid=presence] [data-user="ann"]').waitFor(WAIT);
  await bob.getByTestId("chat-input").pressSequentially("hello from bob", { delay: 10 });
  await ann.getByTestId("typing").filter({ hasText: "Bob is typing" }).waitFor(WAIT);
  // Chat crosses, each message with its time.
  await bob.getByTestId("send").click();
  const hello = ann.getByTestId("messages").locator("li").filter({ hasText: "hello from bob" });
  await hello.waitFor(WAIT);
  const when = await hello.locator("time").getAttribute("datetime");
  assert.ok(Math.abs(Date.parse(when) - Date.now()) < 5 * 60_000, when);
  assert.match(await hello.locator("time").textContent(), /\d{1,2}:\d{2}/);
  await ann.getByTestId("typing").filter({ hasText: /^$/ }).waitFor(WAIT);
  // A mention reaches Bob's notifications.
  await ann.getByTestId("chat-input").fill("hi @bob");
  await ann.getByTestId("chat-input").press("Enter");
  await bob.getByTestId("messages").filter({ hasText: "hi @bob" }).waitFor(WAIT);
  await bob.getByTestId("notifications").filter({ hasText: "Ann mentioned you" }).waitFor(WAIT);

  // The shared document, as rich text: Ann types and makes it bold, Bob sees and adds.
  const annEditor = ann.locator("[data-testid=editor] .ql-editor");
  const bobEditor = bob.locator("[data-testid=editor] .ql-editor");
  await annEditor.waitFor(WAIT);
  await bobEditor.waitFor(WAIT);
  await ann.getByTestId("doc-state").filter({ hasText: "Saved as you type" }).waitFor(WAIT);
  await bob.getByTestId("doc-state").filter({ hasText: "Saved as you type" }).waitFor(WAIT);
  await annEditor.click();
  await ann.keyboard.press("Control+b");
  await ann.keyboard.type("Plan:", { delay: 5 });
  await ann.keyboard.press("Control+b");
  await ann.keyboard.type(" ship the demo", { delay: 5 });
  await bobEditor.filter({ hasText: "Plan: ship the demo" }).waitFor(WAIT);
  assert.equal(await bobEditor.locator("strong").first().textContent(), "Plan:");
  await bobEditor.click();
  await bob.keyboard.press("Control+End");
  await bob.keyboard.type(" (bob agrees)", { delay: 5 });
  await annEditor.filter({ hasText: "Plan: ship the demo (bob agrees)" }).waitFor(WAIT);
  const text = (p) => p.locator("[data-testid=editor] .ql-editor").evaluate((el) => el.innerText.trim());
  assert.equal(await text(ann), "Plan: ship the demo (bob agrees)");
  assert.equal(await text(bob), "Plan: ship the demo (bob agrees)");

  // Sample tasks for Ann: her wallet, XP and badges move live, and Bob's leaderboard with them.
  const balance = ann.getByTestId("wallet-balance");
  await balance.filter({ hasText: /^\d+$/ }).waitFor(WAIT);
  const before = { buz: await number(balance), xp: await number(ann.getByTestId("xp")) };
  for (let i = 1; i <= 5; i++) {
    await ann.getByTestId("sample-task").click();
    await ann.getByTestId("sample-outcome").filter({ hasText: "BUZ credited" }).waitFor(WAIT);
    await ann.getByTestId("sample-task").and(ann.locator(":enabled")).waitFor(WAIT);
  }
  await ann.waitForFunction(
    (b) => Number(document.querySelector("[data-testid=wallet-balance]").textContent) > b,
    before.buz,
    WAIT,
  );
  await ann.waitForFunction((x) => Number(document.querySelector("[data-testid=xp]").textContent) > x, before.xp, WAIT);
  await ann.locator('[data-testid=badges] [data-badge="early_contributor"]').waitFor(WAIT);
  const annOnBobsBoard = bob.locator('[data-testid=leaderboard] [data-user="ann"]');
  await annOnBobsBoard.waitFor(WAIT);
  // Bob's board catches up with Ann's XP (pushes are throttled, the last one always comes).
  const annXp = await number(ann.getByTestId("xp"));
  await bob.waitForFunction(
    (xp) => {
      const row = document.querySelector('[data-testid=leaderboard] [data-user="ann"] [data-testid=board-xp]');
      return row && Number.parseInt(row.textContent) === xp;
    },
    annXp,
    WAIT,
  );
  await ann.getByTestId("notifications").filter({ hasText: "BUZ credited" }).waitFor(WAIT);
  await ann.getByTestId("activity").filter({ hasText: "had a task accepted" }).waitFor(WAIT);

  // A file: uploaded with its progress, listed, downloaded as it was, shared with Bob.
  const content = "Launch plan\n1. Ship the demo\n";
  await ann.getByTestId("file-input").setInputFiles({ name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from(content) });
  await ann.getByTestId("files-message").filter({ hasText: "Uploaded plan.txt" }).waitFor(WAIT);
  const row = ann.locator('[data-testid=files] [data-file="plan.txt"]');
  await row.waitFor(WAIT);
  const [download] = await Promise.all([ann.waitForEvent("download", WAIT), row.getByTestId("download").click()]);
  assert.equal(download.suggestedFilename(), "plan.txt");
  const saved = await download.path();
  assert.equal(readFileSync(saved, "utf8"), content);
  await row.getByTestId("share-to").fill("bob");
  await row.getByTestId("share").click();
  await ann.getByTestId("files-message").filter({ hasText: "Shared plan.txt with bob" }).waitFor(WAIT);
  await bob.getByTestId("notifications").filter({ hasText: "shared “plan.txt”" }).waitFor(WAIT);
  await bob.locator('[data-testid=files] [data-file="plan.txt"]').filter({ hasText: "from ann" }).waitFor(WAIT);

  // Screenshots and accessibility at each width; below 1,200 px the panels are tabs.
  for (const [width, height] of [
    [1400, 900],
    [800, 1000],
    [390, 844],
  ]) {
    for (const [who, p] of [
      ["ann", ann],
      ["bob", bob],
    ]) {
      await p.setViewportSize({ width, height });
      const tabs = p.getByTestId("tab-chat");
      if (width < 1200) {
        assert.equal(await tabs.isVisible(), true, `tabs at ${width}`);
        for (const tab of ["people", "chat", "doc", "activity"]) {
          await p.getByTestId(`tab-${tab}`).click();
          await p.getByTestId(`panel-${tab}`).waitFor({ state: "visible", ...WAIT });
          assert.equal(await p.getByTestId("panel-chat").isVisible(), tab === "chat");
          await p.screenshot({ path: join(RESULTS, `${who}-${width}-${tab}.png`) });
          assert.deepEqual(await accessibility(p), [], `${who} at ${width}, ${tab}`);
        }
        // Nothing wider than the screen.
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${who} at ${width}: ${overflow} px too wide`);
        await p.getByTestId("tab-chat").click();
      } else {
        assert.equal(await tabs.isVisible(), false);
        for (const panel of ["people", "chat", "doc", "activity"]) {
          assert.equal(await p.getByTestId(`panel-${panel}`).isVisible(), true, panel);
        }
        await p.screenshot({ path: join(RESULTS, `${who}-${width}.png`) });
        assert.deepEqual(await accessibility(p), [], `${who} at ${width}`);
      }
    }
  }
  // Keyboard: from the top of the page, Tab reaches the chat input at the phone width.
  await bob.getByTestId("tab-chat").click();
  await bob.keyboard.press("Escape");
  await bob.locator("body").focus();
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await bob.keyboard.press("Tab");
    reached = await bob.evaluate(() => document.activeElement?.getAttribute("data-testid") === "chat-input");
  }
  assert.ok(reached, "Tab reaches the chat input");
  assert.deepEqual(annErrors, []);
  assert.deepEqual(bobErrors, []);
});

test("a newcomer picks a user on the sign-in page, which has a title and an icon", async () => {
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.goto(`${hub.url}/`);
  assert.match(await p.title(), /hub/);
  const icon = await p.locator('link[rel="icon"]').getAttribute("href");
  const res = await fetch(`${hub.url}${icon}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/svg+xml");
  assert.deepEqual(await accessibility(p), []);
  await p.getByTestId("pick-carol").click();
  await p.getByTestId("me").filter({ hasText: "Carol" }).waitFor(WAIT);
  await p.getByTestId("ventures").filter({ hasText: "Demo venture" }).waitFor(WAIT);
  await p.locator('[data-testid=presence] [data-user="carol"]').waitFor(WAIT);
});

test("a venture named in the address opens, and the title says which", async () => {
  const dana = (await hub.token("dana")).token;
  const res = await fetch(`${hub.url}/api/v1/ventures`, {
    method: "POST",
    headers: { authorization: `Bearer ${dana}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Dana Works" }),
  });
  const venture = await res.json();
  const { p, errors } = await page("dana");
  await p.getByTestId("room-title").filter({ hasText: "Demo venture" }).waitFor(WAIT);
  await p.goto(`${hub.url}/?user=dana&venture=${venture.id}`);
  await p.getByTestId("room-title").filter({ hasText: "Dana Works" }).waitFor(WAIT);
  assert.match(await p.title(), /^Dana Works · Dana · hub$/);
  assert.match(new URL(p.url()).search, new RegExp(`venture=${venture.id}`));
  assert.deepEqual(errors, []);
});
