// Verifies a webhook delivery from the hub, as the Standard Webhooks specification says: the
// `webhook-signature` header holds one or more `v1,<base64 HMAC-SHA256>` of
// `{webhook-id}.{webhook-timestamp}.{body}` under the endpoint's `whsec_` secret, and the
// timestamp must be recent (replays of old deliveries are refused). Runs on WebCrypto, in Node
// 20+ and in browsers. Pass the body exactly as received (the raw text, not re-serialized JSON).

import { HubError } from "./errors.js";

/** The body of every delivery. */
export interface WebhookEvent<T = unknown> {
  /** `task.credited`, `member.joined`, `chat.message`, … */
  type: string;
  /** When the hub made the event (RFC 3339). */
  timestamp: string;
  data: T;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, in seconds (default 300). */
  toleranceSec?: number;
  /** Now, in Unix seconds (default the clock's). */
  now?: number;
}

/** A request's headers: a `Headers`, or a plain object as Node's `IncomingMessage` has. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

function refuse(message: string): never {
  throw new HubError({ code: "unauthorized", message });
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Compares two strings in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The `v1,…` signature of `body` sent as `id` at `timestamp` under `secret` (`whsec_…`). */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    base64ToBytes(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/**
 * Checks a delivery's signature and timestamp and returns its event; throws a `HubError`
 * (`unauthorized`) when it does not verify. Deduplicate on `webhook-id`: a delivery may come
 * more than once (at least once).
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  body: string,
  headers: HeaderSource,
  options: VerifyOptions = {},
): Promise<WebhookEvent<T>> {
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !ts || !signatures) refuse("missing webhook-id, webhook-timestamp or webhook-signature");
  const timestamp = Number(ts);
  if (!Number.isInteger(timestamp)) refuse("webhook-timestamp is not a number of seconds");
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSec ?? 300;
  if (Math.abs(now - timestamp) > tolerance) refuse("webhook-timestamp is too old or too new");
  const expected = await signWebhook(secret, id, timestamp, body);
  const given = signatures.split(" ").filter((s) => s.startsWith("v1,"));
  if (!given.some((s) => sameText(s, expected))) refuse("no webhook-signature matches");
  return JSON.parse(body) as WebhookEvent<T>;
}
