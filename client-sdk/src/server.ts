// The server API for Node backends: publish to rooms and users, read presence, disconnect a
// user or revoke their tokens, and send events in, with an API key (`hk_…`) or a `system`
// token. Every call is typed from the generated operation table and throws a `HubError` on
// refusal.

import type {
  Broadcast,
  Disconnected,
  PresenceCounts,
  Publication,
  PublicationPage,
  Published,
  RoomId,
  RoomPresence,
  UserId,
} from "./generated/protocol.js";
import { RestClient, type CallOptions } from "./rest.js";
import { Tokens } from "./token.js";

export interface HubServerOptions {
  /** The hub's base URL, e.g. `http://hub.internal:3000`. */
  url: string;
  /** An API key (`hk_…`) or a `system` account's token. */
  apiKey: string;
  fetch?: typeof fetch;
}

/** The hub's server API, for other backends. */
export class HubServer {
  /** Every REST operation, for what is not wrapped here (events in: `rest.taskAccepted(…)`). */
  readonly rest: RestClient;

  constructor(options: HubServerOptions) {
    this.rest = new RestClient({ url: options.url, tokens: new Tokens(options.apiKey, 0), fetch: options.fetch });
  }

  /** Sends `event` with `data` to every socket in `room`, on every node (`server:event`); with `store`, kept with the room's next `seq`. */
  publish(room: RoomId, event: string, data: unknown, opts: { store?: boolean } & CallOptions = {}): Promise<Publication> {
    const { store, ...call } = opts;
    return this.rest.publishToRoom({ room, body: { event, data, store } }, call);
  }

  /** Sends `event` with `data` to every socket of `user`, on every node. */
  publishToUser(user: UserId, event: string, data: unknown, opts: CallOptions = {}): Promise<Publication> {
    return this.rest.publishToUser({ user_id: user, body: { event, data } }, opts);
  }

  /** Sends one event to many rooms (at most 1,000). */
  broadcast(rooms: RoomId[], event: string, data: unknown, opts: CallOptions = {}): Promise<Published> {
    const body: Broadcast = { rooms, event, data };
    return this.rest.broadcast({ body }, opts);
  }

  /** A room's kept publications after `after`, oldest first. */
  publications(room: RoomId, after = 0, limit?: number, opts: CallOptions = {}): Promise<PublicationPage> {
    return this.rest.listPublications({ room, after, limit }, opts);
  }

  /** Who is in `room`, as its sockets see it, and the counts. */
  presence(room: RoomId, opts: CallOptions = {}): Promise<RoomPresence> {
    return this.rest.getRoomPresence({ room }, opts);
  }

  /** The users and connections of many rooms, in the order asked. */
  counts(rooms: RoomId[], opts: CallOptions = {}): Promise<PresenceCounts> {
    return this.rest.countPresence({ body: { rooms } }, opts);
  }

  /** Closes every connection of `user` on every node; they may connect again. */
  disconnect(user: UserId, reason?: string, opts: CallOptions = {}): Promise<Disconnected> {
    return this.rest.disconnectUser({ user_id: user, body: { reason } }, opts);
  }

  /** Revokes `user`'s tokens issued before now and closes their connections on every node. */
  revoke(user: UserId, reason?: string, opts: CallOptions = {}): Promise<Disconnected> {
    return this.rest.revokeUserTokens({ user_id: user, body: { reason } }, opts);
  }
}
