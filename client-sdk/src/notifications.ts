// Notifications and activity as stores: loaded over REST, kept live by the socket's
// `notification` and `activity` events, and reloaded after each reconnect so nothing sent
// while offline is missed.

import type { HubClient } from "./client.js";
import type { Activity, Notification } from "./generated/protocol.js";
import { Store } from "./store.js";

/** My notifications, newest first. */
export class Notifications {
  readonly items = new Store<Notification[]>([]);
  readonly unread = new Store<number>(0);
  readonly #client: HubClient;
  #loaded = false;

  constructor(client: HubClient) {
    this.#client = client;
    client.socket.on("notification", (n) => {
      if (this.items.get().some((m) => m.id === n.id)) return;
      this.items.set([n, ...this.items.get()]);
      if (!n.read) this.unread.set(this.unread.get() + 1);
    });
  }

  /** Loads the newest `limit` notifications (and keeps them live). */
  async load(limit = 50): Promise<Notification[]> {
    const page = await this.#client.rest.listNotifications({ limit });
    this.#loaded = true;
    const fresh = new Map(page.notifications.map((n) => [n.id, n]));
    // Live ones newer than the page stay.
    const kept = this.items.get().filter((n) => !fresh.has(n.id) && n.id > (page.notifications[0]?.id ?? ""));
    this.items.set([...kept, ...page.notifications]);
    this.unread.set(page.unread_count);
    return this.items.get();
  }

  async markRead(ids: string[]): Promise<void> {
    const { unread_count } = await this.#client.rest.markNotificationsRead({ body: { ids } });
    const set = new Set(ids);
    this.items.set(this.items.get().map((n) => (set.has(n.id) ? { ...n, read: true } : n)));
    this.unread.set(unread_count);
  }

  async markAllRead(): Promise<void> {
    const { unread_count } = await this.#client.rest.markNotificationsRead({ body: { all: true } });
    this.items.set(this.items.get().map((n) => ({ ...n, read: true })));
    this.unread.set(unread_count);
  }

  /** @internal after each connect: what came while offline. */
  resync(): void {
    if (this.#loaded) this.load().catch((e) => this.#client.reportError(e));
  }
}

/** A venture's activity feed, newest first; live while the venture's room is joined. */
export class ActivityFeed {
  readonly items = new Store<Activity[]>([]);
  readonly hasMore = new Store<boolean>(true);
  readonly ventureId: string;
  readonly #client: HubClient;
  #loaded = false;

  constructor(client: HubClient, ventureId: string) {
    this.#client = client;
    this.ventureId = ventureId;
    client.socket.on("activity", (a) => {
      if (a.venture_id === ventureId) this.#merge([a]);
    });
  }

  /** Loads the newest entries. */
  async load(limit = 50): Promise<Activity[]> {
    const page = await this.#client.rest.getVentureActivity({ id: this.ventureId, limit });
    this.#loaded = true;
    this.#merge(page.activities);
    if (this.items.get().length <= page.activities.length) this.hasMore.set(page.has_more);
    return this.items.get();
  }

  /** Loads older entries; resolves to whether more remain. */
  async more(limit = 50): Promise<boolean> {
    const oldest = this.items.get().at(-1)?.id;
    const page = await this.#client.rest.getVentureActivity({ id: this.ventureId, limit, before: oldest });
    this.#merge(page.activities);
    this.hasMore.set(page.has_more);
    return page.has_more;
  }

  /** @internal */
  resync(): void {
    if (this.#loaded) this.load().catch((e) => this.#client.reportError(e));
  }

  /** Adds entries once each, newest first (ids are UUID v7: they order by time). */
  #merge(entries: Activity[]): void {
    const byId = new Map([...this.items.get(), ...entries].map((a) => [a.id, a]));
    this.items.set([...byId.values()].sort((x, y) => (x.id < y.id ? 1 : -1)));
  }
}
