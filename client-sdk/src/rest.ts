// A REST client for every route of the hub, typed from the generated operation table
// (generated/rest.ts, made from the server's route table): `rest.getVenture({ id })`,
// `rest.createVenture({ body: { name } })`. A failure throws a `HubError` with the status and the
// error code of the hub's JSON error body.

import { HubError } from "./errors.js";
import type { ErrorBody, ErrorCode } from "./generated/protocol.js";
import { REST_OPERATIONS, type RestOperations } from "./generated/rest.js";
import type { Tokens } from "./token.js";

export type { RestOperations } from "./generated/rest.js";
export { REST_OPERATIONS } from "./generated/rest.js";

/** The id of a REST operation (the method's name). */
export type OperationId = keyof RestOperations;
type Args<K extends OperationId> = RestOperations[K]["args"];
type Answer<K extends OperationId> = RestOperations[K]["answer"];

/** Per call options. */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

type Params<K extends OperationId> = Args<K> extends Record<string, never>
  ? [args?: Args<K>, options?: CallOptions]
  : Record<string, never> extends Args<K>
    ? [args?: Args<K>, options?: CallOptions]
    : [args: Args<K>, options?: CallOptions];

/** One method per operation. */
export type RestApi = { [K in OperationId]: (...params: Params<K>) => Promise<Answer<K>> };

export interface RestClientOptions {
  /** The hub's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** Where the bearer token comes from (none for public routes only). */
  tokens?: Tokens;
  fetch?: typeof fetch;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "invalid",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "too_large",
  422: "invalid",
  429: "rate_limited",
  503: "unavailable",
};

export interface RestClient extends RestApi {}

/** The typed REST client. Every operation of `REST_OPERATIONS` is a method. */
export class RestClient {
  readonly #base: string;
  readonly #tokens: Tokens | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: RestClientOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#tokens = options.tokens;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    for (const id of Object.keys(REST_OPERATIONS) as OperationId[]) {
      (this as unknown as Record<string, unknown>)[id] = (args?: object, options?: CallOptions) =>
        this.call(id, (args ?? {}) as Args<typeof id>, options);
    }
  }

  /** Calls an operation by id. */
  async call<K extends OperationId>(id: K, args: Args<K>, options: CallOptions = {}): Promise<Answer<K>> {
    const op = REST_OPERATIONS[id];
    const values = args as Record<string, unknown>;
    let path: string = op.path;
    for (const name of op.params as readonly string[]) {
      const v = values[name];
      if (typeof v !== "string" || v === "") throw new HubError({ code: "invalid", message: `${id}: ${name} is required` });
      path = path.replace(`{${name}}`, encodeURIComponent(v));
    }
    const query = new URLSearchParams();
    for (const name of op.query as readonly string[]) {
      const v = values[name];
      if (v !== undefined && v !== null) query.set(name, String(v));
    }
    const url = this.#base + path + (query.size ? `?${query}` : "");
    const send = async (force: boolean): Promise<Response> => {
      const headers: Record<string, string> = { ...options.headers };
      if (op.access !== "public" && this.#tokens) {
        headers.authorization = `Bearer ${await this.#tokens.get(force)}`;
      }
      let body: BodyInit | undefined;
      const given = values.body;
      if (op.body === "json") {
        headers["content-type"] = "application/json";
        body = JSON.stringify(given ?? {});
      } else if (op.body === "bytes") {
        headers["content-type"] = "application/octet-stream";
        body = given as BodyInit;
      } else if (op.body === "form") {
        body = given as FormData;
      }
      try {
        return await this.#fetch(url, { method: op.method, headers, body, signal: options.signal });
      } catch (err) {
        if ((err as Error).name === "AbortError") throw err;
        throw new HubError({ code: "unavailable", message: `${op.method} ${path}: ${(err as Error).message}` });
      }
    };
    let res = await send(false);
    if (res.status === 401 && this.#tokens?.renewable) {
      // The token may have expired since it was fetched: renew once.
      res = await send(true);
    }
    if (!res.ok) {
      const text = await res.text();
      let detail: ErrorBody["error"] | undefined;
      try {
        detail = (JSON.parse(text) as ErrorBody).error;
      } catch {
        detail = undefined;
      }
      throw new HubError(
        detail ?? { code: STATUS_CODES[res.status] ?? "internal", message: text || res.statusText },
        res.status,
      );
    }
    if (op.answer === "empty" || res.status === 204) return undefined as Answer<K>;
    if (op.answer === "bytes") return (await res.arrayBuffer()) as Answer<K>;
    return (await res.json()) as Answer<K>;
  }
}
