// Rooms: presence, typing and chat of one `venture:{id}` or `team:{id}` room, kept true across
// reconnects. Chat delivers each message exactly once and in `seq` order: a message that
// arrives ahead of a gap waits while the gap is paged in, a duplicate (live and in a page, or
// twice in a cluster) is dropped, and after a reconnect the room is rejoined with `since` and
// paged when `recovered` is false.

import type { HubClient } from "./client.js";
import { HubError } from "./errors.js";
import type {
  Message,
  PresenceEntry,
  Role,
  RoomJoined,
  Thread,
  UserId,
} from "./generated/protocol.js";
import { Emitter, Store } from "./store.js";

/** A message as the application shows it: confirmed, or still on its way (`pending`). */
export interface ChatMessage extends Message {
  /** Sent by me and not yet acknowledged (its `seq` is 0 until then). */
  pending?: boolean;
  /** Refused for good (`invalid`, `forbidden`, ...): `chat.retry(client_id)` or `chat.discard(client_id)`. */
  failed?: HubError;
}

/** `joining` → `joined`; `rejoining` after a drop; `left` by `leave()`; `removed` by the hub (access lost). */
export type RoomState = "joining" | "joined" | "rejoining" | "left" | "removed";

export interface JoinOptions {
  /** Resume from this seq (the last one the application has shown): the missed messages are delivered. */
  since?: number;
  /** How many recent messages to load into `chat.messages` on a fresh join (default 50, 0 for none). */
  history?: number;
}

export interface TypingOptions {
  /** Re-send `typing:start` this often while typing goes on (default 3 s; the hub expires it after 5 s). */
  refreshMs?: number;
  /** Stop after this long without `start()` (default 3 s). */
  idleMs?: number;
}

function newClientId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** The rooms of a client. */
export class Rooms {
  readonly #client: HubClient;
  readonly #rooms = new Map<string, Room>();

  constructor(client: HubClient) {
    this.#client = client;
    const s = client.socket;
    s.on("presence:join", (e) => this.#rooms.get(e.room)?.presenceChanged(e.user));
    s.on("presence:update", (e) => this.#rooms.get(e.room)?.presenceChanged(e.user));
    s.on("presence:leave", (e) => this.#rooms.get(e.room)?.presenceLeft(e.user_id));
    s.on("typing", (e) => this.#rooms.get(e.room)?.typing.seen(e.user_id, e.typing));
    s.on("chat:message", (m) => this.#rooms.get(m.room)?.chat.received(m));
    s.on("chat:updated", (m) => this.#rooms.get(m.room)?.chat.updated(m));
    s.on("room:removed", (e) => {
      const room = this.#rooms.get(e.room);
      if (room) {
        this.#rooms.delete(e.room);
        room.removed(e.reason);
      }
    });
    s.on("room:role", (e) => this.#rooms.get(e.room)?.roleChanged(e.role, e.can_write));
  }

  /** Joins a room (or returns it when already joined) and resolves once the hub accepted. */
  async join(room: string, options: JoinOptions = {}): Promise<Room> {
    let r = this.#rooms.get(room);
    if (!r) {
      r = new Room(this.#client, room, options, () => this.#rooms.delete(room));
      this.#rooms.set(room, r);
    }
    try {
      await r.ready;
    } catch (err) {
      this.#rooms.delete(room);
      throw err;
    }
    return r;
  }

  get(room: string): Room | undefined {
    return this.#rooms.get(room);
  }

  all(): Room[] {
    return [...this.#rooms.values()];
  }

  /** @internal after each connect */
  resume(): void {
    for (const r of this.#rooms.values()) r.rejoin();
  }

  /** @internal after each disconnect */
  suspend(): void {
    for (const r of this.#rooms.values()) r.suspend();
  }

  /** @internal */
  closeAll(): void {
    for (const r of this.#rooms.values()) r.close();
    this.#rooms.clear();
  }
}

export type RoomEvents = {
  /** The hub took the room away (membership removed, room deleted). */
  removed: [reason: string];
};

/** One joined room. */
export class Room extends Emitter<RoomEvents> {
  readonly id: string;
  readonly state = new Store<RoomState>("joining");
  /** My role here, and whether I may write (a viewer may not). */
  readonly role = new Store<Role | null>(null);
  readonly canWrite = new Store<boolean>(false);
  /** Who is here now: one entry per user, whatever their tabs and nodes. */
  readonly presence = new Store<PresenceEntry[]>([]);
  readonly typing: TypingState;
  readonly chat: Chat;
  /** Resolves when the first join was accepted. */
  readonly ready: Promise<void>;
  readonly #client: HubClient;
  readonly #forget: () => void;
  #joined = false;
  #joining = false;

  constructor(client: HubClient, id: string, options: JoinOptions, forget: () => void) {
    super();
    this.#client = client;
    this.id = id;
    this.#forget = forget;
    this.typing = new TypingState(client, this);
    this.chat = new Chat(client, this, options);
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    this.ready = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.ready.catch(() => {});
    this.#join(options.since).then(settle.resolve, settle.reject);
  }

  /** Whether the hub has this socket in the room now. */
  get joined(): boolean {
    return this.#joined;
  }

  /** Leaves the room; its stores keep their last values. */
  async leave(): Promise<void> {
    const was = this.#joined;
    this.close();
    this.state.set("left");
    this.#forget();
    if (was && this.#client.socket.connected) {
      await this.#client.request("room:leave", { room: this.id }).catch(() => {});
    }
  }

  async #join(since: number | undefined): Promise<void> {
    if (!this.#client.socket.connected) {
      // Joined at the next connect (resume).
      await new Promise<void>((resolve, reject) => {
        const off = this.#client.on("connect", () => {
          off();
          offClosed();
          resolve();
        });
        const offClosed = this.state.subscribe((s) => {
          if (s === "left" || s === "removed") {
            off();
            queueMicrotask(() => offClosed());
            reject(new HubError({ code: "unavailable", message: `${this.id}: left before joining` }));
          }
        });
      });
      if (this.#joined) return;
    }
    await this.#doJoin(since);
  }

  async #doJoin(since: number | undefined): Promise<void> {
    if (this.#joining) return;
    this.#joining = true;
    try {
      const joined: RoomJoined = await this.#client.request("room:join", { room: this.id, since });
      this.#joined = true;
      this.role.set(joined.role);
      this.canWrite.set(joined.role !== "viewer");
      this.presence.set(joined.presence);
      this.typing.reset(joined.typing);
      this.state.set("joined");
      await this.chat.joined(joined, since);
    } finally {
      this.#joining = false;
    }
  }

  /** @internal */
  rejoin(): void {
    const s = this.state.get();
    if (s === "left" || s === "removed" || this.#joining) return;
    if (s === "joining" && !this.#joined) return; // the first join waits for `connect` itself
    this.#doJoin(this.chat.lastSeq).catch((err: unknown) => {
      const e = err instanceof HubError ? err : new HubError({ code: "internal", message: String(err) });
      if (e.code === "forbidden" || e.code === "not_found") {
        this.removed(e.message);
        this.#forget();
      } else {
        this.#client.reportError(e);
        // Try again shortly, while connected.
        setTimeout(() => {
          if (this.#client.socket.connected && !this.#joined) this.rejoin();
        }, 1000);
      }
    });
  }

  /** @internal */
  suspend(): void {
    if (this.#joined) this.state.set("rejoining");
    this.#joined = false;
    this.typing.suspend();
  }

  /** @internal */
  close(): void {
    this.#joined = false;
    this.typing.stop();
    this.typing.suspend();
    this.chat.close();
  }

  /** @internal */
  removed(reason: string): void {
    this.close();
    this.state.set("removed");
    this.emit("removed", reason);
  }

  /** @internal */
  roleChanged(role: Role, canWrite: boolean): void {
    this.role.set(role);
    this.canWrite.set(canWrite);
  }

  /** @internal */
  presenceChanged(user: PresenceEntry): void {
    const rest = this.presence.get().filter((p) => p.user_id !== user.user_id);
    this.presence.set([...rest, user]);
  }

  /** @internal */
  presenceLeft(user: UserId): void {
    this.presence.set(this.presence.get().filter((p) => p.user_id !== user));
    this.typing.seen(user, false);
  }
}

/** Who is typing in a room, and my own typing, throttled and refreshed. */
export class TypingState {
  /** The users typing now (me included when I am). */
  readonly users = new Store<UserId[]>([]);
  readonly #client: HubClient;
  readonly #room: Room;
  readonly #refreshMs: number;
  readonly #idleMs: number;
  #typing = false;
  #lastSent = 0;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(client: HubClient, room: Room, options: TypingOptions = {}) {
    this.#client = client;
    this.#room = room;
    this.#refreshMs = options.refreshMs ?? 3000;
    this.#idleMs = options.idleMs ?? 3000;
  }

  /** The users typing now, without me. */
  others(): UserId[] {
    const me = this.#client.userId.get();
    return this.users.get().filter((u) => u !== me);
  }

  /** Call on each keystroke: sends `typing:start` at most every `refreshMs`, stops after `idleMs` idle. */
  start(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.stop(), this.#idleMs);
    const now = Date.now();
    if (this.#typing && now - this.#lastSent < this.#refreshMs) return;
    this.#typing = true;
    this.#lastSent = now;
    if (this.#room.joined) {
      this.#client.request("typing:start", { room: this.#room.id }).catch(() => {});
    }
  }

  /** Stops my typing (also done by `chat.send`). */
  stop(): void {
    clearTimeout(this.#idle);
    if (!this.#typing) return;
    this.#typing = false;
    if (this.#room.joined) {
      this.#client.request("typing:stop", { room: this.#room.id }).catch(() => {});
    }
  }

  /** @internal */
  seen(user: UserId, typing: boolean): void {
    const rest = this.users.get().filter((u) => u !== user);
    this.users.set(typing ? [...rest, user] : rest);
  }

  /** @internal */
  reset(users: UserId[]): void {
    this.users.set([...users]);
  }

  /** @internal: what was seen is stale once disconnected; the rejoin tells again. */
  suspend(): void {
    this.#typing = false;
    this.users.set([]);
  }
}

interface Outgoing {
  client_id: string;
  body: string;
  reply_to?: string;
  created_at: string;
  /** Acknowledged: waits only to be delivered in seq order. */
  acked: boolean;
  failed?: HubError;
  resolve: (m: Message) => void;
  reject: (e: HubError) => void;
}

export type ChatEvents = {
  /** A new message, exactly once per seq and in seq order (mine included, once confirmed). */
  message: [message: Message];
  /** A message changed (edit, delete, reaction). */
  updated: [message: Message];
};

/** The chat of a room. */
export class Chat extends Emitter<ChatEvents> {
  /** Confirmed messages in seq order (the loaded history and what came since), then my pending ones. */
  readonly messages = new Store<ChatMessage[]>([]);
  /** Messages after my read marker, not written by me. */
  readonly unread = new Store<number>(0);
  /** Unread notifications that mention me in this room. */
  readonly mentions = new Store<number>(0);
  /** Whether older messages remain to be paged with `history()`. */
  readonly hasMore = new Store<boolean>(true);
  readonly #client: HubClient;
  readonly #room: Room;
  readonly #history: number;
  /** The highest seq delivered: every seq up to it has been. */
  #lastSeq = 0;
  /** Confirmed messages, sorted by seq (new ones arrive at the end, history pages at the front). */
  #confirmed: Message[] = [];
  #ahead = new Map<number, Message>();
  #outbox: Outgoing[] = [];
  #fill: ReturnType<typeof setTimeout> | undefined;
  #filling = false;
  #flushing = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #offMentions: () => void;

  constructor(client: HubClient, room: Room, options: JoinOptions) {
    super();
    this.#client = client;
    this.#room = room;
    this.#history = options.history ?? 50;
    if (options.since !== undefined) this.#lastSeq = options.since;
    this.#offMentions = client.notifications.items.subscribe((items) => {
      const mine = items.filter(
        (n) => !n.read && n.kind === "mention" && n.data.room === room.id && n.data.seq > 0,
      );
      this.mentions.set(mine.length);
    });
  }

  /** The highest seq delivered (pass it as `since` to resume elsewhere). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Sends a message: shown at once as pending, retried with the same `client_id` until acknowledged. */
  send(body: string, options: { replyTo?: string } = {}): Promise<Message> {
    this.#room.typing.stop();
    return new Promise<Message>((resolve, reject) => {
      this.#outbox.push({
        client_id: newClientId(),
        body,
        reply_to: options.replyTo,
        created_at: new Date().toISOString(),
        acked: false,
        resolve,
        reject,
      });
      this.#publish();
      this.#flush();
    });
  }

  /** Sends again, with the same `client_id`, a message that failed for good. */
  retry(clientId: string): Promise<Message> {
    const item = this.#outbox.find((o) => o.client_id === clientId);
    if (!item?.failed) return Promise.reject(new HubError({ code: "not_found", message: "no such failed message" }));
    return new Promise<Message>((resolve, reject) => {
      item.failed = undefined;
      item.resolve = resolve;
      item.reject = reject;
      this.#publish();
      void this.#flush();
    });
  }

  /** Drops a failed message. */
  discard(clientId: string): void {
    this.#outbox = this.#outbox.filter((o) => !(o.client_id === clientId && o.failed));
    this.#publish();
  }

  async edit(id: string, body: string): Promise<Message> {
    const { message } = await this.#client.request("chat:edit", { room: this.#room.id, id, body });
    this.updated(message);
    return message;
  }

  async delete(id: string): Promise<Message> {
    const { message } = await this.#client.request("chat:delete", { room: this.#room.id, id });
    this.updated(message);
    return message;
  }

  async react(id: string, emoji: string, add = true): Promise<Message> {
    const { message } = await this.#client.request("chat:react", { room: this.#room.id, id, emoji, add });
    this.updated(message);
    return message;
  }

  /** A thread: its root and the replies. */
  async thread(id: string): Promise<Thread> {
    const { root, messages } = await this.#client.request("chat:thread", { room: this.#room.id, id });
    return { root, messages };
  }

  /** Loads older messages into `messages`; resolves to whether more remain. */
  async history(limit = 50): Promise<boolean> {
    const oldest = Math.min(this.#confirmed[0]?.seq ?? Infinity, this.#lastSeq + 1);
    if (oldest <= 1) {
      this.hasMore.set(false);
      return false;
    }
    const page = await this.#client.request("chat:history", { room: this.#room.id, before: oldest, limit });
    for (const m of page.messages) this.#put(m);
    this.hasMore.set(page.has_more);
    this.#publish();
    return page.has_more;
  }

  /** Moves my read marker to `seq` (default: the newest delivered) and marks this room's mentions up to it read. */
  async markRead(seq = this.#lastSeq): Promise<number> {
    const { unread } = await this.#client.request("chat:read", { room: this.#room.id, seq });
    this.unread.set(unread);
    const ids = this.#client.notifications.items
      .get()
      .filter((n) => !n.read && n.kind === "mention" && n.data.room === this.#room.id && n.data.seq <= seq)
      .map((n) => n.id);
    if (ids.length) await this.#client.notifications.markRead(ids);
    return unread;
  }

  /** @internal: the join's answer; `since` is what was asked. */
  async joined(joined: RoomJoined, since: number | undefined): Promise<void> {
    this.unread.set(joined.unread);
    if (since === undefined) {
      // A fresh join: what is new starts after the newest message; recent ones are history.
      this.#lastSeq = Math.max(this.#lastSeq, joined.last_seq);
      if (this.#history > 0 && joined.last_seq > 0) {
        const page = await this.#client.request("chat:history", {
          room: this.#room.id,
          before: joined.last_seq + 1,
          limit: Math.min(this.#history, 100),
        });
        for (const m of page.messages) this.#put(m);
        this.hasMore.set(page.has_more);
      } else {
        this.hasMore.set(joined.last_seq > 0);
      }
      this.#publish();
    } else {
      for (const m of joined.missed ?? []) this.received(m);
      if (joined.recovered === false || joined.last_seq > this.#lastSeq) await this.#fillGap();
    }
    this.#flush();
  }

  /** @internal: a `chat:message`, live or from a page. */
  received(m: Message): void {
    if (m.seq <= this.#lastSeq) {
      this.#settle(m);
      return;
    }
    this.#ahead.set(m.seq, m);
    this.#drain();
    if (this.#ahead.size > 0) {
      // A gap: the missing seq is probably on its way (a cluster reorders); page it if not.
      clearTimeout(this.#fill);
      this.#fill = setTimeout(() => void this.#fillGap(), 300);
    }
  }

  /** @internal */
  updated(m: Message): void {
    if (this.#indexOf(m.seq).found) {
      this.#put(m);
      this.#publish();
      this.emit("updated", m);
    } else if (this.#ahead.has(m.seq)) {
      this.#ahead.set(m.seq, m);
    }
  }

  /** @internal */
  close(): void {
    this.#closed = true;
    this.#offMentions();
    clearTimeout(this.#fill);
    clearTimeout(this.#retry);
    for (const o of this.#outbox) {
      o.reject(new HubError({ code: "unavailable", message: `${this.#room.id}: left the room` }));
    }
    this.#outbox = [];
  }

  #drain(): void {
    let next = this.#ahead.get(this.#lastSeq + 1);
    let changed = false;
    while (next) {
      this.#ahead.delete(next.seq);
      this.#lastSeq = next.seq;
      this.#put(next);
      this.#settle(next);
      if (next.author_id !== this.#client.userId.get()) this.unread.set(this.unread.get() + 1);
      this.emit("message", next);
      changed = true;
      next = this.#ahead.get(this.#lastSeq + 1);
    }
    if (changed) this.#publish();
  }

  /** A confirmed message of mine replaces its pending copy. */
  #settle(m: Message): void {
    if (m.author_id !== this.#client.userId.get()) return;
    const i = this.#outbox.findIndex((o) => o.client_id === m.client_id);
    if (i < 0) return;
    const [item] = this.#outbox.splice(i, 1);
    item.resolve(m);
    this.#publish();
  }

  async #fillGap(): Promise<void> {
    if (this.#filling || this.#closed) return;
    this.#filling = true;
    try {
      for (;;) {
        if (!this.#room.joined) return;
        const before = this.#lastSeq;
        const page = await this.#client.request("chat:history", {
          room: this.#room.id,
          after: this.#lastSeq,
          limit: 100,
        });
        for (const m of page.messages) this.received(m);
        if (!page.has_more || this.#lastSeq === before) break;
      }
    } catch {
      // Retried at the next gap or reconnect.
    } finally {
      this.#filling = false;
    }
  }

  /** Where `seq` is (or would go) in the sorted confirmed messages. */
  #indexOf(seq: number): { at: number; found: boolean } {
    const list = this.#confirmed;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return { at: lo, found: list[lo]?.seq === seq };
  }

  /** Adds or replaces a confirmed message, keeping seq order. */
  #put(m: Message): void {
    const list = this.#confirmed;
    if (list.length === 0 || list[list.length - 1].seq < m.seq) {
      list.push(m);
      return;
    }
    const { at, found } = this.#indexOf(m.seq);
    list.splice(at, found ? 1 : 0, m);
  }

  #publish(): void {
    const confirmed = this.#confirmed;
    const me = this.#client.userId.get() ?? "";
    const pending: ChatMessage[] = this.#outbox.map((o): ChatMessage => ({
      id: "",
      room: this.#room.id,
      seq: 0,
      author_id: me,
      client_id: o.client_id,
      body: o.body,
      reply_to: o.reply_to ?? null,
      created_at: o.created_at,
      edited_at: null,
      deleted: false,
      reactions: {},
      pending: !o.failed,
      failed: o.failed,
    }));
    this.messages.set([...confirmed, ...pending]);
  }

  /** Sends the outbox in order, one at a time, while joined. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (;;) {
        const item = this.#outbox.find((o) => !o.failed && !o.acked);
        if (!item || !this.#room.joined || this.#closed) return;
        try {
          const { message } = await this.#client.request("chat:send", {
            room: this.#room.id,
            client_id: item.client_id,
            body: item.body,
            reply_to: item.reply_to,
          });
          item.acked = true;
          // Delivered (and the pending copy replaced) in seq order.
          this.received(message);
        } catch (err) {
          const e = err instanceof HubError ? err : new HubError({ code: "internal", message: String(err) });
          if (e.retryable) {
            // Lost or refused for now: the same client_id again, later (the hub returns the
            // original if the first one did land).
            clearTimeout(this.#retry);
            this.#retry = setTimeout(() => void this.#flush(), e.code === "rate_limited" ? 1000 : 500);
            return;
          }
          item.failed = e;
          item.reject(e);
          this.#publish();
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
