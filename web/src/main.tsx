// The hub's demo, on the SDK's React hooks: sign in as a development user, see your ventures and
// invitations, and in the venture you open its room (presence, typing, chat with times), its
// shared document as rich text (Quill bound to Yjs), its activity, its leaderboard and the files
// you keep in it; beside that your notifications, your wallet, level, XP and badges, all live.
// A development button posts a sample task for yourself, so BUZ, XP and a badge arrive as they
// would from the platform. The user is kept per tab (sessionStorage), so two tabs can be two
// users; `?user=bob` picks one directly. Below 1,200 px the panels become tabs.

import "quill/dist/quill.snow.css";
import "./app.css";

import {
  type DevTokenIssued,
  type DocInfo,
  type FileDoc,
  HubClient,
  HubError,
  type Invitation,
  type Notification,
  RestClient,
  type Venture,
} from "@hub/client-sdk";
import {
  HubProvider,
  useActivity,
  useChat,
  useDoc,
  useHub,
  useLeaderboard,
  useNotifications,
  usePresence,
  useProfile,
  useReadable,
  useTyping,
  useWallet,
} from "@hub/client-sdk/react";
import Quill from "quill";
import QuillCursors from "quill-cursors";
import { type FormEvent, type ReactNode, StrictMode, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { QuillBinding } from "y-quill";

Quill.register("modules/cursors", QuillCursors);

/** The Y.Text every client of a venture's document edits (rich text: Quill's deltas). */
export const DOC_FIELD = "body";

const url = location.origin;
const anonymous = new RestClient({ url });
const SUGGESTED = ["ann", "bob", "carol", "dave"];
// Dark enough for text on the page's light backgrounds (4.5:1 or more).
const COLORS = ["#3451c4", "#b3400a", "#1f6f2f", "#86289b", "#0a6370", "#7d5200"];
const title = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);
const colorOf = (id: string) => COLORS[[...id].reduce((a, c) => a + c.charCodeAt(0), 0) % COLORS.length];
const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const dateTimeOf = (iso: string) =>
  new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const errorText = (e: unknown) => (e instanceof HubError ? e.message : String(e));

function describe(n: Notification): string {
  switch (n.kind) {
    case "mention":
      return `${n.data.author_name} mentioned you: “${n.data.excerpt}”`;
    case "member_invited":
      return `${n.data.invited_by} invited you to ${n.data.venture_name} as ${n.data.role}`;
    case "member_added":
      return `You joined a venture (invited by ${n.data.by})`;
    case "member_removed":
      return `You were removed from a venture by ${n.data.by}`;
    case "badge_awarded":
      return `Badge earned: ${n.data.name}`;
    case "level_up":
      return `Level ${n.data.level} reached`;
    case "endorsed":
      return `${n.data.endorser_id} endorsed your ${n.data.skill}`;
    case "buz_credited":
      return `${n.data.credited} BUZ credited`;
    case "document_shared":
      return `${n.data.by} shared “${n.data.title}” with you`;
    default:
      return n.kind.replace(/_/g, " ");
  }
}

function describeActivity(verb: string, actor: string | null, data: Record<string, unknown>): string {
  const who = actor ? title(actor) : "The hub";
  const str = (k: string) => (typeof data[k] === "string" || typeof data[k] === "number" ? String(data[k]) : "");
  switch (verb) {
    case "member.joined":
      return `${who} joined${str("role") ? ` as ${str("role")}` : ""}`;
    case "member.left":
      return `${who} left`;
    case "member.role_changed":
      return `${who} is now ${str("role")}`;
    case "team.created":
      return `${who} created the team ${str("name")}`;
    case "document.created":
      return `${who} created “${str("title")}”`;
    case "task.accepted":
      return `${who} had a task accepted${str("tier") ? ` (tier ${str("tier")})` : ""}`;
    case "buz.credited":
      return `${who} was credited ${str("amount")} BUZ${Number(data.withheld) > 0 ? ` (${str("withheld")} withheld)` : ""}`;
    case "badge.awarded":
      return `${who} earned the badge ${str("name")}`;
    case "level.up":
      return `${who} reached level ${str("level")}`;
    case "document.uploaded":
      return `${who} uploaded “${str("title")}”`;
    default:
      return `${who}: ${verb}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Signing in.

interface Session {
  client: HubClient;
  user: string;
  name: string;
  /** The venture to open first (the URL's `?venture=`, else the demo venture). */
  venture?: string;
  /** The demo venture's document. */
  demoDoc?: string;
  /** The latest token, for the uploads (XMLHttpRequest reports progress, fetch does not). */
  token: { current: string };
}

async function signIn(user: string): Promise<Session> {
  const name = title(user);
  let first: DevTokenIssued | undefined = await anonymous.devToken({ body: { user_id: user, name } });
  const token = { current: first.token };
  const issued = first;
  const client = new HubClient({
    url,
    // The first token, then a fresh one for each reconnect that needs it.
    getToken: async () => {
      if (first) {
        const t = first.token;
        first = undefined;
        return t;
      }
      token.current = (await anonymous.devToken({ body: { user_id: user, name } })).token;
      return token.current;
    },
  });
  sessionStorage.setItem("hub-demo-user", user);
  const venture = new URLSearchParams(location.search).get("venture") ?? issued.venture_id;
  return { client, user, name, venture, demoDoc: issued.doc_id, token };
}

function Login(props: { onSignedIn: (s: Session) => void; error?: string }) {
  const [error, setError] = useState(props.error);
  const [other, setOther] = useState("");
  const go = (user: string) =>
    signIn(user).then(props.onSignedIn, (e) =>
      setError(
        e instanceof HubError && e.status === 404
          ? "This hub does not sign in development users: start it with HUB_ENV=development (the default) to use the demo."
          : errorText(e),
      ),
    );
  return (
    <main className="login">
      <h1>hub demo</h1>
      <p className="muted">Pick a development user. Open a second tab as someone else to collaborate.</p>
      {error && (
        <p className="bad" role="alert">
          {error}
        </p>
      )}
      <div className="users">
        {SUGGESTED.map((u) => (
          <button key={u} type="button" data-testid={`pick-${u}`} onClick={() => void go(u)}>
            {title(u)}
          </button>
        ))}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (other.trim()) void go(other.trim());
        }}
      >
        <label htmlFor="user-input">User id</label>
        <input id="user-input" data-testid="user-input" placeholder="another user id" value={other} onChange={(e) => setOther(e.target.value)} />
        <button className="primary" type="submit">
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string>();
  const [booting, setBooting] = useState(true);
  useEffect(() => {
    const wanted = new URLSearchParams(location.search).get("user") ?? sessionStorage.getItem("hub-demo-user");
    if (!wanted) {
      setBooting(false);
      return;
    }
    signIn(wanted).then(
      (s) => {
        setSession(s);
        setBooting(false);
      },
      (e) => {
        setError(errorText(e));
        setBooting(false);
      },
    );
  }, []);
  if (booting) return <p className="muted pad">Loading…</p>;
  if (!session) return <Login onSignedIn={setSession} error={error} />;
  return (
    <HubProvider client={session.client}>
      <Shell
        session={session}
        onSignOut={() => {
          sessionStorage.removeItem("hub-demo-user");
          session.client.close();
          setSession(null);
        }}
      />
    </HubProvider>
  );
}

// ---------------------------------------------------------------------------------------------
// The page.

const TABS = [
  ["people", "Ventures & me"],
  ["chat", "Chat"],
  ["doc", "Document & files"],
  ["activity", "Activity"],
] as const;
type Tab = (typeof TABS)[number][0];

function Shell(props: { session: Session; onSignOut: () => void }) {
  const { session } = props;
  const client = useHub();
  const state = useReadable(client.state);
  const [ventures, setVentures] = useState<Venture[] | null>(null);
  const [venturesError, setVenturesError] = useState<string>();
  const [current, setCurrent] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("chat");
  const loadVentures = useCallback(async () => {
    try {
      const list = (await client.rest.listVentures()).ventures;
      setVentures(list);
      setCurrent((c) => c ?? list.find((v) => v.id === session.venture)?.id ?? list[0]?.id ?? null);
    } catch (e) {
      setVenturesError(errorText(e));
    }
  }, [client, session.venture]);
  useEffect(() => {
    void loadVentures();
  }, [loadVentures]);
  const venture = ventures?.find((v) => v.id === current) ?? null;
  const room = venture ? `venture:${venture.id}` : null;
  // The title says where this tab is; the address names the venture, so a reload comes back.
  useEffect(() => {
    document.title = venture ? `${venture.name} · ${session.name} · hub` : `${session.name} · hub`;
    if (venture) {
      const query = new URLSearchParams({ user: session.user, venture: venture.id });
      history.replaceState(null, "", `?${query}`);
    }
  }, [venture, session.name, session.user]);
  return (
    <div className="shell" data-tab={tab}>
      <header>
        <h1>hub</h1>
        <span data-testid="me">Signed in as {session.name}</span>
        <span className={`pill ${state}`} data-testid="connection" role="status">
          {state}
        </span>
        <span className="spacer" />
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <nav className="tabs" role="tablist" aria-label="Panels">
        {TABS.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-controls={`panel-${id}`}
            aria-selected={tab === id}
            data-testid={`tab-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </nav>
      <main>
        <Panel id="people" tab={tab}>
          <Ventures ventures={ventures} error={venturesError} current={current} onOpen={setCurrent} />
          <Invitations onAccepted={loadVentures} />
          <Presence room={room} />
          <Me ventureId={venture?.id ?? null} />
        </Panel>
        <Panel id="chat" tab={tab}>
          <Chat room={room} title={venture?.name ?? "No venture"} />
        </Panel>
        <Panel id="doc" tab={tab}>
          <DocumentPanel room={room} session={session} />
          <Files ventureId={venture?.id ?? null} session={session} />
        </Panel>
        <Panel id="activity" tab={tab}>
          <Notifications />
          <Leaderboard ventureId={venture?.id ?? null} me={session.user} />
          <ActivityFeed ventureId={venture?.id ?? null} />
        </Panel>
      </main>
    </div>
  );
}

function Panel(props: { id: Tab; tab: Tab; children: ReactNode }) {
  return (
    <section
      id={`panel-${props.id}`}
      className={`panel panel-${props.id}`}
      role="tabpanel"
      aria-labelledby={`tab-${props.id}`}
      data-active={props.tab === props.id}
      data-testid={`panel-${props.id}`}
    >
      {props.children}
    </section>
  );
}

function Card(props: { title: ReactNode; children: ReactNode; testid?: string; className?: string }) {
  return (
    <div className={`card ${props.className ?? ""}`} data-testid={props.testid}>
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}

function Ventures(props: {
  ventures: Venture[] | null;
  error?: string;
  current: string | null;
  onOpen: (id: string) => void;
}) {
  return (
    <Card title="Ventures">
      {props.error && <p className="bad">{props.error}</p>}
      {!props.ventures && !props.error && <p className="muted">Loading…</p>}
      <ul className="ventures" data-testid="ventures">
        {props.ventures?.map((v) => (
          <li key={v.id}>
            <button type="button" aria-pressed={v.id === props.current} onClick={() => props.onOpen(v.id)}>
              {v.name}
            </button>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Invitations(props: { onAccepted: () => Promise<void> }) {
  const client = useHub();
  const { items } = useNotifications();
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const [error, setError] = useState<string>();
  const invited = items.filter((n) => n.kind === "member_invited").length;
  const load = useCallback(
    () =>
      client.rest.listInvitations().then(
        (l) => setInvitations(l.invitations),
        (e) => setError(errorText(e)),
      ),
    [client],
  );
  // Again whenever an invitation arrives live.
  useEffect(() => {
    void load();
  }, [load, invited]);
  const answer = async (inv: Invitation, accept: boolean) => {
    try {
      if (accept) await client.rest.acceptInvitation({ id: inv.id });
      else await client.rest.declineInvitation({ id: inv.id });
      await load();
      if (accept) await props.onAccepted();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <Card title="Invitations">
      {error && <p className="bad">{error}</p>}
      <ul className="invites" data-testid="invitations">
        {invitations?.length === 0 && <li className="muted">None</li>}
        {invitations?.map((inv) => (
          <li key={inv.id} data-testid="invitation">
            <span>
              {inv.team_name ? `${inv.venture_name} / ${inv.team_name}` : inv.venture_name} as {inv.role}, from{" "}
              {inv.invited_by}
            </span>
            <span className="actions">
              <button type="button" className="primary" onClick={() => void answer(inv, true)}>
                Accept
              </button>
              <button type="button" onClick={() => void answer(inv, false)}>
                Decline
              </button>
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Presence(props: { room: string | null }) {
  const { users } = usePresence(props.room);
  return (
    <Card title="Here now">
      <ul className="presence" data-testid="presence">
        {users.length === 0 && <li className="muted">Nobody yet</li>}
        {users.map((u) => (
          <li key={u.user_id} data-user={u.user_id}>
            <span className="dot" style={{ background: colorOf(u.user_id) }} aria-hidden="true" />
            {u.name} <span className="muted">({u.status})</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Me(props: { ventureId: string | null }) {
  const client = useHub();
  const { wallet, error: walletError } = useWallet();
  const { profile, reload } = useProfile();
  const { items } = useNotifications();
  const [outcome, setOutcome] = useState<string>();
  const [busy, setBusy] = useState(false);
  // XP, levels and badges change with what the notifications and wallet pushes tell.
  const rewards = items.filter((n) => ["buz_credited", "level_up", "badge_awarded"].includes(n.kind)).length;
  const balance = wallet?.buz_balance;
  useEffect(() => reload(), [reload, rewards, balance]);
  const sample = async () => {
    setBusy(true);
    try {
      const done = await client.rest.devSampleTask({ body: { venture_id: props.ventureId ?? undefined } });
      const buz = done.buz;
      setOutcome(
        buz
          ? buz.withheld > 0
            ? `${buz.credited} BUZ credited, ${buz.withheld} withheld (${buz.reason})`
            : `${buz.credited} BUZ credited`
          : "Task recorded",
      );
    } catch (e) {
      setOutcome(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const progress =
    profile && profile.next_level_xp ? Math.min(100, Math.round((profile.xp / profile.next_level_xp) * 100)) : 100;
  return (
    <Card title="Me" testid="me-card">
      {walletError && <p className="bad">{walletError.message}</p>}
      <dl className="stats">
        <div>
          <dt>BUZ</dt>
          <dd data-testid="wallet-balance">{wallet ? wallet.buz_balance : "…"}</dd>
        </div>
        <div>
          <dt>Locked</dt>
          <dd data-testid="wallet-pending">{wallet ? wallet.pending_lock : "…"}</dd>
        </div>
        <div>
          <dt>Level</dt>
          <dd data-testid="level">{profile ? profile.level : "…"}</dd>
        </div>
        <div>
          <dt>XP</dt>
          <dd data-testid="xp">{profile ? profile.xp : "…"}</dd>
        </div>
      </dl>
      <label className="xpbar">
        <span className="sr-only">XP toward the next level</span>
        <progress max={100} value={progress} />
      </label>
      <h3>Badges</h3>
      <ul className="badges" data-testid="badges">
        {profile?.badges.length === 0 && <li className="muted">None yet: 5 accepted tasks earn Early Contributor</li>}
        {profile?.badges.map((b) => (
          <li key={b.code} data-badge={b.code} title={`Since ${dateTimeOf(b.awarded_at)}`}>
            <span className="medal" aria-hidden="true" />
            {b.name}
          </li>
        ))}
      </ul>
      <div className="dev">
        <button type="button" className="primary" disabled={busy} onClick={() => void sample()} data-testid="sample-task">
          Post a sample task for me
        </button>
        <p className="muted small">Development only: the platform accepting a task of yours.</p>
        {outcome && (
          <p role="status" data-testid="sample-outcome">
            {outcome}
          </p>
        )}
      </div>
    </Card>
  );
}

function Chat(props: { room: string | null; title: string }) {
  const client = useHub();
  const { messages, send, error } = useChat(props.room);
  const typing = useTyping(props.room);
  const presence = usePresence(props.room);
  const [draft, setDraft] = useState("");
  const list = useRef<HTMLOListElement>(null);
  const me = useReadable(client.userId);
  const names = useMemo(() => new Map(presence.users.map((u) => [u.user_id, u.name])), [presence.users]);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = draft.trim();
    if (!body) return;
    setDraft("");
    typing.stop();
    send(body).catch(() => {});
  };
  const typers = typing.users.map((u) => names.get(u) ?? title(u));
  return (
    <Card title={<span data-testid="room-title">{props.title}</span>} className="chat">
      {error && <p className="bad">{error.message}</p>}
      <ol className="messages" data-testid="messages" ref={list} aria-live="polite">
        {messages.length === 0 && <li className="muted">No messages yet</li>}
        {messages.map((m) => (
          <li key={m.client_id || m.id} className={m.author_id === me ? "mine" : ""} data-pending={m.pending ? "" : undefined}>
            <span className="author" style={{ color: colorOf(m.author_id) }}>
              {names.get(m.author_id) ?? title(m.author_id)}
            </span>
            <time dateTime={m.created_at} title={new Date(m.created_at).toLocaleString()} data-testid="message-time">
              {timeOf(m.created_at)}
            </time>
            <p>{m.deleted ? <em className="muted">deleted</em> : m.body}</p>
          </li>
        ))}
      </ol>
      <div className="typing" data-testid="typing" aria-live="polite">
        {typers.length === 0 ? "" : `${typers.join(", ")} ${typers.length === 1 ? "is" : "are"} typing…`}
      </div>
      <form className="compose" onSubmit={submit}>
        <label htmlFor="chat-input" className="sr-only">
          Message
        </label>
        <input
          id="chat-input"
          data-testid="chat-input"
          placeholder="Message… (@name mentions)"
          value={draft}
          autoComplete="off"
          onChange={(e) => {
            setDraft(e.target.value);
            typing.start();
          }}
        />
        <button type="submit" className="primary" data-testid="send">
          Send
        </button>
      </form>
    </Card>
  );
}

/** The venture's shared document (the demo's, else the room's first, else a new one). */
function useRoomDoc(room: string | null, demoDoc?: string): DocInfo | null | undefined {
  const client = useHub();
  const [doc, setDoc] = useState<DocInfo | null | undefined>(undefined);
  useEffect(() => {
    if (!room) {
      setDoc(null);
      return;
    }
    let live = true;
    setDoc(undefined);
    (async () => {
      const docs = (await client.rest.listDocs({ room })).docs;
      const found = docs.find((d) => d.id === demoDoc) ?? docs[0];
      return found ?? (await client.rest.createDoc({ body: { room, title: "Notes" } }));
    })().then(
      (d) => live && setDoc(d),
      () => live && setDoc(null),
    );
    return () => {
      live = false;
    };
  }, [client, room, demoDoc]);
  return doc;
}

function DocumentPanel(props: { room: string | null; session: Session }) {
  const info = useRoomDoc(props.room, props.session.demoDoc);
  const { provider, synced, canWrite, error } = useDoc(info?.id ?? null);
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!provider || !el) return;
    const mount = document.createElement("div");
    el.replaceChildren(mount);
    const quill = new Quill(mount, {
      theme: "snow",
      placeholder: "Write together…",
      modules: {
        cursors: true,
        toolbar: [[{ header: [1, 2, false] }], ["bold", "italic", "underline"], [{ list: "ordered" }, { list: "bullet" }], ["link"]],
        history: { userOnly: true },
      },
    });
    quill.root.setAttribute("aria-label", "Shared document");
    // Quill's pickers are buttons without a name of their own.
    for (const label of el.querySelectorAll(".ql-picker-label")) label.setAttribute("aria-label", "Text style");
    quill.root.setAttribute("data-testid", "editor-text");
    provider.awareness.setLocalStateField("user", { name: props.session.name, color: colorOf(props.session.user) });
    const binding = new QuillBinding(provider.doc.getText(DOC_FIELD), quill, provider.awareness);
    return () => {
      binding.destroy();
      el.replaceChildren();
    };
  }, [provider, props.session.name, props.session.user]);
  return (
    <Card title={info?.title ?? "Document"} className="doc">
      {error && <p className="bad">{error.message}</p>}
      <p className="muted small" data-testid="doc-state">
        {info === null ? "No document" : !synced ? "Loading…" : canWrite ? "Saved as you type" : "Read only"}
      </p>
      <div className="editor" data-testid="editor" ref={host} />
    </Card>
  );
}

function Files(props: { ventureId: string | null; session: Session }) {
  const client = useHub();
  const [files, setFiles] = useState<FileDoc[] | null>(null);
  const [shared, setShared] = useState<FileDoc[]>([]);
  const [progress, setProgress] = useState<number | null>(null);
  const [message, setMessage] = useState<string>();
  const [shareTo, setShareTo] = useState<Record<string, string>>({});
  const [kind, setKind] = useState("document");
  const { items } = useNotifications();
  const sharedCount = items.filter((n) => n.kind === "document_shared").length;
  const load = useCallback(async () => {
    try {
      const [mine, theirs] = await Promise.all([
        client.rest.listDocuments({ scope: "mine" }),
        client.rest.listDocuments({ scope: "shared" }),
      ]);
      const here = (f: FileDoc) => !props.ventureId || f.venture_id === props.ventureId || f.venture_id === null;
      setFiles(mine.documents.filter(here));
      setShared(theirs.documents.filter(here));
    } catch (e) {
      setMessage(errorText(e));
    }
  }, [client, props.ventureId]);
  useEffect(() => {
    void load();
  }, [load, sharedCount]);
  const upload = (file: File) => {
    const form = new FormData();
    form.append("title", file.name);
    form.append("type", kind);
    if (props.ventureId) form.append("venture_id", props.ventureId);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${url}/api/v1/documents`);
    xhr.setRequestHeader("authorization", `Bearer ${props.session.token.current}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && setProgress(Math.round((e.loaded / e.total) * 100));
    xhr.onload = () => {
      setProgress(null);
      if (xhr.status === 201) {
        setMessage(`Uploaded ${file.name}`);
        void load();
      } else {
        let why = xhr.statusText;
        try {
          why = JSON.parse(xhr.responseText).error.message;
        } catch {
          // not JSON: keep the status text
        }
        setMessage(`Upload refused: ${why}`);
      }
    };
    xhr.onerror = () => {
      setProgress(null);
      setMessage("Upload failed: the connection broke");
    };
    setProgress(0);
    xhr.send(form);
  };
  const download = async (f: FileDoc) => {
    try {
      const bytes = await client.rest.getDocumentContent({ id: f.id });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([bytes], { type: f.content_type }));
      link.download = f.file_name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const share = async (f: FileDoc) => {
    const to = (shareTo[f.id] ?? "").trim();
    if (!to) return;
    try {
      await client.rest.shareDocument({ id: f.id, body: { to_user_id: to } });
      setMessage(`Shared ${f.title} with ${to}`);
      setShareTo((s) => ({ ...s, [f.id]: "" }));
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const row = (f: FileDoc, mine: boolean) => (
    <li key={f.id} data-testid="file" data-file={f.file_name}>
      <span className="file-name">{f.title}</span>
      <span className="muted small">
        {(f.size / 1024).toFixed(1)} KiB · {dateTimeOf(f.created_at)}
        {mine ? "" : ` · from ${f.owner_id}`}
      </span>
      <span className="actions">
        <button type="button" onClick={() => void download(f)} data-testid="download">
          Download
        </button>
        {mine && (
          <>
            <label className="sr-only" htmlFor={`share-${f.id}`}>
              Share {f.title} with
            </label>
            <input
              id={`share-${f.id}`}
              className="share-to"
              placeholder="user id"
              value={shareTo[f.id] ?? ""}
              onChange={(e) => setShareTo((s) => ({ ...s, [f.id]: e.target.value }))}
              data-testid="share-to"
            />
            <button type="button" onClick={() => void share(f)} data-testid="share">
              Share
            </button>
          </>
        )}
      </span>
    </li>
  );
  return (
    <Card title="Files" className="files">
      <label className="kind">
        <span>Kind</span>
        <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="file-kind">
          {["document", "plan", "contract", "report", "design"].map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label className="upload">
        <span>Upload a file (PDF, image, text, office…)</span>
        <input
          type="file"
          data-testid="file-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) upload(f);
            e.target.value = "";
          }}
        />
      </label>
      {progress !== null && (
        <progress max={100} value={progress} data-testid="upload-progress" aria-label="Upload progress">
          {progress}%
        </progress>
      )}
      {message && (
        <p role="status" className="small" data-testid="files-message">
          {message}
        </p>
      )}
      <ul className="file-list" data-testid="files">
        {files?.length === 0 && shared.length === 0 && <li className="muted">No files yet</li>}
        {files?.map((f) => row(f, true))}
        {shared.map((f) => row(f, false))}
      </ul>
    </Card>
  );
}

function Notifications() {
  const { items, unread, markAllRead, loading } = useNotifications();
  return (
    <Card
      title={
        <>
          Notifications{" "}
          <span className="pill" data-testid="unread">
            {unread}
          </span>
        </>
      }
    >
      <button type="button" onClick={() => void markAllRead()}>
        Mark all read
      </button>
      <ul className="notes" data-testid="notifications">
        {!loading && items.length === 0 && <li className="muted">Nothing yet</li>}
        {items.map((n) => (
          <li key={n.id} className={n.read ? "" : "unread"}>
            {describe(n)} <time dateTime={n.created_at}>{dateTimeOf(n.created_at)}</time>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Leaderboard(props: { ventureId: string | null; me: string }) {
  const { board } = useLeaderboard(props.ventureId, "xp", 10);
  return (
    <Card title="Leaderboard">
      <ol className="board" data-testid="leaderboard">
        {board?.entries.length === 0 && <li className="muted">Nobody has XP yet</li>}
        {board?.entries.map((e) => (
          <li key={e.user_id} data-user={e.user_id} className={e.user_id === props.me ? "mine" : ""}>
            <span className="rank">{e.rank}</span>
            <span className="who">{e.name}</span>
            <span className="muted">level {e.level}</span>
            <span data-testid="board-xp">{e.xp} XP</span>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function ActivityFeed(props: { ventureId: string | null }) {
  const { items, hasMore, more } = useActivity(props.ventureId);
  return (
    <Card title="Activity">
      <ul className="activity" data-testid="activity">
        {items.length === 0 && <li className="muted">Nothing yet</li>}
        {items.map((a) => (
          <li key={a.id}>
            {describeActivity(a.verb, a.actor_id, a.data)} <time dateTime={a.created_at}>{dateTimeOf(a.created_at)}</time>
          </li>
        ))}
      </ul>
      {hasMore && (
        <button type="button" onClick={() => void more()}>
          Older
        </button>
      )}
    </Card>
  );
}

const root = document.getElementById("app");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
