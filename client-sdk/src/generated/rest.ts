// Generated from the hub's REST table (src/http/api.rs). Do not edit by hand:
// run `UPDATE_GENERATED=1 cargo test --test project openapi::` after changing a route.

import type { ActiveWindow, ActivityPage, AddSkill, Adjust, ApiKey, ApiKeyList, AuditKey, AwardBadge, Badge, BadgeAward, BadgeList, BadgesEvaluated, Broadcast, BugEvent, CheckpointList, Client, ClientList, Comment, CommentList, ConsistencyProof, Conversion, ConversionList, ConversionWindow, ConvertRequest, CountRooms, CreateBadge, CreateDoc, CreateTeam, CreateVenture, CreateWindow, CreatedApiKey, CreatedWebhook, Decide, Delivery, DeliveryList, DeliveryLog, DevToken, DevTokenIssued, DeviceEvent, Disconnect, Disconnected, DocInfo, DocList, Endorse, Endorsement, EvaluateBadges, EventAccepted, FileDoc, FileList, GamificationStatus, Health, Hold, InclusionProof, InvitationList, JobRun, JobsHealth, KeyList, KycEvent, Leaderboard, LedgerEntry, LedgerPage, LogEntry, LogEntryPage, MarkRead, Me, Member, MemberSet, NewApiKey, NewClient, NewComment, NewKey, NewPortfolioItem, NewShare, NewWebhook, NotificationList, PatchBadge, PatchClient, PatchWebhook, Portfolio, PortfolioItem, PresenceCounts, Profile, ProfilePatch, Publication, PublicationPage, Publish, Published, PutMember, RequestSignature, ReviewEvent, RoomList, RoomPresence, SampleTask, Share, ShareList, SharedDoc, Sign, Signature, SignatureList, SigningKey, Skill, SkillList, TaskAccepted, Team, TeamDetail, UnreadCount, Venture, VentureDetail, VentureList, ViolationEvent, Wallet, WalletVerify, Webhook, WebhookList, WindowList, WithheldList, WormIntegrity } from "./protocol.js";

/** Every REST operation by id: its arguments (path and query parameters, `body`) and its answer. */
export interface RestOperations {
  /** The caller, their ventures and teams */
  getMe: { args: Record<string, never>; answer: Me };
  /** The rooms I may join, with unread counts */
  listRooms: { args: Record<string, never>; answer: RoomList };
  /** My notifications, newest first */
  listNotifications: { args: { unread?: boolean; before?: string; limit?: number }; answer: NotificationList };
  /** Marks notifications read (some ids, or all) */
  markNotificationsRead: { args: { body: MarkRead }; answer: UnreadCount };
  /** Creates a collaborative document in a room */
  createDoc: { args: { body: CreateDoc }; answer: DocInfo };
  /** The collaborative documents I can open */
  listDocs: { args: { room: string }; answer: DocList };
  /** One collaborative document */
  getDoc: { args: { id: string }; answer: DocInfo };
  /** Deletes a collaborative document (editors and above) */
  deleteDoc: { args: { id: string }; answer: void };
  /** The document's whole state as one Yjs update (v1) */
  getDocState: { args: { id: string }; answer: ArrayBuffer };
  /** Applies one Yjs update (v1), stored before it is relayed */
  applyDocUpdate: { args: { id: string; body: Uint8Array | ArrayBuffer | Blob }; answer: void };
  /** Creates a venture; the caller becomes its owner */
  createVenture: { args: { body: CreateVenture }; answer: Venture };
  /** The ventures I belong to */
  listVentures: { args: Record<string, never>; answer: VentureList };
  /** A venture with its members and teams */
  getVenture: { args: { id: string }; answer: VentureDetail };
  /** Creates a team in a venture */
  createTeam: { args: { id: string; body: CreateTeam }; answer: Team };
  /** The venture's activity feed, newest first */
  getVentureActivity: { args: { id: string; before?: string; limit?: number }; answer: ActivityPage };
  /** Invites someone (202; an admin or system adds them directly, 201) or changes a member's role (200) */
  putVentureMember: { args: { id: string; body: PutMember }; answer: MemberSet };
  /** Removes a member, or withdraws their invitation */
  removeVentureMember: { args: { id: string; user: string }; answer: void };
  /** The venture's members ranked by XP or reputation */
  getLeaderboard: { args: { id: string; by?: string; limit?: number }; answer: Leaderboard };
  /** A team with its members */
  getTeam: { args: { id: string }; answer: TeamDetail };
  /** Invites a venture member to the team (202; an admin or system adds directly, 201) or changes a team member's role (200) */
  putTeamMember: { args: { id: string; body: PutMember }; answer: MemberSet };
  /** Removes a team member, or withdraws their invitation */
  removeTeamMember: { args: { id: string; user: string }; answer: void };
  /** My pending invitations to ventures and teams, newest first */
  listInvitations: { args: Record<string, never>; answer: InvitationList };
  /** Accepts my invitation: I become a member with its role */
  acceptInvitation: { args: { id: string }; answer: Member };
  /** Declines my invitation */
  declineInvitation: { args: { id: string }; answer: void };
  /** A task was accepted: XP, BUZ, badges, feed */
  taskAccepted: { args: { body: TaskAccepted }; answer: EventAccepted };
  /** A review was done */
  reviewDone: { args: { body: ReviewEvent }; answer: EventAccepted };
  /** A bug was found or fixed */
  bugReported: { args: { body: BugEvent }; answer: EventAccepted };
  /** A user's KYC status changed */
  kycChanged: { args: { body: KycEvent }; answer: EventAccepted };
  /** A device was seen for a user */
  deviceSeen: { args: { body: DeviceEvent }; answer: EventAccepted };
  /** A rule violation by a user */
  violationReported: { args: { body: ViolationEvent }; answer: EventAccepted };
  /** Publishes a server event to a room's sockets on every node (kept with a seq with `store: true`) */
  publishToRoom: { args: { room: string; body: Publish }; answer: Publication };
  /** Publishes a server event to every socket of a user */
  publishToUser: { args: { user_id: string; body: Publish }; answer: Publication };
  /** Publishes one server event to many rooms (at most 1,000) */
  broadcast: { args: { body: Broadcast }; answer: Published };
  /** A room's kept publications after a seq, oldest first (its members, or the server API) */
  listPublications: { args: { room: string; after?: number; limit?: number }; answer: PublicationPage };
  /** Who is in a room, as its sockets see it, with the counts */
  getRoomPresence: { args: { room: string }; answer: RoomPresence };
  /** The users and connections of many rooms (at most 1,000) */
  countPresence: { args: { body: CountRooms }; answer: PresenceCounts };
  /** Closes every connection of a user on every node (they may come back) */
  disconnectUser: { args: { user_id: string; body: Disconnect }; answer: Disconnected };
  /** Revokes a user's tokens issued before now and closes their connections on every node */
  revokeUserTokens: { args: { user_id: string; body: Disconnect }; answer: Disconnected };
  /** Makes an API key with scopes; its secret is shown once */
  createApiKey: { args: { body: NewApiKey }; answer: CreatedApiKey };
  /** Every API key (never a secret) */
  listApiKeys: { args: Record<string, never>; answer: ApiKeyList };
  /** Revokes an API key at once */
  revokeApiKey: { args: { id: string }; answer: ApiKey };
  /** Registers an endpoint for event types; its signing secret is shown once */
  createWebhook: { args: { body: NewWebhook }; answer: CreatedWebhook };
  /** Every endpoint (never a secret) */
  listWebhooks: { args: Record<string, never>; answer: WebhookList };
  /** One endpoint */
  getWebhook: { args: { id: string }; answer: Webhook };
  /** Changes an endpoint's events, or disables or enables it */
  patchWebhook: { args: { id: string; body: PatchWebhook }; answer: Webhook };
  /** Deletes an endpoint with its deliveries and their log */
  deleteWebhook: { args: { id: string }; answer: void };
  /** An endpoint's deliveries, the newest first, with their last status */
  listDeliveries: { args: { id: string; state?: string; before?: number; limit?: number }; answer: DeliveryList };
  /** A delivery and the log of its tries (status codes, timings, errors) */
  getDelivery: { args: { id: string }; answer: DeliveryLog };
  /** Puts a dead delivery back in its endpoint's queue */
  replayDelivery: { args: { id: string }; answer: Delivery };
  /** My profile */
  getMyProfile: { args: Record<string, never>; answer: Profile };
  /** Changes my profile (absent fields stay, null clears) */
  patchMyProfile: { args: { body: ProfilePatch }; answer: Profile };
  /** Adds a skill of the catalog to my profile */
  addMySkill: { args: { body: AddSkill }; answer: Profile };
  /** Endorses another user's skill */
  endorse: { args: { body: Endorse }; answer: Endorsement };
  /** My portfolio */
  getMyPortfolio: { args: Record<string, never>; answer: Portfolio };
  /** A public profile (a private one is 404 to all but its owner) */
  getProfile: { args: { user_id: string }; answer: Profile };
  /** A user's portfolio */
  getPortfolio: { args: { user_id: string }; answer: Portfolio };
  /** Verifies a member's skill (venture owners) */
  verifySkill: { args: { user_id: string; skill: string }; answer: Profile };
  /** The skill catalog */
  listSkills: { args: Record<string, never>; answer: SkillList };
  /** Adds a skill to the catalog (operators) */
  createSkill: { args: { body: Skill }; answer: Skill };
  /** Adds an item to my portfolio */
  addPortfolioItem: { args: { body: NewPortfolioItem }; answer: PortfolioItem };
  /** Removes an item of my portfolio */
  deletePortfolioItem: { args: { id: string }; answer: void };
  /** The badge catalog */
  listBadges: { args: Record<string, never>; answer: BadgeList };
  /** Adds a badge with its rule (operators) */
  createBadge: { args: { body: CreateBadge }; answer: Badge };
  /** Evaluates a user's badges now (mine, or anyone's for an operator) */
  evaluateBadges: { args: { body: EvaluateBadges }; answer: BadgesEvaluated };
  /** Changes a badge (operators) */
  patchBadge: { args: { code: string; body: PatchBadge }; answer: Badge };
  /** Awards a manual badge (operators); 200 when already held */
  awardBadge: { args: { code: string; body: AwardBadge }; answer: BadgeAward };
  /** My wallet */
  getMyWallet: { args: Record<string, never>; answer: Wallet };
  /** My ledger, newest first */
  getMyLedger: { args: { before?: number; limit?: number }; answer: LedgerPage };
  /** Re-checks my ledger's hash chain and balances */
  verifyMyWallet: { args: Record<string, never>; answer: WalletVerify };
  /** BUZ withheld from me, and why */
  getMyWithheld: { args: { before?: string; limit?: number }; answer: WithheldList };
  /** A user's wallet (operators) */
  getWallet: { args: { user_id: string }; answer: Wallet };
  /** Adjusts a wallet with a ledger entry (operators) */
  adjustWallet: { args: { user_id: string; body: Adjust }; answer: LedgerEntry };
  /** Conversion windows */
  listConversionWindows: { args: Record<string, never>; answer: WindowList };
  /** Schedules a conversion window (operators) */
  createConversionWindow: { args: { body: CreateWindow }; answer: ConversionWindow };
  /** The open window, if any, and the next one */
  getActiveWindow: { args: Record<string, never>; answer: ActiveWindow };
  /** Asks to convert BUZ to equity in an open window (locks the BUZ) */
  requestConversion: { args: { body: ConvertRequest }; answer: Conversion };
  /** My conversion requests, or a venture's for its owners */
  listConversions: { args: { venture_id?: string }; answer: ConversionList };
  /** Approves or rejects a conversion (venture owners) */
  decideConversion: { args: { id: string; body: Decide }; answer: Conversion };
  /** Uploads a file (multipart), checked and hashed as it streams */
  uploadDocument: { args: { body: FormData }; answer: FileDoc };
  /** My files, or those shared with me */
  listDocuments: { args: { scope?: string }; answer: FileList };
  /** A file's metadata */
  getDocument: { args: { id: string }; answer: FileDoc };
  /** Deletes a file (refused under a legal hold) */
  deleteDocument: { args: { id: string }; answer: void };
  /** The file's bytes, verified as they go out; single ranges */
  getDocumentContent: { args: { id: string }; answer: ArrayBuffer };
  /** Shares a file with a user or a client */
  shareDocument: { args: { id: string; body: NewShare }; answer: Share };
  /** A file's shares */
  listShares: { args: { id: string }; answer: ShareList };
  /** Revokes a share */
  revokeShare: { args: { id: string; share_id: string }; answer: void };
  /** A file's comments */
  listComments: { args: { id: string }; answer: CommentList };
  /** Comments on a file */
  addComment: { args: { id: string; body: NewComment }; answer: Comment };
  /** Puts a legal hold on a file (operators) */
  holdDocument: { args: { id: string; body: Hold }; answer: FileDoc };
  /** Releases a legal hold (operators) */
  releaseDocument: { args: { id: string }; answer: FileDoc };
  /** A file's signatures */
  listSignatures: { args: { id: string }; answer: SignatureList };
  /** A file shared by link (the link is the credential) */
  getSharedDocument: { args: { token: string }; answer: SharedDoc };
  /** The bytes of a file shared by link */
  getSharedContent: { args: { token: string }; answer: ArrayBuffer };
  /** My clients */
  listClients: { args: Record<string, never>; answer: ClientList };
  /** Adds a client */
  createClient: { args: { body: NewClient }; answer: Client };
  /** A client */
  getClient: { args: { id: string }; answer: Client };
  /** Changes a client (absent fields stay, null clears) */
  patchClient: { args: { id: string; body: PatchClient }; answer: Client };
  /** Removes a client */
  deleteClient: { args: { id: string }; answer: void };
  /** My signing keys */
  listKeys: { args: Record<string, never>; answer: KeyList };
  /** Registers a P-256 public key (JWK or SPKI PEM) */
  addKey: { args: { body: NewKey }; answer: SigningKey };
  /** Revokes a signing key */
  removeKey: { args: { id: string }; answer: void };
  /** Asks a user to sign a file */
  requestSignature: { args: { body: RequestSignature }; answer: Signature };
  /** Signs: an ECDSA P-256 signature over the signing message */
  sign: { args: { id: string; body: Sign }; answer: Signature };
  /** Liveness and the state of the shared services: 200 healthy, or degraded while Redis is away or the audit log is broken; 503 degraded when the database does not answer */
  health: { args: Record<string, never>; answer: Health };
  /** The verifier key of the audit log's checkpoints (C2SP signed-note) */
  auditKey: { args: Record<string, never>; answer: AuditKey };
  /** The latest signed checkpoint of the audit log (C2SP tlog-checkpoint in a signed note) */
  auditCheckpoint: { args: Record<string, never>; answer: ArrayBuffer };
  /** Checkpoints in the object store, largest first, a page at a time */
  auditCheckpoints: { args: { before?: number; limit?: number }; answer: CheckpointList };
  /** Consecutive leaves of the audit log with their entries (operators) */
  auditEntries: { args: { from?: number; limit?: number }; answer: LogEntryPage };
  /** One leaf of the audit log: the entry and its leaf bytes (operators) */
  auditEntry: { args: { index: string }; answer: LogEntry };
  /** RFC 6962 inclusion proof of a leaf (operators) */
  auditInclusionProof: { args: { index: number; size?: number }; answer: InclusionProof };
  /** RFC 6962 consistency proof between two sizes of the log (operators) */
  auditConsistencyProof: { args: { from: number; to?: number }; answer: ConsistencyProof };
  /** Re-checks every audit chain (operators) */
  wormIntegrity: { args: Record<string, never>; answer: WormIntegrity };
  /** Re-anchors broken chains after an investigation (operators) */
  wormReanchor: { args: Record<string, never>; answer: WormIntegrity };
  /** The scheduled jobs and their last runs (operators) */
  jobsHealth: { args: Record<string, never>; answer: JobsHealth };
  /** Gamification counters (operators) */
  gamificationStatus: { args: Record<string, never>; answer: GamificationStatus };
  /** Runs a job now (operators) */
  runJob: { args: { name: string }; answer: JobRun };
  /** This document */
  openapi: { args: Record<string, never>; answer: Record<string, unknown> };
  /** A token for any development user, member of the demo venture (HUB_ENV=development only) (development only) */
  devToken: { args: { body: DevToken }; answer: DevTokenIssued };
  /** A sample task accepted for me: KYC passed and reputation at the gate first, then BUZ, XP and badges as for any task (HUB_ENV=development only) (development only) */
  devSampleTask: { args: { body: SampleTask }; answer: EventAccepted };
}

/** How each operation is called. */
export const REST_OPERATIONS = {
  getMe: { method: "GET", path: "/api/v1/me", params: [], query: [], body: "none", answer: "json", access: "token" },
  listRooms: { method: "GET", path: "/api/v1/rooms", params: [], query: [], body: "none", answer: "json", access: "token" },
  listNotifications: { method: "GET", path: "/api/v1/notifications", params: [], query: ["unread", "before", "limit"], body: "none", answer: "json", access: "token" },
  markNotificationsRead: { method: "POST", path: "/api/v1/notifications/read", params: [], query: [], body: "json", answer: "json", access: "token" },
  createDoc: { method: "POST", path: "/api/v1/docs", params: [], query: [], body: "json", answer: "json", access: "token" },
  listDocs: { method: "GET", path: "/api/v1/docs", params: [], query: ["room"], body: "none", answer: "json", access: "token" },
  getDoc: { method: "GET", path: "/api/v1/docs/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  deleteDoc: { method: "DELETE", path: "/api/v1/docs/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  getDocState: { method: "GET", path: "/api/v1/docs/{id}/state", params: ["id"], query: [], body: "none", answer: "bytes", access: "token" },
  applyDocUpdate: { method: "POST", path: "/api/v1/docs/{id}/updates", params: ["id"], query: [], body: "bytes", answer: "empty", access: "token" },
  createVenture: { method: "POST", path: "/api/v1/ventures", params: [], query: [], body: "json", answer: "json", access: "token" },
  listVentures: { method: "GET", path: "/api/v1/ventures", params: [], query: [], body: "none", answer: "json", access: "token" },
  getVenture: { method: "GET", path: "/api/v1/ventures/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  createTeam: { method: "POST", path: "/api/v1/ventures/{id}/teams", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  getVentureActivity: { method: "GET", path: "/api/v1/ventures/{id}/activity", params: ["id"], query: ["before", "limit"], body: "none", answer: "json", access: "token" },
  putVentureMember: { method: "POST", path: "/api/v1/ventures/{id}/members", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  removeVentureMember: { method: "DELETE", path: "/api/v1/ventures/{id}/members/{user}", params: ["id", "user"], query: [], body: "none", answer: "empty", access: "token" },
  getLeaderboard: { method: "GET", path: "/api/v1/ventures/{id}/leaderboard", params: ["id"], query: ["by", "limit"], body: "none", answer: "json", access: "token" },
  getTeam: { method: "GET", path: "/api/v1/teams/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  putTeamMember: { method: "POST", path: "/api/v1/teams/{id}/members", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  removeTeamMember: { method: "DELETE", path: "/api/v1/teams/{id}/members/{user}", params: ["id", "user"], query: [], body: "none", answer: "empty", access: "token" },
  listInvitations: { method: "GET", path: "/api/v1/invitations", params: [], query: [], body: "none", answer: "json", access: "token" },
  acceptInvitation: { method: "POST", path: "/api/v1/invitations/{id}/accept", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  declineInvitation: { method: "POST", path: "/api/v1/invitations/{id}/decline", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  taskAccepted: { method: "POST", path: "/api/v1/events/task/accepted", params: [], query: [], body: "json", answer: "json", access: "server" },
  reviewDone: { method: "POST", path: "/api/v1/events/review", params: [], query: [], body: "json", answer: "json", access: "server" },
  bugReported: { method: "POST", path: "/api/v1/events/bug", params: [], query: [], body: "json", answer: "json", access: "server" },
  kycChanged: { method: "POST", path: "/api/v1/events/kyc", params: [], query: [], body: "json", answer: "json", access: "server" },
  deviceSeen: { method: "POST", path: "/api/v1/events/device", params: [], query: [], body: "json", answer: "json", access: "server" },
  violationReported: { method: "POST", path: "/api/v1/events/violation", params: [], query: [], body: "json", answer: "json", access: "server" },
  publishToRoom: { method: "POST", path: "/api/v1/rooms/{room}/publish", params: ["room"], query: [], body: "json", answer: "json", access: "server" },
  publishToUser: { method: "POST", path: "/api/v1/users/{user_id}/publish", params: ["user_id"], query: [], body: "json", answer: "json", access: "server" },
  broadcast: { method: "POST", path: "/api/v1/publish", params: [], query: [], body: "json", answer: "json", access: "server" },
  listPublications: { method: "GET", path: "/api/v1/rooms/{room}/publications", params: ["room"], query: ["after", "limit"], body: "none", answer: "json", access: "token" },
  getRoomPresence: { method: "GET", path: "/api/v1/rooms/{room}/presence", params: ["room"], query: [], body: "none", answer: "json", access: "server" },
  countPresence: { method: "POST", path: "/api/v1/presence/counts", params: [], query: [], body: "json", answer: "json", access: "server" },
  disconnectUser: { method: "POST", path: "/api/v1/users/{user_id}/disconnect", params: ["user_id"], query: [], body: "json", answer: "json", access: "server" },
  revokeUserTokens: { method: "POST", path: "/api/v1/users/{user_id}/revoke", params: ["user_id"], query: [], body: "json", answer: "json", access: "server" },
  createApiKey: { method: "POST", path: "/api/v1/api-keys", params: [], query: [], body: "json", answer: "json", access: "operator" },
  listApiKeys: { method: "GET", path: "/api/v1/api-keys", params: [], query: [], body: "none", answer: "json", access: "operator" },
  revokeApiKey: { method: "DELETE", path: "/api/v1/api-keys/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "operator" },
  createWebhook: { method: "POST", path: "/api/v1/webhooks", params: [], query: [], body: "json", answer: "json", access: "server" },
  listWebhooks: { method: "GET", path: "/api/v1/webhooks", params: [], query: [], body: "none", answer: "json", access: "server" },
  getWebhook: { method: "GET", path: "/api/v1/webhooks/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "server" },
  patchWebhook: { method: "PATCH", path: "/api/v1/webhooks/{id}", params: ["id"], query: [], body: "json", answer: "json", access: "server" },
  deleteWebhook: { method: "DELETE", path: "/api/v1/webhooks/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "server" },
  listDeliveries: { method: "GET", path: "/api/v1/webhooks/{id}/deliveries", params: ["id"], query: ["state", "before", "limit"], body: "none", answer: "json", access: "server" },
  getDelivery: { method: "GET", path: "/api/v1/webhook-deliveries/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "server" },
  replayDelivery: { method: "POST", path: "/api/v1/webhook-deliveries/{id}/replay", params: ["id"], query: [], body: "none", answer: "json", access: "server" },
  getMyProfile: { method: "GET", path: "/api/v1/profiles/me", params: [], query: [], body: "none", answer: "json", access: "token" },
  patchMyProfile: { method: "PATCH", path: "/api/v1/profiles/me", params: [], query: [], body: "json", answer: "json", access: "token" },
  addMySkill: { method: "POST", path: "/api/v1/profiles/me/skills", params: [], query: [], body: "json", answer: "json", access: "token" },
  endorse: { method: "POST", path: "/api/v1/profiles/me/endorse", params: [], query: [], body: "json", answer: "json", access: "token" },
  getMyPortfolio: { method: "GET", path: "/api/v1/profiles/me/portfolio", params: [], query: [], body: "none", answer: "json", access: "token" },
  getProfile: { method: "GET", path: "/api/v1/profiles/{user_id}", params: ["user_id"], query: [], body: "none", answer: "json", access: "optional" },
  getPortfolio: { method: "GET", path: "/api/v1/profiles/{user_id}/portfolio", params: ["user_id"], query: [], body: "none", answer: "json", access: "optional" },
  verifySkill: { method: "POST", path: "/api/v1/profiles/{user_id}/skills/{skill}/verify", params: ["user_id", "skill"], query: [], body: "none", answer: "json", access: "token" },
  listSkills: { method: "GET", path: "/api/v1/skills", params: [], query: [], body: "none", answer: "json", access: "optional" },
  createSkill: { method: "POST", path: "/api/v1/skills", params: [], query: [], body: "json", answer: "json", access: "operator" },
  addPortfolioItem: { method: "POST", path: "/api/v1/portfolio", params: [], query: [], body: "json", answer: "json", access: "token" },
  deletePortfolioItem: { method: "DELETE", path: "/api/v1/portfolio/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  listBadges: { method: "GET", path: "/api/v1/badges", params: [], query: [], body: "none", answer: "json", access: "optional" },
  createBadge: { method: "POST", path: "/api/v1/badges", params: [], query: [], body: "json", answer: "json", access: "operator" },
  evaluateBadges: { method: "POST", path: "/api/v1/badges/evaluate", params: [], query: [], body: "json", answer: "json", access: "token" },
  patchBadge: { method: "PATCH", path: "/api/v1/badges/{code}", params: ["code"], query: [], body: "json", answer: "json", access: "operator" },
  awardBadge: { method: "POST", path: "/api/v1/badges/{code}/award", params: ["code"], query: [], body: "json", answer: "json", access: "operator" },
  getMyWallet: { method: "GET", path: "/api/v1/wallet/me", params: [], query: [], body: "none", answer: "json", access: "token" },
  getMyLedger: { method: "GET", path: "/api/v1/wallet/me/ledger", params: [], query: ["before", "limit"], body: "none", answer: "json", access: "token" },
  verifyMyWallet: { method: "GET", path: "/api/v1/wallet/me/verify", params: [], query: [], body: "none", answer: "json", access: "token" },
  getMyWithheld: { method: "GET", path: "/api/v1/wallet/me/withheld", params: [], query: ["before", "limit"], body: "none", answer: "json", access: "token" },
  getWallet: { method: "GET", path: "/api/v1/wallets/{user_id}", params: ["user_id"], query: [], body: "none", answer: "json", access: "operator" },
  adjustWallet: { method: "POST", path: "/api/v1/wallets/{user_id}/adjust", params: ["user_id"], query: [], body: "json", answer: "json", access: "operator" },
  listConversionWindows: { method: "GET", path: "/api/v1/conversion-windows", params: [], query: [], body: "none", answer: "json", access: "token" },
  createConversionWindow: { method: "POST", path: "/api/v1/conversion-windows", params: [], query: [], body: "json", answer: "json", access: "operator" },
  getActiveWindow: { method: "GET", path: "/api/v1/conversion-windows/active", params: [], query: [], body: "none", answer: "json", access: "token" },
  requestConversion: { method: "POST", path: "/api/v1/equity/convert", params: [], query: [], body: "json", answer: "json", access: "token" },
  listConversions: { method: "GET", path: "/api/v1/equity/conversions", params: [], query: ["venture_id"], body: "none", answer: "json", access: "token" },
  decideConversion: { method: "POST", path: "/api/v1/equity/conversions/{id}/decide", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  uploadDocument: { method: "POST", path: "/api/v1/documents", params: [], query: [], body: "form", answer: "json", access: "token" },
  listDocuments: { method: "GET", path: "/api/v1/documents", params: [], query: ["scope"], body: "none", answer: "json", access: "token" },
  getDocument: { method: "GET", path: "/api/v1/documents/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  deleteDocument: { method: "DELETE", path: "/api/v1/documents/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  getDocumentContent: { method: "GET", path: "/api/v1/documents/{id}/content", params: ["id"], query: [], body: "none", answer: "bytes", access: "token" },
  shareDocument: { method: "POST", path: "/api/v1/documents/{id}/share", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  listShares: { method: "GET", path: "/api/v1/documents/{id}/shares", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  revokeShare: { method: "DELETE", path: "/api/v1/documents/{id}/shares/{share_id}", params: ["id", "share_id"], query: [], body: "none", answer: "empty", access: "token" },
  listComments: { method: "GET", path: "/api/v1/documents/{id}/comments", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  addComment: { method: "POST", path: "/api/v1/documents/{id}/comments", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  holdDocument: { method: "POST", path: "/api/v1/documents/{id}/hold", params: ["id"], query: [], body: "json", answer: "json", access: "operator" },
  releaseDocument: { method: "DELETE", path: "/api/v1/documents/{id}/hold", params: ["id"], query: [], body: "none", answer: "json", access: "operator" },
  listSignatures: { method: "GET", path: "/api/v1/documents/{id}/signatures", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  getSharedDocument: { method: "GET", path: "/api/v1/shared/{token}", params: ["token"], query: [], body: "none", answer: "json", access: "public" },
  getSharedContent: { method: "GET", path: "/api/v1/shared/{token}/content", params: ["token"], query: [], body: "none", answer: "bytes", access: "public" },
  listClients: { method: "GET", path: "/api/v1/clients", params: [], query: [], body: "none", answer: "json", access: "token" },
  createClient: { method: "POST", path: "/api/v1/clients", params: [], query: [], body: "json", answer: "json", access: "token" },
  getClient: { method: "GET", path: "/api/v1/clients/{id}", params: ["id"], query: [], body: "none", answer: "json", access: "token" },
  patchClient: { method: "PATCH", path: "/api/v1/clients/{id}", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  deleteClient: { method: "DELETE", path: "/api/v1/clients/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  listKeys: { method: "GET", path: "/api/v1/keys", params: [], query: [], body: "none", answer: "json", access: "token" },
  addKey: { method: "POST", path: "/api/v1/keys", params: [], query: [], body: "json", answer: "json", access: "token" },
  removeKey: { method: "DELETE", path: "/api/v1/keys/{id}", params: ["id"], query: [], body: "none", answer: "empty", access: "token" },
  requestSignature: { method: "POST", path: "/api/v1/signatures", params: [], query: [], body: "json", answer: "json", access: "token" },
  sign: { method: "POST", path: "/api/v1/signatures/{id}/sign", params: ["id"], query: [], body: "json", answer: "json", access: "token" },
  health: { method: "GET", path: "/api/health", params: [], query: [], body: "none", answer: "json", access: "public" },
  auditKey: { method: "GET", path: "/api/v1/audit/key", params: [], query: [], body: "none", answer: "json", access: "public" },
  auditCheckpoint: { method: "GET", path: "/api/v1/audit/checkpoint", params: [], query: [], body: "none", answer: "bytes", access: "public" },
  auditCheckpoints: { method: "GET", path: "/api/v1/audit/checkpoints", params: [], query: ["before", "limit"], body: "none", answer: "json", access: "public" },
  auditEntries: { method: "GET", path: "/api/v1/audit/entries", params: [], query: ["from", "limit"], body: "none", answer: "json", access: "operator" },
  auditEntry: { method: "GET", path: "/api/v1/audit/entries/{index}", params: ["index"], query: [], body: "none", answer: "json", access: "operator" },
  auditInclusionProof: { method: "GET", path: "/api/v1/audit/proof/inclusion", params: [], query: ["index", "size"], body: "none", answer: "json", access: "operator" },
  auditConsistencyProof: { method: "GET", path: "/api/v1/audit/proof/consistency", params: [], query: ["from", "to"], body: "none", answer: "json", access: "operator" },
  wormIntegrity: { method: "GET", path: "/api/debug/worm/integrity", params: [], query: [], body: "none", answer: "json", access: "operator" },
  wormReanchor: { method: "POST", path: "/api/debug/worm/reanchor", params: [], query: [], body: "none", answer: "json", access: "operator" },
  jobsHealth: { method: "GET", path: "/api/debug/jobs/health", params: [], query: [], body: "none", answer: "json", access: "operator" },
  gamificationStatus: { method: "GET", path: "/api/debug/gamification/status", params: [], query: [], body: "none", answer: "json", access: "operator" },
  runJob: { method: "POST", path: "/api/debug/jobs/{name}/run", params: ["name"], query: [], body: "none", answer: "json", access: "operator" },
  openapi: { method: "GET", path: "/api/openapi.json", params: [], query: [], body: "none", answer: "json", access: "public" },
  devToken: { method: "POST", path: "/api/dev/token", params: [], query: [], body: "json", answer: "json", access: "public" },
  devSampleTask: { method: "POST", path: "/api/dev/sample-task", params: [], query: [], body: "json", answer: "json", access: "token" },
} as const;
