// Shared by the JavaScript test scenarios: bounded waits for a condition and for an event.
export const WAIT_MS = 10_000;

export async function until(what, pred) {
  const deadline = Date.now() + WAIT_MS;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The next `event` on `emitter` whose payload satisfies `pred`, within WAIT_MS. */
export function next(emitter, event, pred = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), WAIT_MS);
    const handler = (payload) => {
      if (!pred(payload)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(payload);
    };
    emitter.on(event, handler);
  });
}
