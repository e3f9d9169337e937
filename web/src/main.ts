// The hub's demo: pick a development user, see your ventures, open a venture's room (presence,
// typing, chat) and its shared document in a collaborative editor, and your notifications.
// Everything goes through the SDK. The user is kept per tab (sessionStorage), so two tabs can
// be two users; `?user=bob` picks one directly.

import {
  type ChatMessage,
  type DevTokenIssued,
  type DocProvider,
  HubClient,
  HubError,
  type Invitation,
  type Notification,
  type PresenceEntry,
  RestClient,
  type Room,
  type Venture,
} from "@hub/client-sdk";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, basicSetup } from "codemirror";
import { yCollab } from "y-codemirror.next";

const url = location.origin;
const anonymous = new RestClient({ url });
const SUGGESTED = ["ann", "bob", "carol", "dave"];
const COLORS = ["#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9", "#1098ad", "#f08c00"];

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const app = document.getElementById("app") as HTMLElement;
const title = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);
const colorOf = (id: string) => COLORS[[...id].reduce((a, c) => a + c.charCodeAt(0), 0) % COLORS.length];

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
      return `${n.data.by} shared “${n.data.title}”`;
    default:
      return n.kind.replace(/_/g, " ");
  }
}

function showLogin(error?: string): void {
  const input = h("input", { placeholder: "another user id", "data-testid": "user-input" });
  app.replaceChildren(
    h(
      "div",
      { class: "login" },
      h("h1", {}, "hub demo"),
      h("p", { class: "muted" }, "Pick a development user. Open a second tab as someone else to collaborate."),
      error ? h("p", { style: "color: var(--bad)" }, error) : null,
      h(
        "div",
        { class: "users" },
        ...SUGGESTED.map((u) => h("button", { onclick: () => void signIn(u), "data-testid": `pick-${u}` }, title(u))),
      ),
      h(
        "form",
        {
          onsubmit: (e: Event) => {
            e.preventDefault();
            if (input.value.trim()) void signIn(input.value.trim());
          },
        },
        input,
        h("button", { class: "primary", type: "submit" }, "Sign in"),
      ),
    ),
  );
}

async function signIn(user: string): Promise<void> {
  const name = title(user);
  let first: DevTokenIssued | undefined;
  try {
    first = await anonymous.devToken({ body: { user_id: user, name } });
  } catch (e) {
    if (e instanceof HubError && e.status === 404) {
      showLogin("This hub does not sign in development users: start it with HUB_ENV=development (the default) to use the demo.");
    } else {
      showLogin(e instanceof HubError ? e.message : String(e));
    }
    return;
  }
  sessionStorage.setItem("hub-demo-user", user);
  // The venture to open: the one in the URL (`?venture=`), else the demo venture every
  // development user belongs to, so two tabs meet in the same room.
  const wanted = new URLSearchParams(location.search).get("venture") ?? first?.venture_id;
  const client = new HubClient({
    url,
    // The first token, then a fresh one for each reconnect that needs it.
    getToken: async () => {
      if (first) {
        const t = first.token;
        first = undefined;
        return t;
      }
      return (await anonymous.devToken({ body: { user_id: user, name } })).token;
    },
  });
  new Session(client, user, name, wanted).start();
}

class Session {
  readonly client: HubClient;
  readonly user: string;
  readonly name: string;
  room: Room | undefined;
  provider: DocProvider | undefined;
  editor: EditorView | undefined;
  readonly cleanups: (() => void)[] = [];
  readonly venturesEl = h("ul", { class: "ventures", "data-testid": "ventures" });
  readonly invitesEl = h("ul", { class: "invites", "data-testid": "invitations" });
  readonly presenceEl = h("ul", { class: "presence", "data-testid": "presence" });
  readonly messagesEl = h("div", { class: "messages", "data-testid": "messages" });
  readonly typingEl = h("div", { class: "typing", "data-testid": "typing" });
  readonly notesEl = h("ul", { class: "notes", "data-testid": "notifications" });
  readonly editorEl = h("div", { class: "editor", "data-testid": "editor" });
  readonly docTitle = h("span", {}, "Document");
  readonly input = h("input", { placeholder: "Message… (@name mentions)", "data-testid": "chat-input" });
  readonly state = h("span", { class: "pill", "data-testid": "connection" });
  readonly roomTitle = h("span", { "data-testid": "room-title" }, "Room");
  readonly unreadEl = h("span", { class: "pill", "data-testid": "unread" });

  readonly wanted: string | undefined;

  constructor(client: HubClient, user: string, name: string, wanted?: string) {
    this.client = client;
    this.user = user;
    this.name = name;
    this.wanted = wanted;
  }

  start(): void {
    const compose = h(
      "form",
      {
        class: "compose",
        onsubmit: (e: Event) => {
          e.preventDefault();
          const body = this.input.value.trim();
          if (!body || !this.room) return;
          this.input.value = "";
          this.room.chat.send(body).catch(() => {});
        },
      },
      this.input,
      h("button", { class: "primary", type: "submit", "data-testid": "send" }, "Send"),
    );
    this.input.addEventListener("input", () => this.room?.typing.start());
    app.replaceChildren(
      h(
        "header",
        {},
        h("h1", {}, "hub"),
        h("span", { "data-testid": "me" }, `Signed in as ${this.name}`),
        this.state,
        h("span", { class: "spacer" }),
        h(
          "button",
          {
            onclick: () => {
              sessionStorage.removeItem("hub-demo-user");
              this.client.close();
              showLogin();
            },
          },
          "Sign out",
        ),
      ),
      h(
        "main",
        {},
        h(
          "section",
          {},
          h("h2", {}, "Ventures"),
          this.venturesEl,
          h("h2", { style: "margin-top:16px" }, "Invitations"),
          this.invitesEl,
          h("h2", { style: "margin-top:16px" }, "Here now"),
          this.presenceEl,
        ),
        h("section", {}, h("h2", {}, this.roomTitle, " ", this.unreadEl), this.messagesEl, this.typingEl, compose),
        h("section", {}, h("h2", {}, this.docTitle), this.editorEl),
        h(
          "section",
          {},
          h("h2", {}, "Notifications ", h("button", { onclick: () => void this.client.notifications.markAllRead() }, "Mark all read")),
          this.notesEl,
        ),
      ),
    );
    this.client.state.subscribe((s) => {
      this.state.textContent = s;
      this.state.className = `pill ${s}`;
    });
    // An invitation arrives live: show it at once.
    let invitesSeen = 0;
    this.client.notifications.items.subscribe((items) => {
      const invites = items.filter((n) => n.kind === "member_invited").length;
      if (invites !== invitesSeen) {
        invitesSeen = invites;
        void this.loadInvitations();
      }
    });
    this.client.notifications.items.subscribe((items) => {
      this.notesEl.replaceChildren(
        ...(items.length ? items : []).map((n) => h("li", { class: n.read ? "" : "unread" }, describe(n))),
      );
      if (!items.length) this.notesEl.replaceChildren(h("li", { class: "muted" }, "Nothing yet"));
    });
    void this.client.notifications.load().catch(() => {});
    void this.loadVentures();
    void this.loadInvitations();
  }

  /** My pending invitations, each accepted or declined here; accepting adds the venture. */
  async loadInvitations(): Promise<void> {
    let invitations: Invitation[];
    try {
      invitations = (await this.client.rest.listInvitations()).invitations;
    } catch (e) {
      this.invitesEl.replaceChildren(h("li", { class: "muted" }, String(e)));
      return;
    }
    if (!invitations.length) {
      this.invitesEl.replaceChildren(h("li", { class: "muted" }, "None"));
      return;
    }
    this.invitesEl.replaceChildren(
      ...invitations.map((inv) => {
        const where = inv.team_name ? `${inv.venture_name} / ${inv.team_name}` : inv.venture_name;
        const answer = (accept: boolean) => async () => {
          if (accept) await this.client.rest.acceptInvitation({ id: inv.id });
          else await this.client.rest.declineInvitation({ id: inv.id });
          await this.loadInvitations();
          if (accept) await this.loadVentures();
        };
        return h(
          "li",
          { "data-testid": "invitation" },
          h("span", {}, `${where} as ${inv.role}, from ${inv.invited_by} `),
          h("button", { class: "primary", onclick: () => void answer(true)().catch(() => {}) }, "Accept"),
          " ",
          h("button", { onclick: () => void answer(false)().catch(() => {}) }, "Decline"),
        );
      }),
    );
  }

  async loadVentures(): Promise<void> {
    let ventures: Venture[];
    try {
      ventures = (await this.client.rest.listVentures()).ventures;
    } catch (e) {
      this.venturesEl.replaceChildren(h("li", { class: "muted" }, String(e)));
      return;
    }
    this.venturesEl.replaceChildren();
    const buttons = ventures.map((v) => {
      const b = h("button", { onclick: () => void this.open(v, b) }, v.name);
      this.venturesEl.append(h("li", {}, b));
      return b;
    });
    // The venture asked for (the URL's, else the demo venture) opens, or the first one, unless
    // one is open already (a list reloaded after an accept).
    const current = this.room ? ventures.findIndex((v) => `venture:${v.id}` === this.room?.id) : -1;
    const wanted = ventures.findIndex((v) => v.id === this.wanted);
    const first = wanted >= 0 ? wanted : 0;
    if (current >= 0) buttons[current].classList.add("active");
    else if (ventures[first]) void this.open(ventures[first], buttons[first]);
  }

  async open(venture: Venture, button: HTMLButtonElement): Promise<void> {
    for (const b of this.venturesEl.querySelectorAll("button")) b.classList.remove("active");
    button.classList.add("active");
    for (const c of this.cleanups.splice(0)) c();
    await this.room?.leave();
    this.provider?.destroy();
    this.editor?.destroy();
    this.roomTitle.textContent = venture.name;
    // Which venture this tab is in: in the page, its title and its address.
    document.title = `${venture.name} · ${this.name} · hub`;
    const address = new URL(location.href);
    address.searchParams.set("venture", venture.id);
    history.replaceState(null, "", address);
    const room = await this.client.rooms.join(`venture:${venture.id}`);
    this.room = room;
    this.cleanups.push(
      room.presence.subscribe((people) => this.renderPresence(people)),
      room.typing.users.subscribe(() => {
        const others = room.typing.others();
        this.typingEl.textContent = others.length ? `${others.map(title).join(", ")} ${others.length > 1 ? "are" : "is"} typing…` : "";
      }),
      room.chat.messages.subscribe((messages) => this.renderMessages(messages)),
      room.chat.unread.subscribe((n) => {
        this.unreadEl.textContent = n ? `${n} unread` : "all read";
      }),
      room.chat.on("message", () => {
        if (document.visibilityState === "visible") void room.chat.markRead().catch(() => {});
      }),
    );
    void room.chat.markRead().catch(() => {});
    const docs = await this.client.rest.listDocs({ room: `venture:${venture.id}` });
    const doc = docs.docs[0];
    if (!doc) {
      this.docTitle.textContent = "No document in this venture";
      this.editorEl.replaceChildren();
      return;
    }
    this.docTitle.textContent = doc.title;
    const provider = this.client.docs.open(doc.id);
    this.provider = provider;
    provider.awareness.setLocalStateField("user", { name: this.name, color: colorOf(this.user) });
    const ytext = provider.doc.getText("body");
    const editable = new Compartment();
    this.editor = new EditorView({
      parent: this.editorEl,
      state: EditorState.create({
        doc: ytext.toString(),
        extensions: [basicSetup, EditorView.lineWrapping, yCollab(ytext, provider.awareness), editable.of(EditorView.editable.of(true))],
      }),
    });
    this.editorEl.replaceChildren(this.editor.dom);
    this.cleanups.push(
      provider.canWrite.subscribe((w) => {
        this.editor?.dispatch({ effects: editable.reconfigure(EditorView.editable.of(w)) });
      }),
    );
  }

  renderPresence(people: PresenceEntry[]): void {
    this.presenceEl.replaceChildren(
      ...[...people]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => h("li", { "data-user": p.user_id }, h("span", { class: `dot ${p.status}` }), p.user_id === this.user ? `${p.name} (you)` : p.name)),
    );
  }

  renderMessages(messages: ChatMessage[]): void {
    const atBottom = this.messagesEl.scrollHeight - this.messagesEl.scrollTop - this.messagesEl.clientHeight < 40;
    this.messagesEl.replaceChildren(
      ...messages.map((m) =>
        h(
          "div",
          { class: `msg${m.pending ? " pending" : ""}${m.failed ? " failed" : ""}`, "data-seq": String(m.seq) },
          h("span", { class: "who" }, title(m.author_id)),
          m.deleted ? h("em", { class: "muted" }, "deleted") : m.body,
          m.failed
            ? h("button", { onclick: () => void this.room?.chat.retry(m.client_id).catch(() => {}) }, `retry (${m.failed.message})`)
            : null,
        ),
      ),
    );
    if (atBottom) this.messagesEl.scrollTop = this.messagesEl.scrollHeight;
  }
}

const params = new URLSearchParams(location.search);
const chosen = params.get("user") ?? sessionStorage.getItem("hub-demo-user");
if (chosen) void signIn(chosen);
else showLogin();
