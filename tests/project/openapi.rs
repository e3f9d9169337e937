//! The OpenAPI document (`/api/openapi.json`) and the SDK's REST client, both made from the
//! route table of `src/http/api.rs`: every route in the document answers (none is missing from
//! the router, none is described that does not exist), real answers of a running hub validate
//! against the document's schemas, and `client-sdk/src/generated/rest.ts` is up to date.

use crate::common;

use common::{Backend, TestHub, lasting_token as token};
use hub::http::api::{self, Access, Answer, Body, Route};
use hub_protocol::AccountRole;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const GENERATED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/client-sdk/src/generated/rest.ts"
);
const PROTOCOL_TS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/client-sdk/src/generated/protocol.ts"
);

async fn dev_hub() -> TestHub {
    TestHub::start_with(Backend::Sqlite, |c| c.environment = "development".into()).await
}

async fn document(hub: &TestHub) -> Value {
    let (status, doc) = hub.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

fn fill(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "nope" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_describes_every_route_and_only_routes_that_exist() {
    let hub = dev_hub().await;
    let doc = document(&hub).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let table = api::active_routes(true);
    let mut described = 0;
    for r in &table {
        let op = &paths[r.path][r.verb.as_str().to_ascii_lowercase()];
        assert_eq!(op["operationId"], r.id, "{} {}", r.verb.as_str(), r.path);
        described += 1;
    }
    let in_doc: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        in_doc, described,
        "the document has operations the table lacks"
    );
    // Every operation reaches its handler: neither the router's 404 nor its 405.
    let admin = token("root", AccountRole::Admin);
    for r in &table {
        let method = Method::from_bytes(r.verb.as_str().as_bytes()).unwrap();
        let (status, body) = hub
            .call(method, &fill(r.path), Some(&admin), Some(json!({})))
            .await;
        assert_ne!(status, 405, "{} {}: {body}", r.verb.as_str(), r.path);
        assert!(
            !(status == 404 && body["error"]["message"] == "no such route"),
            "{} {} is described but not routed",
            r.verb.as_str(),
            r.path
        );
    }
    // What answers without a token is documented as such: every GET that a request without a
    // token does not get `401` from declares an empty security requirement.
    for r in table.iter().filter(|r| r.verb.as_str() == "GET") {
        let (status, _) = hub.call(Method::GET, &fill(r.path), None, None).await;
        let op = &paths[r.path]["get"];
        let anonymous_ok = op["security"]
            .as_array()
            .is_some_and(|s| s.is_empty() || s.iter().any(|req| req == &json!({})));
        if status != 401 {
            assert!(
                anonymous_ok,
                "GET {} answers {status} without a token but asks for one",
                r.path
            );
        }
    }
    // Operation ids are unique (they are the SDK's method names).
    let ids: BTreeSet<&str> = table.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), table.len());
    // Path parameters are declared.
    let op = &paths["/api/v1/ventures/{id}/members/{user}"]["delete"];
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "user"]);
    // Query parameters come from the handlers' query types.
    let op = &paths["/api/v1/notifications"]["get"];
    let names: BTreeSet<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["unread", "before", "limit"]));
    hub.stop().await.unwrap();
}

/// Routes outside the table are only the non-REST ones: metrics, the y-websocket upgrade and
/// the demo page's assets.
#[test]
fn no_rest_route_is_registered_outside_the_table() {
    let mut seen = Vec::new();
    for file in ["src/http/mod.rs", "src/http/web.rs"] {
        let text =
            std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for part in text.split(".route(").skip(1) {
            let path = part.trim_start().strip_prefix('"').expect("a literal path");
            seen.push(path.split('"').next().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen,
        [
            "/metrics",
            "/yjs/{doc}",
            "/",
            "/assets/app.js",
            "/assets/app.css",
            "/favicon.svg"
        ]
    );
}

#[tokio::test]
async fn the_development_token_route_exists_only_in_development() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let doc = document(&hub).await;
    assert!(doc["paths"].get("/api/dev/token").is_none());
    let (status, body) = hub
        .call(
            Method::POST,
            "/api/dev/token",
            None,
            Some(json!({"user_id": "ann"})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    hub.stop().await.unwrap();

    let hub = dev_hub().await;
    let (status, ann) = hub
        .call(
            Method::POST,
            "/api/dev/token",
            None,
            Some(json!({"user_id": "ann", "name": "Ann"})),
        )
        .await;
    assert_eq!(status, 200, "{ann}");
    let (status, bob) = hub
        .call(
            Method::POST,
            "/api/dev/token",
            None,
            Some(json!({"user_id": "bob"})),
        )
        .await;
    assert_eq!(status, 200, "{bob}");
    // Both are members of the one demo venture, which has one shared document.
    assert_eq!(ann["venture_id"], bob["venture_id"]);
    assert_eq!(ann["doc_id"], bob["doc_id"]);
    assert_eq!(bob["name"], "bob");
    let (status, me) = hub.get("/api/v1/me", ann["token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["name"], "Ann");
    assert_eq!(me["ventures"][0]["id"], ann["venture_id"]);
    assert_eq!(me["ventures"][0]["role"], "member");
    let (status, docs) = hub
        .get(
            &format!(
                "/api/v1/docs?room=venture:{}",
                ann["venture_id"].as_str().unwrap()
            ),
            bob["token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{docs}");
    assert_eq!(docs["docs"].as_array().unwrap().len(), 1);
    hub.stop().await.unwrap();
    // Behind a trusted proxy, a remote client is refused even though the peer is local.
    let hub = TestHub::start_with(Backend::Sqlite, |c| {
        c.environment = "development".into();
        c.rest_limits.forwarded = hub::limits::Forwarded::Hops(1);
        c.conn_limits = hub_rooms::conns::ConnLimits::none();
    })
    .await;
    let refused = hub
        .http
        .post(hub.url("/api/dev/token"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"user_id": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let local = hub
        .http
        .post(hub.url("/api/dev/token"))
        .header("x-forwarded-for", "127.0.0.1")
        .json(&json!({"user_id": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status().as_u16(), 200);
    for (bad, field) in [
        (json!({"user_id": "a b"}), "user"),
        (json!({"user_id": "ann", "ttl_secs": 0}), "ttl_secs"),
        (json!({"user_id": "ann", "ttl_secs": 700_000}), "ttl_secs"),
        (json!({"user_id": "ann", "role": "root"}), ""),
        (json!({"user_id": "ann", "role": "system"}), "system"),
    ] {
        let (status, err) = hub
            .call(Method::POST, "/api/dev/token", None, Some(bad.clone()))
            .await;
        assert!([400, 422].contains(&status), "{bad}: {status} {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "{bad}: {err}"
        );
    }
    hub.stop().await.unwrap();
}

/// Calls operations by id and validates every JSON answer against the document.
struct Checked<'a> {
    hub: &'a TestHub,
    doc: Value,
    routes: BTreeMap<&'static str, Route>,
    validated: BTreeSet<String>,
}

impl<'a> Checked<'a> {
    async fn new(hub: &'a TestHub) -> Checked<'a> {
        let doc = document(hub).await;
        let routes = api::active_routes(true)
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Checked {
            hub,
            doc,
            routes,
            validated: BTreeSet::new(),
        }
    }

    fn validate(&mut self, id: &str, status: u16, body: &Value) {
        let r = &self.routes[id];
        let op = &self.doc["paths"][r.path][r.verb.as_str().to_ascii_lowercase()];
        let answer = op["responses"]
            .get(status.to_string())
            .unwrap_or(&op["responses"]["default"]);
        let schema = &answer["content"]["application/json"]["schema"];
        if schema.is_null() {
            assert!(
                body.is_null(),
                "{id} {status}: no body described, got {body}"
            );
            self.validated.insert(format!("{id} {status}"));
            return;
        }
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{id}: schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{id} {status}: {body}\n{}",
            errors.join("\n")
        );
        self.validated.insert(format!("{id} {status}"));
    }

    async fn call(
        &mut self,
        id: &str,
        params: &[&str],
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let r = &self.routes[id];
        let mut path = String::new();
        let mut given = params.iter();
        let query = params.iter().find_map(|p| p.strip_prefix('?'));
        for seg in r.path.split('/').skip(1) {
            path.push('/');
            if seg.starts_with('{') {
                path.push_str(given.next().expect("a value for each path parameter"));
            } else {
                path.push_str(seg);
            }
        }
        if let Some(q) = query {
            path.push('?');
            path.push_str(q);
        }
        let method = Method::from_bytes(r.verb.as_str().as_bytes()).unwrap();
        let (status, answer) = self.hub.call(method, &path, token, body).await;
        self.validate(id, status, &answer);
        (status, answer)
    }

    async fn ok(&mut self, id: &str, params: &[&str], token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(id, params, Some(token), body).await;
        assert!((200..300).contains(&status), "{id}: {status} {answer}");
        answer
    }
}

#[tokio::test]
async fn real_answers_validate_against_the_document() {
    let hub = dev_hub().await;
    let mut api = Checked::new(&hub).await;
    let ann = api
        .ok(
            "devToken",
            &[],
            "",
            Some(json!({"user_id": "ann", "name": "Ann"})),
        )
        .await;
    let ann = ann["token"].as_str().unwrap().to_owned();
    let bob = token("bob", AccountRole::User);
    let admin = token("root", AccountRole::Admin);
    let ann = ann.as_str();

    api.ok("health", &[], &ann, None).await;
    api.ok("getMe", &[], ann, None).await;
    let v = api
        .ok(
            "createVenture",
            &[],
            ann,
            Some(json!({"name": "Acme", "description": "d"})),
        )
        .await;
    let v = v["id"].as_str().unwrap().to_owned();
    api.ok("listVentures", &[], ann, None).await;
    api.ok(
        "putVentureMember",
        &[&v],
        ann,
        Some(json!({"user_id": "bob", "role": "member"})),
    )
    .await;
    let mine = api.ok("listInvitations", &[], &bob, None).await;
    let inv = mine["invitations"][0]["id"].as_str().unwrap().to_owned();
    api.ok("acceptInvitation", &[&inv], &bob, Some(json!({})))
        .await;
    api.ok("getVenture", &[&v], ann, None).await;
    let t = api
        .ok("createTeam", &[&v], ann, Some(json!({"name": "Core"})))
        .await;
    let t = t["id"].as_str().unwrap().to_owned();
    api.ok(
        "putTeamMember",
        &[&t],
        ann,
        Some(json!({"user_id": "bob", "role": "member"})),
    )
    .await;
    let mine = api.ok("listInvitations", &[], &bob, None).await;
    let inv = mine["invitations"][0]["id"].as_str().unwrap().to_owned();
    api.ok("acceptInvitation", &[&inv], &bob, Some(json!({})))
        .await;
    // An invitation declined.
    let carol = token("carol", AccountRole::User);
    api.ok(
        "putVentureMember",
        &[&v],
        ann,
        Some(json!({"user_id": "carol", "role": "viewer"})),
    )
    .await;
    let mine = api.ok("listInvitations", &[], &carol, None).await;
    let inv = mine["invitations"][0]["id"].as_str().unwrap().to_owned();
    api.ok("declineInvitation", &[&inv], &carol, None).await;
    api.ok("getTeam", &[&t], ann, None).await;
    api.ok("listRooms", &[], ann, None).await;
    let room = format!("venture:{v}");
    let d = api
        .ok(
            "createDoc",
            &[],
            ann,
            Some(json!({"room": room, "title": "Notes"})),
        )
        .await;
    let d = d["id"].as_str().unwrap().to_owned();
    api.ok("listDocs", &[&format!("?room={room}")], ann, None)
        .await;
    api.ok("getDoc", &[&d], ann, None).await;
    api.ok("taskAccepted", &[], &admin, Some(json!({"task_id": "t1", "user_id": "bob", "venture_id": v, "tier": "C", "quality": 1.0, "reviewer_trust": 100}))).await;
    api.ok("reviewDone", &[], &admin, Some(json!({"review_id": "r1", "reviewer_id": "ann", "user_id": "bob", "helpful": true, "agreed": true, "quality": 1, "reviewer_trust": 1}))).await;
    api.ok("getVentureActivity", &[&v], ann, None).await;
    api.ok("getLeaderboard", &[&v], ann, None).await;
    api.ok("listNotifications", &[], &bob, None).await;
    api.ok(
        "markNotificationsRead",
        &[],
        &bob,
        Some(json!({"all": true})),
    )
    .await;
    api.ok("getMyProfile", &[], &bob, None).await;
    api.ok(
        "patchMyProfile",
        &[],
        &bob,
        Some(json!({"bio": "hi", "nickname": null})),
    )
    .await;
    api.ok("getProfile", &["bob"], ann, None).await;
    api.ok(
        "createSkill",
        &[],
        &admin,
        Some(json!({"name": "Rust", "category": "Engineering"})),
    )
    .await;
    api.ok("listSkills", &[], ann, None).await;
    api.ok(
        "addMySkill",
        &[],
        &bob,
        Some(json!({"skill": "Rust", "level": 3})),
    )
    .await;
    api.ok(
        "endorse",
        &[],
        ann,
        Some(json!({"user_id": "bob", "skill": "Rust", "rating": 4})),
    )
    .await;
    api.ok("verifySkill", &["bob", "Rust"], ann, None).await;
    let item = api
        .ok(
            "addPortfolioItem",
            &[],
            &bob,
            Some(json!({"title": "Shipped", "description": "x"})),
        )
        .await;
    api.ok("getMyPortfolio", &[], &bob, None).await;
    api.ok("getPortfolio", &["bob"], ann, None).await;
    api.ok(
        "deletePortfolioItem",
        &[item["id"].as_str().unwrap()],
        &bob,
        None,
    )
    .await;
    api.ok("listBadges", &[], ann, None).await;
    api.ok(
        "createBadge",
        &[],
        &admin,
        Some(json!({"code": "helper", "name": "Helper", "rule": {"type": "MANUAL"}})),
    )
    .await;
    api.ok(
        "patchBadge",
        &["helper"],
        &admin,
        Some(json!({"description": "Helps"})),
    )
    .await;
    api.ok(
        "awardBadge",
        &["helper"],
        &admin,
        Some(json!({"user_id": "bob"})),
    )
    .await;
    api.ok("evaluateBadges", &[], &bob, Some(json!({}))).await;
    api.ok("getMyWallet", &[], &bob, None).await;
    api.ok("getMyLedger", &[], &bob, None).await;
    api.ok("verifyMyWallet", &[], &bob, None).await;
    api.ok("getMyWithheld", &[], &bob, None).await;
    api.ok("getWallet", &["bob"], &admin, None).await;
    api.ok(
        "adjustWallet",
        &["bob"],
        &admin,
        Some(json!({"amount": 5, "note": "welcome"})),
    )
    .await;
    api.ok("listConversionWindows", &[], &bob, None).await;
    api.ok("getActiveWindow", &[], &bob, None).await;
    api.ok("listConversions", &[], &bob, None).await;
    let c = api
        .ok(
            "createClient",
            &[],
            ann,
            Some(json!({"name": "Client Co", "email": "c@example.com"})),
        )
        .await;
    let c = c["id"].as_str().unwrap().to_owned();
    api.ok("getClient", &[&c], ann, None).await;
    api.ok(
        "patchClient",
        &[&c],
        ann,
        Some(json!({"phone": null, "tags": ["vip"]})),
    )
    .await;
    api.ok("listClients", &[], ann, None).await;
    api.ok("listDocuments", &[], ann, None).await;
    api.ok("listKeys", &[], ann, None).await;
    api.ok("wormIntegrity", &[], &admin, None).await;
    api.ok("jobsHealth", &[], &admin, None).await;
    api.ok("gamificationStatus", &[], &admin, None).await;
    api.ok("runJob", &["badges-hourly"], &admin, None).await;
    api.ok("deleteClient", &[&c], ann, None).await;
    api.ok("removeTeamMember", &[&t, "bob"], ann, None).await;
    api.ok("deleteDoc", &[&d], ann, None).await;
    api.ok("removeVentureMember", &[&v, "bob"], ann, None).await;
    api.ok("openapi", &[], ann, None).await;
    // Errors validate as the error body.
    let (status, _) = api.call("getVenture", &["nope"], Some(ann), None).await;
    assert_eq!(status, 404);
    let (status, _) = api.call("getMe", &[], None, None).await;
    assert_eq!(status, 401);
    let (status, _) = api
        .call("createVenture", &[], Some(ann), Some(json!({"name": ""})))
        .await;
    assert_eq!(status, 422);
    let (status, _) = api
        .call(
            "createSkill",
            &[],
            Some(ann),
            Some(json!({"name": "Go", "category": "Engineering"})),
        )
        .await;
    assert_eq!(status, 403);
    let distinct: BTreeSet<&str> = api
        .validated
        .iter()
        .map(|k| k.split(' ').next().unwrap())
        .collect();
    assert!(
        distinct.len() >= 61,
        "only {} operations validated",
        distinct.len()
    );
    hub.stop().await.unwrap();
}

/// The TypeScript of `client-sdk/src/generated/rest.ts`: every operation with its method,
/// path, parameters, body and answer, typed with the generated wire types.
fn render_rest_ts() -> String {
    let protocol = std::fs::read_to_string(PROTOCOL_TS).unwrap();
    let known = |name: &str| protocol.contains(&format!("export type {name} "));
    let mut imports = BTreeSet::new();
    let mut types = String::new();
    let mut table = String::new();
    for r in api::routes() {
        let params = r.path_params();
        let query = r.query_params();
        for (name, _, _) in &query {
            assert!(
                !params.contains(&name.as_str()),
                "{}: {name} is both in the path and the query",
                r.id
            );
        }
        let mut args: Vec<String> = params.iter().map(|p| format!("{p}: string")).collect();
        for (name, required, schema) in &query {
            let kind = match schema["type"]
                .as_str()
                .or_else(|| schema["type"][0].as_str())
            {
                Some("integer" | "number") => "number",
                Some("boolean") => "boolean",
                _ => "string",
            };
            args.push(format!(
                "{name}{}: {kind}",
                if *required { "" } else { "?" }
            ));
        }
        let (body_kind, body_ts) = match r.body {
            Body::None => ("none", None),
            Body::Json(s) => {
                let name = (s.name)();
                assert!(known(&name), "{}: {name} is not a generated type", r.id);
                imports.insert(name.clone());
                ("json", Some(name))
            }
            Body::Bytes => ("bytes", Some("Uint8Array | ArrayBuffer | Blob".to_owned())),
            Body::Form(_) => ("form", Some("FormData".to_owned())),
        };
        if let Some(b) = &body_ts {
            args.push(format!("body: {b}"));
        }
        let (answer_kind, answer_ts) = match r.answer {
            Answer::Json(s) => {
                let name = (s.name)();
                assert!(known(&name), "{}: {name} is not a generated type", r.id);
                imports.insert(name.clone());
                ("json", name)
            }
            Answer::AnyJson => ("json", "Record<string, unknown>".to_owned()),
            Answer::Empty => ("empty", "void".to_owned()),
            Answer::Bytes(_) => ("bytes", "ArrayBuffer".to_owned()),
        };
        let args_ts = if args.is_empty() {
            "Record<string, never>".to_owned()
        } else {
            format!("{{ {} }}", args.join("; "))
        };
        let access = match r.access {
            Access::Token => "token",
            Access::Optional => "optional",
            Access::Public => "public",
            Access::Operator => "operator",
            Access::Server(_) => "server",
        };
        types.push_str(&format!(
            "  /** {}{} */\n  {}: {{ args: {args_ts}; answer: {answer_ts} }};\n",
            r.summary,
            if r.dev_only {
                " (development only)"
            } else {
                ""
            },
            r.id
        ));
        let quote = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let query_names: Vec<&str> = query.iter().map(|(n, _, _)| n.as_str()).collect();
        table.push_str(&format!(
            "  {}: {{ method: \"{}\", path: \"{}\", params: [{}], query: [{}], body: \"{body_kind}\", answer: \"{answer_kind}\", access: \"{access}\" }},\n",
            r.id,
            r.verb.as_str(),
            r.path,
            quote(&params),
            quote(&query_names),
        ));
    }
    let mut out = String::from(
        "// Generated from the hub's REST table (src/http/api.rs). Do not edit by hand:\n\
         // run `UPDATE_GENERATED=1 cargo test --test project openapi::` after changing a route.\n\n",
    );
    out.push_str(&format!(
        "import type {{ {} }} from \"./protocol.js\";\n\n",
        imports.into_iter().collect::<Vec<_>>().join(", ")
    ));
    out.push_str("/** Every REST operation by id: its arguments (path and query parameters, `body`) and its answer. */\nexport interface RestOperations {\n");
    out.push_str(&types);
    out.push_str("}\n\n/** How each operation is called. */\nexport const REST_OPERATIONS = {\n");
    out.push_str(&table);
    out.push_str("} as const;\n");
    out
}

#[test]
fn the_sdk_rest_client_is_generated_from_the_table() {
    let fresh = render_rest_ts();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(GENERATED, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(GENERATED).unwrap_or_default();
    assert!(
        current == fresh,
        "client-sdk/src/generated/rest.ts is stale: run `UPDATE_GENERATED=1 cargo test --test project openapi::`"
    );
}
