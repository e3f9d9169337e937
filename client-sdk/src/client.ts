// HubClient: one Socket.IO connection to the hub that stays up. It fetches a fresh token for
// each handshake (through `getToken`), reconnects after every kind of drop, the server's own
// disconnects included (a slow-consumer eviction arrives as `io server disconnect`, which
// socket.io-client does not retry by itself), and on each reconnect rejoins every room with
// `since` and every document, and re-sends what was not acknowledged.

import { io, type Socket } from "socket.io-client";
import { Docs } from "./docs.js";
import { HubError } from "./errors.js";
import type { PresenceStatus, SessionClosed, SessionReconnect } from "./generated/protocol.js";
import type { ClientToServer, ServerToClient } from "./index.js";
import { ActivityFeed, Notifications } from "./notifications.js";
import { RestClient } from "./rest.js";
import { Rooms } from "./room.js";
import { Emitter, Store } from "./store.js";
import { Tokens, backoff, tokenClaims, type TokenSource } from "./token.js";

/** The socket, with every event and ack typed. */
export type HubSocket = Socket<ServerToClient, ClientToServer>;

/**
 * - `connecting`: the first connection is being made;
 * - `connected`: up (rooms and documents are being rejoined right after each connect);
 * - `reconnecting`: the connection dropped and is being remade;
 * - `unauthorized`: the hub refused the token and there is no `getToken` to get another;
 * - `closed`: `close()` was called.
 */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "unauthorized" | "closed";

export interface HubClientOptions {
  /** The hub's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** A fixed token. */
  token?: string;
  /** Fetches a token; called for each handshake when the current one nears its expiry or was refused. */
  getToken?: () => string | Promise<string>;
  /** Renew a token this long before its `exp` (default 60 s). */
  refreshBeforeMs?: number;
  /** First reconnect delay after a refusal or a server disconnect (default 500 ms), doubled up to `reconnectDelayMaxMs`. */
  reconnectDelayMs?: number;
  /** Longest reconnect delay (default 10 s). */
  reconnectDelayMaxMs?: number;
  /** How long an ack may take before the request counts as lost and is retried (default 10 s). */
  ackTimeoutMs?: number;
  /** Socket.IO transports, in order (default websocket, then polling). */
  transports?: ("websocket" | "polling")[];
  /** The fetch of the REST client (default the global one). */
  fetch?: typeof fetch;
  /** Connect in the constructor (default true). */
  autoConnect?: boolean;
}

/** Events of the client. */
export type HubClientEvents = {
  /** Each (re)connection, once the handshake succeeded. */
  connect: [];
  /** The connection dropped (`reason` from socket.io-client) and will be remade unless closed. */
  disconnect: [reason: string];
  /** A failure worth telling the application (a refused token, a failed rejoin). */
  error: [error: HubError];
  /** The hub closed this session through its server API (`disconnected`, or `revoked`: the next handshake asks `getToken` for a fresh token). */
  sessionClosed: [closed: SessionClosed];
  /** The node holding this connection is going away (it drains before a restart): the server disconnect follows, and the client connects again after `after_ms` (the load balancer picks another node), resuming every room. */
  draining: [hint: SessionReconnect];
};

/** The user id (`sub`) of a JWT, when it is one. */
function subject(token: string): string | undefined {
  const sub = tokenClaims(token)?.sub;
  return typeof sub === "string" ? sub : undefined;
}

export class HubClient extends Emitter<HubClientEvents> {
  readonly socket: HubSocket;
  readonly rest: RestClient;
  readonly rooms: Rooms;
  readonly docs: Docs;
  readonly notifications: Notifications;
  readonly state = new Store<ConnectionState>("connecting");
  /** The signed-in user's id, from the token (known after the first token was fetched). */
  readonly userId = new Store<string | undefined>(undefined);
  readonly url: string;
  readonly ackTimeoutMs: number;
  readonly tokens: Tokens;
  #forceToken = false;
  #attempt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  readonly #delay: number;
  /** The reconnect hint of a draining node, until its disconnect comes. */
  #hint: SessionReconnect | undefined;
  readonly #delayMax: number;
  #feeds = new Map<string, ActivityFeed>();
  #status: { status: PresenceStatus; meta?: unknown } | undefined;

  constructor(options: HubClientOptions) {
    super();
    const source: TokenSource | undefined = options.getToken ?? options.token;
    if (source === undefined) throw new TypeError("HubClient needs a token or a getToken");
    this.url = options.url.replace(/\/+$/, "");
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.#delay = options.reconnectDelayMs ?? 500;
    this.#delayMax = options.reconnectDelayMaxMs ?? 10_000;
    this.tokens = new Tokens(source, options.refreshBeforeMs ?? 60_000);
    this.rest = new RestClient({ url: this.url, tokens: this.tokens, fetch: options.fetch });
    this.socket = io(this.url, {
      autoConnect: false,
      transports: options.transports ?? ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: this.#delay,
      reconnectionDelayMax: this.#delayMax,
      auth: (cb) => {
        const force = this.#forceToken;
        this.#forceToken = false;
        this.tokens.get(force).then(
          (token) => {
            this.userId.set(subject(token) ?? this.userId.get());
            cb({ token });
          },
          (err: unknown) => {
            this.emit("error", new HubError({ code: "unauthorized", message: `getToken failed: ${String(err)}` }));
            cb({});
          },
        );
      },
    }) as HubSocket;
    this.rooms = new Rooms(this);
    this.docs = new Docs(this);
    this.notifications = new Notifications(this);
    this.socket.on("connect", () => {
      this.#attempt = 0;
      this.state.set("connected");
      this.rooms.resume();
      this.docs.resume();
      if (this.#status) this.request("presence:set", this.#status).catch(() => {});
      this.notifications.resync();
      for (const feed of this.#feeds.values()) feed.resync();
      this.emit("connect");
    });
    this.socket.on("session:reconnect", (hint) => {
      this.#hint = hint;
      this.emit("draining", hint);
    });
    this.socket.on("session:closed", (closed) => {
      // After a revocation only a token issued later is accepted.
      if (closed.code === "revoked") this.#forceToken = true;
      this.emit("sessionClosed", closed);
    });
    this.socket.on("disconnect", (reason) => {
      if (this.state.get() === "closed") return;
      this.state.set("reconnecting");
      this.rooms.suspend();
      this.docs.suspend();
      this.emit("disconnect", reason);
      // The server ended the session (an eviction, a draining node's hand-back): socket.io-client
      // waits for us to reconnect. A draining node said when: its clients come back spread out.
      if (reason === "io server disconnect") {
        const hint = this.#hint;
        this.#hint = undefined;
        if (hint) this.#reconnectAfter(hint.after_ms);
        else this.#reconnectLater();
      }
    });
    this.socket.on("connect_error", (err) => {
      if (this.state.get() === "closed") return;
      // While `active`, socket.io-client retries by itself (a network failure); otherwise the
      // hub refused the handshake.
      if (this.socket.active) return;
      if (err.message.startsWith("rate_limited")) {
        // Too many connections for this user or address, or opened too fast: said once per
        // refusal, and retried with backoff.
        this.emit("error", new HubError({ code: "rate_limited", message: err.message }));
      }
      if (err.message.startsWith("unauthorized")) {
        if (!this.tokens.renewable) {
          this.state.set("unauthorized");
          this.emit("error", new HubError({ code: "unauthorized", message: err.message }));
          return;
        }
        this.#forceToken = true;
      }
      this.#reconnectLater();
    });
    if (options.autoConnect ?? true) this.connect();
  }

  /** Opens the connection (done by the constructor unless `autoConnect: false`). */
  connect(): void {
    if (this.state.get() === "closed") this.state.set("connecting");
    this.socket.connect();
  }

  /** Closes the connection for good; pending sends are rejected. */
  close(): void {
    this.state.set("closed");
    clearTimeout(this.#retry);
    this.docs.closeAll();
    this.rooms.closeAll();
    this.socket.disconnect();
  }

  /** Sets my status (and its meta, at most 1 KiB of JSON) in every room; kept across reconnects. */
  async setPresence(status: PresenceStatus, meta?: unknown): Promise<void> {
    this.#status = { status, meta };
    if (this.socket.connected) await this.request("presence:set", { status, meta });
  }

  /** The activity feed of a venture: its entries, newest first, live while its room is joined. */
  activity(ventureId: string): ActivityFeed {
    let feed = this.#feeds.get(ventureId);
    if (!feed) {
      feed = new ActivityFeed(this, ventureId);
      this.#feeds.set(ventureId, feed);
    }
    return feed;
  }

  /** @internal: a failure the application should hear of. */
  reportError(error: HubError): void {
    this.emit("error", error);
  }

  /** Reconnects after `ms`, as a draining node asked; backoff starts over from there. */
  #reconnectAfter(ms: number): void {
    clearTimeout(this.#retry);
    this.#attempt = 0;
    this.#retry = setTimeout(() => {
      if (this.state.get() !== "closed" && !this.socket.connected) this.socket.connect();
    }, Math.max(0, ms));
  }

  #reconnectLater(): void {
    clearTimeout(this.#retry);
    const delay = backoff(this.#delay, this.#delayMax, this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    this.#retry = setTimeout(() => {
      if (this.state.get() !== "closed" && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  /** Emits with an ack and a timeout; a timeout or a lost connection is an `unavailable` error. */
  async request<E extends keyof ClientToServer>(
    event: E,
    ...args: Parameters<ClientToServer[E]> extends [...infer A, unknown] ? A : never
  ): Promise<AckOf<E>> {
    // Never buffered for a later connection: what is sent before the rooms are rejoined
    // would be refused.
    if (!this.socket.connected) {
      throw new HubError({ code: "unavailable", message: `${String(event)}: not connected` });
    }
    let answer: unknown;
    let offDrop: (() => void) | undefined;
    try {
      // Typed per event through ClientToServer; the ack's shape is `Ack<T>`.
      const asked = (this.socket.timeout(this.ackTimeoutMs) as unknown as {
        emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
      }).emitWithAck(event as string, ...(args as unknown[]));
      // A dropped connection loses the ack: fail now rather than at the timeout.
      const dropped = new Promise<never>((_, reject) => {
        const onDrop = () => reject(new Error("disconnected"));
        this.socket.once("disconnect", onDrop);
        offDrop = () => this.socket.off("disconnect", onDrop);
      });
      answer = await Promise.race([asked, dropped]);
    } catch (err) {
      const why = (err as Error).message === "disconnected" ? "the connection dropped" : `no answer in ${this.ackTimeoutMs} ms`;
      throw new HubError({ code: "unavailable", message: `${String(event)}: ${why}` });
    } finally {
      offDrop?.();
    }
    const ack = answer as { ok: boolean; error?: { code: never; message: string } };
    if (!ack.ok) throw new HubError(ack.error ?? { code: "internal", message: "malformed ack" });
    return ack as AckOf<E>;
  }
}

/** The successful ack of an event. */
export type AckOf<E extends keyof ClientToServer> = ClientToServer[E] extends (
  ...args: [...infer _A, infer R]
) => void
  ? R extends ((ack: infer K) => void) | undefined
    ? Extract<K, { ok: true }>
    : never
  : never;
