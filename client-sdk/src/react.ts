// React hooks over the SDK's stores (`@hub/client-sdk/react`; React is a peer dependency).
//
// One `HubClient` is given to a subtree by `<HubProvider client={…}>`; each hook reads what the
// SDK already keeps as stores (presence, typing, messages, notifications, activity) through
// `useSyncExternalStore`, so a component renders again exactly when its store changes, and adds
// what the SDK fetches on demand (wallet, profile, leaderboard), kept live by the hub's pushes
// (`wallet:updated`, `leaderboard`). Every hook answers `loading` and `error` beside its value.
//
// Rooms and documents are shared: two components using the same room join it once, and the
// room is left when the last of them unmounts.

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
  type ReactElement,
  type ReactNode,
} from "react";
import type { HubClient } from "./client.js";
import type { DocProvider, OpenOptions } from "./docs.js";
import { HubError } from "./errors.js";
import type {
  Activity,
  Leaderboard,
  Notification,
  PresenceEntry,
  Profile,
  UserId,
  Wallet,
  WalletUpdated,
} from "./generated/protocol.js";
import type { ChatMessage, JoinOptions, Room } from "./room.js";
import type { Readable } from "./store.js";

const HubContext = createContext<HubClient | null>(null);

/** Gives `client` to every hook below it. */
export function HubProvider(props: { client: HubClient; children?: ReactNode }): ReactElement {
  return createElement(HubContext.Provider, { value: props.client }, props.children);
}

/** The client of the nearest `HubProvider`. */
export function useHub(): HubClient {
  const client = useContext(HubContext);
  if (!client) throw new Error("useHub: no <HubProvider> above this component");
  return client;
}

// What a hook reads before its room or document is there: an empty list that never changes
// (one array, so that React sees the same snapshot every time).
const nothing: never[] = [];
const never: Readable<never[]> = {
  get: () => nothing,
  subscribe: (run) => {
    run(nothing);
    return () => {};
  },
};

/** A store's current value; the component renders again when it changes. */
export function useReadable<T>(store: Readable<T>): T {
  const subscribe = useCallback((changed: () => void) => store.subscribe(() => changed()), [store]);
  const get = useCallback(() => store.get(), [store]);
  return useSyncExternalStore(subscribe, get, get);
}

/** What a hook answers beside its value. */
export interface Status {
  loading: boolean;
  error: HubError | null;
}

function asHubError(e: unknown): HubError {
  return e instanceof HubError ? e : new HubError({ code: "internal", message: String(e) });
}

// Rooms and documents shared by the components that use them, left with the last one.
const held = new WeakMap<HubClient, Map<string, number>>();

function hold(client: HubClient, key: string): () => boolean {
  let counts = held.get(client);
  if (!counts) {
    counts = new Map();
    held.set(client, counts);
  }
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return () => {
    const n = (counts.get(key) ?? 1) - 1;
    if (n > 0) {
      counts.set(key, n);
      return false;
    }
    counts.delete(key);
    return true;
  };
}

/** Joins `room` while the component is mounted (`null`: none). */
export function useRoom(room: string | null, options: JoinOptions = {}): Status & { room: Room | null } {
  const client = useHub();
  const [state, setState] = useState<Status & { room: Room | null }>({
    room: null,
    loading: room !== null,
    error: null,
  });
  useEffect(() => {
    if (room === null) {
      setState({ room: null, loading: false, error: null });
      return;
    }
    let live = true;
    const release = hold(client, `room:${room}`);
    setState({ room: client.rooms.get(room) ?? null, loading: true, error: null });
    client.rooms.join(room, options).then(
      (r) => live && setState({ room: r, loading: false, error: null }),
      (e) => live && setState({ room: null, loading: false, error: asHubError(e) }),
    );
    return () => {
      live = false;
      if (release()) client.rooms.get(room)?.leave().catch((e) => client.reportError(asHubError(e)));
    };
    // The options are read when the room is joined.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, room]);
  return state;
}

/** The room's chat: its messages (history, live ones, then mine pending) and `send`. */
export function useChat(room: string | null, options: JoinOptions = {}) {
  const joined = useRoom(room, options);
  const chat = joined.room?.chat;
  const messages = useReadable<ChatMessage[]>(chat?.messages ?? never);
  const hasMore = useReadable<boolean | never[]>(chat?.hasMore ?? never);
  const send = useCallback(
    (body: string, opts: { replyTo?: string } = {}) => {
      if (!chat) return Promise.reject(new HubError({ code: "not_found", message: "the room is not joined yet" }));
      return chat.send(body, opts);
    },
    [chat],
  );
  const more = useCallback((limit = 50) => chat?.history(limit) ?? Promise.resolve(false), [chat]);
  return { ...joined, messages, hasMore: hasMore === true, send, more };
}

/** Who is in the room: one entry per user, across their tabs and the hub's nodes. */
export function usePresence(room: string | null): Status & { users: PresenceEntry[] } {
  const joined = useRoom(room);
  const users = useReadable<PresenceEntry[]>(joined.room?.presence ?? never);
  return { loading: joined.loading, error: joined.error, users };
}

/** Who else types in the room, and `start`/`stop` for me (throttled by the SDK). */
export function useTyping(room: string | null) {
  const client = useHub();
  const joined = useRoom(room);
  const typing = joined.room?.typing;
  const everyone = useReadable<UserId[]>(typing?.users ?? never);
  const me = useReadable<string | undefined>(client.userId);
  const users = useMemo(() => everyone.filter((u) => u !== me), [everyone, me]);
  const start = useCallback(() => typing?.start(), [typing]);
  const stop = useCallback(() => typing?.stop(), [typing]);
  return { loading: joined.loading, error: joined.error, users, start, stop };
}

/** A Yjs document bound to the hub while the component is mounted. */
export function useDoc(docId: string | null, options: OpenOptions = {}) {
  const client = useHub();
  const [provider, setProvider] = useState<DocProvider | null>(null);
  const [error, setError] = useState<HubError | null>(null);
  useEffect(() => {
    if (docId === null) {
      setProvider(null);
      return;
    }
    const release = hold(client, `doc:${docId}`);
    const p = client.docs.open(docId, options);
    setProvider(p);
    setError(null);
    const off = p.on("error", (e: HubError) => setError(e));
    return () => {
      off();
      if (release()) p.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, docId]);
  const synced = useReadable<boolean | never[]>(provider?.synced ?? never);
  const canWrite = useReadable<boolean | never[]>(provider?.canWrite ?? never);
  return {
    doc: provider?.doc ?? null,
    provider,
    synced: synced === true,
    canWrite: canWrite === true,
    loading: docId !== null && synced !== true && error === null,
    error,
  };
}

// The first load of a client's notifications, shared by every component that asks for the
// same page (the store stays current afterwards with what the hub pushes).
const notesLoaded = new WeakMap<HubClient, Map<number, Promise<unknown>>>();

function loadNotes(client: HubClient, limit: number): Promise<unknown> {
  let loads = notesLoaded.get(client);
  if (!loads) {
    loads = new Map();
    notesLoaded.set(client, loads);
  }
  let load = loads.get(limit);
  if (!load) {
    load = client.notifications.load(limit);
    // A failed load is tried again by the next component that asks.
    load.catch(() => loads.delete(limit));
    loads.set(limit, load);
  }
  return load;
}

/** My notifications (newest first) and the unread count, live; loaded on first use (once for
 * every component of a client that asks for the same page). */
export function useNotifications(limit = 50) {
  const client = useHub();
  const [status, setStatus] = useState<Status>({ loading: true, error: null });
  useEffect(() => {
    let live = true;
    loadNotes(client, limit).then(
      () => live && setStatus({ loading: false, error: null }),
      (e) => live && setStatus({ loading: false, error: asHubError(e) }),
    );
    return () => {
      live = false;
    };
  }, [client, limit]);
  const items = useReadable<Notification[]>(client.notifications.items);
  const unread = useReadable<number>(client.notifications.unread);
  const markRead = useCallback((ids: string[]) => client.notifications.markRead(ids), [client]);
  const markAllRead = useCallback(() => client.notifications.markAllRead(), [client]);
  return { ...status, items, unread, markRead, markAllRead };
}

/** A venture's activity feed (newest first), live while its room is joined. */
export function useActivity(ventureId: string | null) {
  const client = useHub();
  const feed = useMemo(() => (ventureId === null ? null : client.activity(ventureId)), [client, ventureId]);
  const [status, setStatus] = useState<Status>({ loading: ventureId !== null, error: null });
  useEffect(() => {
    if (!feed) return;
    let live = true;
    setStatus({ loading: true, error: null });
    feed.load().then(
      () => live && setStatus({ loading: false, error: null }),
      (e) => live && setStatus({ loading: false, error: asHubError(e) }),
    );
    return () => {
      live = false;
    };
  }, [feed]);
  const items = useReadable<Activity[]>(feed?.items ?? never);
  const hasMore = useReadable<boolean | never[]>(feed?.hasMore ?? never);
  const more = useCallback((limit = 50) => feed?.more(limit) ?? Promise.resolve(false), [feed]);
  return { ...status, items, hasMore: hasMore === true, more };
}

/** A value fetched over REST, fetched again on `reload`, and replaced by what `follow` hears. */
function useFetched<T>(
  key: unknown[],
  fetch: () => Promise<T>,
  follow?: (set: (f: (value: T | null) => T | null) => void) => () => void,
): Status & { value: T | null; reload: () => void } {
  const [value, setValue] = useState<T | null>(null);
  const [status, setStatus] = useState<Status>({ loading: true, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setStatus((s) => ({ loading: true, error: s.error }));
    fetch().then(
      (v) => {
        if (!live) return;
        setValue(v);
        setStatus({ loading: false, error: null });
      },
      (e) => live && setStatus({ loading: false, error: asHubError(e) }),
    );
    const stop = follow?.((f) => live && setValue(f));
    return () => {
      live = false;
      stop?.();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...status, value, reload };
}

/** My wallet; its balance and pending lock move live on `wallet:updated`. */
export function useWallet(): Status & { wallet: Wallet | null; reload: () => void } {
  const client = useHub();
  const { value, ...rest } = useFetched<Wallet>(
    [client],
    () => client.rest.getMyWallet({}),
    (set) => {
      const handler = (u: WalletUpdated) =>
        set((w) => (w ? { ...w, buz_balance: u.buz_balance, pending_lock: u.pending_lock, available: u.available } : w));
      client.socket.on("wallet:updated", handler);
      return () => {
        client.socket.off("wallet:updated", handler);
      };
    },
  );
  return { ...rest, wallet: value };
}

/** A profile (mine without `userId`): level, XP, reputation, badges. `reload` after a change. */
export function useProfile(userId?: string): Status & { profile: Profile | null; reload: () => void } {
  const client = useHub();
  const { value, ...rest } = useFetched<Profile>(
    [client, userId],
    () => (userId === undefined ? client.rest.getMyProfile({}) : client.rest.getProfile({ user_id: userId })),
  );
  return { ...rest, profile: value };
}

/** A venture's leaderboard by XP or reputation, replaced live by the room's `leaderboard` pushes
 * (while the venture's room is joined, e.g. with `useRoom`). */
export function useLeaderboard(
  ventureId: string | null,
  by: "xp" | "reputation" = "xp",
  limit = 50,
): Status & { board: Leaderboard | null; reload: () => void } {
  const client = useHub();
  const { value, ...rest } = useFetched<Leaderboard | null>(
    [client, ventureId, by, limit],
    () => (ventureId === null ? Promise.resolve(null) : client.rest.getLeaderboard({ id: ventureId, by, limit })),
    (set) => {
      const handler = (b: Leaderboard) => {
        if (b.venture_id === ventureId && b.by === by) set(() => b);
      };
      client.socket.on("leaderboard", handler);
      return () => {
        client.socket.off("leaderboard", handler);
      };
    },
  );
  return { ...rest, board: value };
}
