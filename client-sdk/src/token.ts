// Tokens: a fixed one, or a function that fetches a fresh one. A JWT's `exp` is read (without
// verifying: the hub does that) so that a token is renewed before it expires, not after.

export type TokenSource = string | (() => string | Promise<string>);

/** The claims of a JWT (not verified), or `undefined` when it is not one. */
export function tokenClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const claims: unknown = JSON.parse(atob(padded));
    return claims !== null && typeof claims === "object" ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` of a JWT in milliseconds, or `undefined` when it has none or is not a JWT. */
export function tokenExpiry(token: string): number | undefined {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : undefined;
}

/** The jittered delay of the `attempt`-th retry (from 0): `first` doubled up to `max`, then a random half to all of it. */
export function backoff(first: number, max: number, attempt: number): number {
  const base = Math.min(max, first * 2 ** attempt);
  return base / 2 + (Math.random() * base) / 2;
}

/** Holds the current token and renews it through the source when it nears its expiry. */
export class Tokens {
  #source: TokenSource;
  #current: string | undefined;
  #pending: Promise<string> | undefined;
  readonly #refreshBeforeMs: number;

  constructor(source: TokenSource, refreshBeforeMs: number) {
    this.#source = source;
    this.#refreshBeforeMs = refreshBeforeMs;
    if (typeof source === "string") this.#current = source;
  }

  /** Whether a new token can be fetched (a `getToken` was given). */
  get renewable(): boolean {
    return typeof this.#source === "function";
  }

  /** A token that is not about to expire; `force` fetches a new one whatever the current. */
  async get(force = false): Promise<string> {
    const source = this.#source;
    if (typeof source === "string") return source;
    const current = this.#current;
    if (!force && current !== undefined) {
      const exp = tokenExpiry(current);
      if (exp === undefined || exp - Date.now() > this.#refreshBeforeMs) return current;
    }
    if (!this.#pending) {
      this.#pending = Promise.resolve()
        .then(source)
        .then((t) => {
          this.#current = t;
          return t;
        })
        .finally(() => {
          this.#pending = undefined;
        });
    }
    return this.#pending;
  }
}
