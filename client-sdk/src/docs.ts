// Collaborative documents: a Yjs provider over the client's Socket.IO connection (`doc:msg`,
// many documents per connection), and one over the hub's raw y-websocket endpoint (`/yjs/{doc}`)
// for those who prefer it. Both speak y-protocols (sync and awareness), resync after every
// reconnect (offline edits included) and never send a viewer's changes.

import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import type { HubClient } from "./client.js";
import { HubError } from "./errors.js";
import type { Role } from "./generated/protocol.js";
import { Emitter, Store } from "./store.js";
import { backoff, type Tokens } from "./token.js";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;

/** The y-protocols conversation of one document over one transport. */
class YjsSession {
  readonly #doc: Y.Doc;
  readonly #awareness: awarenessProtocol.Awareness;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #canWrite: () => boolean;
  readonly #synced: (synced: boolean) => void;
  readonly #onUpdate: (update: Uint8Array, origin: unknown) => void;
  readonly #onAwareness: (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => void;
  #live = false;

  constructor(
    doc: Y.Doc,
    awareness: awarenessProtocol.Awareness,
    send: (bytes: Uint8Array) => void,
    canWrite: () => boolean,
    synced: (synced: boolean) => void,
  ) {
    this.#doc = doc;
    this.#awareness = awareness;
    this.#send = send;
    this.#canWrite = canWrite;
    this.#synced = synced;
    this.#onUpdate = (update, origin) => {
      if (origin === this || !this.#live || !this.#canWrite()) return;
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MESSAGE_SYNC);
      syncProtocol.writeUpdate(e, update);
      this.#send(encoding.toUint8Array(e));
    };
    this.#onAwareness = ({ added, updated, removed }, origin) => {
      if (origin === this || !this.#live) return;
      this.#sendAwareness(added.concat(updated, removed));
    };
    doc.on("update", this.#onUpdate);
    awareness.on("update", this.#onAwareness);
  }

  /** The transport is up: ask for the hub's state and tell ours. */
  start(): void {
    this.#live = true;
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(e, this.#doc);
    this.#send(encoding.toUint8Array(e));
    if (this.#awareness.getLocalState() !== null) this.#sendAwareness([this.#doc.clientID]);
  }

  /** The transport is down: what others showed is stale. */
  stop(): void {
    this.#live = false;
    this.#synced(false);
    const others = [...this.#awareness.getStates().keys()].filter((id) => id !== this.#doc.clientID);
    awarenessProtocol.removeAwarenessStates(this.#awareness, others, this);
  }

  receive(bytes: Uint8Array): void {
    const d = decoding.createDecoder(bytes);
    const type = decoding.readVarUint(d);
    if (type === MESSAGE_SYNC) {
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, MESSAGE_SYNC);
      const kind = syncProtocol.readSyncMessage(d, e, this.#doc, this);
      if (kind === syncProtocol.messageYjsSyncStep2) this.#synced(true);
      // A viewer's answer to the hub's step 1 would carry local changes the hub refuses.
      if (kind === syncProtocol.messageYjsSyncStep1 && !this.#canWrite()) return;
      if (encoding.length(e) > 1) this.#send(encoding.toUint8Array(e));
    } else if (type === MESSAGE_AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(this.#awareness, decoding.readVarUint8Array(d), this);
    } else if (type === MESSAGE_QUERY_AWARENESS) {
      this.#sendAwareness([...this.#awareness.getStates().keys()]);
    }
  }

  destroy(): void {
    if (this.#live && this.#awareness.getLocalState() !== null) {
      awarenessProtocol.removeAwarenessStates(this.#awareness, [this.#doc.clientID], "local");
    }
    this.#live = false;
    this.#doc.off("update", this.#onUpdate);
    this.#awareness.off("update", this.#onAwareness);
  }

  #sendAwareness(clients: number[]): void {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.#awareness, clients));
    this.#send(encoding.toUint8Array(e));
  }
}

export type DocEvents = {
  /** The document is in step with the hub (after each (re)connect). */
  synced: [];
  /** The hub stopped serving it to this connection (deleted, access removed). */
  removed: [reason: string];
  /** A message of ours was refused. */
  error: [error: HubError];
};

export interface OpenOptions {
  /** The Yjs document to bind (a new one by default). */
  doc?: Y.Doc;
  /** The awareness to share (a new one on `doc` by default). */
  awareness?: awarenessProtocol.Awareness;
}

/** Common state of both providers. */
abstract class Provider extends Emitter<DocEvents> {
  readonly id: string;
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  /** In step with the hub. */
  readonly synced = new Store<boolean>(false);
  /** My role on the document, and whether my changes are sent (a viewer's are not). */
  readonly role = new Store<Role | null>(null);
  readonly canWrite = new Store<boolean>(false);
  protected readonly session: YjsSession;
  /** The awareness was made here (and its renewal timer is stopped by `destroy`). */
  protected readonly ownsAwareness: boolean;
  #syncedOnce: Promise<void>;
  #markSynced!: () => void;

  constructor(id: string, send: (bytes: Uint8Array) => void, options: OpenOptions) {
    super();
    this.id = id;
    this.doc = options.doc ?? new Y.Doc();
    this.ownsAwareness = options.awareness === undefined;
    this.awareness = options.awareness ?? new awarenessProtocol.Awareness(this.doc);
    this.#syncedOnce = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
    this.session = new YjsSession(this.doc, this.awareness, send, () => this.canWrite.get(), (s) => {
      if (s === this.synced.get()) return;
      this.synced.set(s);
      if (s) {
        this.#markSynced();
        this.emit("synced");
      }
    });
  }

  /** Resolves once the document first synced with the hub. */
  whenSynced(): Promise<void> {
    return this.#syncedOnce;
  }
}

/** A document over the client's Socket.IO connection. */
export class DocProvider extends Provider {
  readonly #client: HubClient;
  readonly #forget: () => void;
  #joined = false;
  #closed = false;
  /** What the hub sent between joining us and its ack (its sync step 1 comes first). */
  #early: Uint8Array[] = [];

  constructor(client: HubClient, id: string, options: OpenOptions, forget: () => void) {
    super(
      id,
      (bytes) => {
        if (this.#joined && client.socket.connected) client.socket.emit("doc:msg", id, bytes);
      },
      options,
    );
    this.#client = client;
    this.#forget = forget;
    if (client.socket.connected) this.resume();
  }

  /** Leaves the document; the Yjs document stays as it is. */
  destroy(): void {
    if (this.#closed) return;
    this.#forget();
    this.session.destroy();
    if (this.ownsAwareness) this.awareness.destroy();
    const was = this.#joined;
    this.#closed = true;
    this.#joined = false;
    if (was && this.#client.socket.connected) {
      this.#client.request("doc:leave", { doc: this.id }).catch(() => {});
    }
  }

  /** @internal after each connect */
  resume(): void {
    if (this.#closed) return;
    this.#client.request("doc:join", { doc: this.id }).then(
      (joined) => {
        if (this.#closed) return;
        this.#joined = true;
        this.role.set(joined.role);
        this.canWrite.set(joined.can_write);
        this.session.start();
        const early = this.#early;
        this.#early = [];
        for (const bytes of early) this.session.receive(bytes);
      },
      (err: HubError) => {
        if (err.code === "forbidden" || err.code === "not_found") {
          this.removed(err.message);
        } else {
          this.emit("error", err);
          setTimeout(() => {
            if (!this.#closed && !this.#joined && this.#client.socket.connected) this.resume();
          }, 1000);
        }
      },
    );
  }

  /** @internal after each disconnect */
  suspend(): void {
    this.#joined = false;
    this.#early = [];
    this.session.stop();
  }

  /** @internal */
  message(bytes: Uint8Array): void {
    if (this.#closed) return;
    // Answered once the join's ack said whether we may write.
    if (!this.#joined) this.#early.push(bytes);
    else this.session.receive(bytes);
  }

  /** @internal */
  removed(reason: string): void {
    this.#joined = false;
    this.session.stop();
    this.destroy();
    this.emit("removed", reason);
  }

  /** @internal */
  refused(error: HubError): void {
    this.emit("error", error);
  }
}

/** The documents of a client. */
export class Docs {
  readonly #client: HubClient;
  readonly #open = new Map<string, DocProvider>();

  constructor(client: HubClient) {
    this.#client = client;
    const s = client.socket;
    s.on("doc:msg", (doc, bytes) => this.#open.get(doc)?.message(new Uint8Array(bytes)));
    s.on("doc:removed", (e) => this.#open.get(e.doc)?.removed(e.reason));
    s.on("doc:error", (e) => this.#open.get(e.doc)?.refused(new HubError(e.error)));
  }

  /** Opens a document over this connection (or returns the one already open). */
  open(doc: string, options: OpenOptions = {}): DocProvider {
    let p = this.#open.get(doc);
    if (!p) {
      p = new DocProvider(this.#client, doc, options, () => this.#open.delete(doc));
      this.#open.set(doc, p);
    }
    return p;
  }

  /** Opens a document over its own WebSocket to `/yjs/{doc}` (y-websocket's protocol). */
  websocket(doc: string, options: OpenOptions & { WebSocket?: WebSocketLike } = {}): YjsWebSocketProvider {
    return new YjsWebSocketProvider({
      url: this.#client.url,
      id: doc,
      tokens: this.#client.tokens,
      ...options,
    });
  }

  /** @internal */
  resume(): void {
    for (const p of this.#open.values()) p.resume();
  }

  /** @internal */
  suspend(): void {
    for (const p of this.#open.values()) p.suspend();
  }

  /** @internal */
  closeAll(): void {
    for (const p of [...this.#open.values()]) p.destroy();
  }
}

/** What the `/yjs` provider needs of a WebSocket class (the browser's, or `ws` in Node). */
export type WebSocketLike = new (url: string) => {
  binaryType: string;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
};

export interface YjsWebSocketOptions extends OpenOptions {
  /** The hub's base URL (`http(s)://…`). */
  url: string;
  /** The document's id. */
  id: string;
  tokens: Tokens;
  /** The WebSocket class (default the global one; pass `ws` in Node 20). */
  WebSocket?: WebSocketLike;
  /** First reconnect delay (default 500 ms), doubled up to 10 s. */
  reconnectDelayMs?: number;
}

/** A document over `/yjs/{doc}`, reconnecting with a fresh token. */
export class YjsWebSocketProvider extends Provider {
  readonly #options: YjsWebSocketOptions;
  #ws: InstanceType<WebSocketLike> | undefined;
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: YjsWebSocketOptions) {
    super(
      options.id,
      (bytes) => {
        if (this.#ws?.readyState === 1) this.#ws.send(bytes);
      },
      options,
    );
    this.#options = options;
    // The role is not told on this transport (`role` stays null): assume an editor; the hub
    // refuses (and closes with 4403) a viewer's change.
    this.canWrite.set(true);
    void this.#connect(false);
  }

  destroy(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.session.destroy();
    if (this.ownsAwareness) this.awareness.destroy();
    this.#ws?.close(1000, "bye");
  }

  async #connect(forceToken: boolean): Promise<void> {
    if (this.#closed) return;
    const WS = this.#options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketLike | undefined);
    if (!WS) throw new TypeError("no WebSocket class: pass one (e.g. `ws`) as options.WebSocket");
    let token: string;
    try {
      token = await this.#options.tokens.get(forceToken);
    } catch {
      this.#later(true);
      return;
    }
    const base = this.#options.url.replace(/^http/, "ws").replace(/\/+$/, "");
    const ws = new WS(`${base}/yjs/${encodeURIComponent(this.id)}?token=${encodeURIComponent(token)}`);
    ws.binaryType = "arraybuffer";
    let opened = false;
    this.#ws = ws;
    ws.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.session.start();
    };
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (data instanceof ArrayBuffer) this.session.receive(new Uint8Array(data));
      else if (data instanceof Uint8Array) this.session.receive(data);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      this.session.stop();
      if (this.#closed) return;
      if (ev.code === 4403) {
        this.emit("removed", ev.reason || "not allowed");
        this.#closed = true;
        return;
      }
      // Refused before opening: maybe the token; fetch a new one for the next try.
      this.#later(!opened);
    };
  }

  #later(forceToken: boolean): void {
    const delay = backoff(this.#options.reconnectDelayMs ?? 500, 10_000, this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    this.#timer = setTimeout(() => void this.#connect(forceToken), delay);
  }
}
