// Shared by the JavaScript test scenarios: a bounded wait for a condition.
export const WAIT_MS = 10_000;

export async function until(what, pred) {
  const deadline = Date.now() + WAIT_MS;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
