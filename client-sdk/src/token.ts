// Tokens: a fixed one, or a function that fetches a fresh one. A JWT's `exp` is read (without
// verifying: the hub does that) so that a token is renewed before it expires, not after.

export type TokenSource = string | (() => string | Promise<string>);

/** The `exp` of a JWT in milliseconds, or `undefined` when it has none or is not a JWT. */
export function tokenExpiry(token: string): number | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const claims = JSON.parse(atob(padded)) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
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
