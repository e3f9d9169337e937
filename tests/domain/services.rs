//! The services built alone, as the wiring builds them for the transports: on each backend,
//! over the in-process bus, with a manual clock. What a transport calls is checked here without
//! one: the use cases of ventures, teams and invitations, events in, notifications.

use crate::common::{Backend, TestDb};
use hub::bus::LocalBus;
use hub::clock::{ManualClock, rfc3339};
use hub::error::{AppError, DomainError};
use hub::services::access::Caller;
use hub::services::events::{EventError, EventIn};
use hub::services::groups::{GroupError, MemberOutcome};
use hub::services::server::Grant;
use hub::services::{Services, ServicesConfig};
use hub::store::{Store, StoreError};
use hub_protocol::events::KycEvent;
use hub_protocol::{AccountRole, ErrorCode, Role, UserId};
use std::sync::Arc;

on_both_backends!(
    ventures_teams_and_invitations_run_without_a_transport,
    events_in_are_checked_before_they_are_stored,
    notification_reads_refuse_what_cannot_be_met,
);

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;

struct Built {
    services: Arc<Services>,
    clock: Arc<ManualClock>,
    _db: TestDb,
}

async fn built(backend: Backend) -> Built {
    let db = TestDb::new(backend).await;
    let clock = ManualClock::new(START_MS);
    let store = Store::connect(&db.url, 4)
        .await
        .expect("connect")
        .with_clock(clock.clone());
    store.migrate().await.expect("migrate");
    let files = hub::services::files::FilesConfig {
        dir: db.dir().join("files"),
        ..Default::default()
    };
    let blobs = hub::open_blobs(&files).await.expect("blobs");
    let services = Services::new(
        "node-a".to_owned().into(),
        Arc::new(LocalBus::new()),
        store.clone(),
        blobs,
        ServicesConfig::default(),
        clock.clone(),
    );
    for (id, name) in [("alice", "Alice"), ("bob", "Bob")] {
        store
            .upsert_user(&UserId::from(id), name, AccountRole::User)
            .await
            .expect("user");
    }
    Built {
        services,
        clock,
        _db: db,
    }
}

fn user(id: &UserId) -> Caller<'_> {
    Caller {
        user: id,
        privileged: false,
    }
}

async fn ventures_teams_and_invitations_run_without_a_transport(backend: Backend) {
    let b = built(backend).await;
    let s = &b.services;
    let (alice, bob) = (UserId::from("alice"), UserId::from("bob"));

    let venture = s
        .groups
        .venture_create(user(&alice), "  Acme  ", Some("rockets"))
        .await
        .unwrap();
    assert_eq!(venture.name, "Acme", "names are trimmed");
    assert_eq!(venture.role, Some(Role::Owner));
    assert_eq!(
        venture.created_at,
        rfc3339(START_MS),
        "the services' clock stamps it"
    );
    match s.groups.venture_create(user(&alice), " ", None).await {
        Err(e @ GroupError::Invalid(_)) => assert_eq!(e.code(), ErrorCode::Invalid),
        other => panic!("a blank name: {other:?}"),
    }

    // Someone outside the venture sees nothing of it, and cannot make teams in it.
    let hidden = s
        .groups
        .venture_detail(user(&bob), &venture.id)
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), ErrorCode::NotFound);
    let refused = s
        .groups
        .team_create(user(&bob), &venture.id, "Ops")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);

    // A new member is invited; the invitation waits for them, and accepting makes the member.
    b.clock.advance(std::time::Duration::from_secs(60));
    let (outcome, set) = s
        .groups
        .venture_member_set(user(&alice), &venture.id, &bob, Role::Member)
        .await
        .unwrap();
    assert_eq!(outcome, MemberOutcome::Invited);
    assert_eq!(set.status, "invited");
    let invitation = set.invitation.expect("the invitation");
    let waiting = s.groups.invitations_of(&bob).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, invitation.id);
    let member = s
        .groups
        .invitation_accept(&bob, &invitation.id)
        .await
        .unwrap();
    assert_eq!(
        (member.user_id.as_str(), member.role),
        ("bob", Role::Member)
    );
    assert_eq!(member.added_at, rfc3339(START_MS + 60_000));
    let again = s
        .groups
        .invitation_accept(&bob, &invitation.id)
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        ErrorCode::NotFound,
        "an invitation is accepted once"
    );

    let team = s
        .groups
        .team_create(user(&alice), &venture.id, "Ops")
        .await
        .unwrap();
    let detail = s
        .groups
        .venture_detail(user(&alice), &venture.id)
        .await
        .unwrap();
    let members: Vec<&str> = detail.members.iter().map(|m| m.user_id.as_str()).collect();
    assert_eq!(members, vec!["alice", "bob"]);
    assert_eq!(detail.teams.len(), 1);
    assert_eq!(detail.teams[0].id, team.id);
    assert_eq!(
        detail.teams[0].role,
        Some(Role::Owner),
        "alice made the team"
    );
    // A team takes venture members by invitation too; it names the team it is for.
    let (outcome, set) = s
        .groups
        .team_member_set(user(&alice), &team.id, &bob, Role::Viewer)
        .await
        .unwrap();
    assert_eq!(outcome, MemberOutcome::Invited);
    let to_team = &s.groups.invitations_of(&bob).await.unwrap()[0];
    assert_eq!(to_team.id, set.invitation.expect("the invitation").id);
    assert_eq!(
        (to_team.team_id.as_ref(), to_team.team_name.as_deref()),
        (Some(&team.id), Some("Ops"))
    );
    assert_eq!(
        (to_team.venture_name.as_str(), to_team.role),
        ("Acme", Role::Viewer)
    );
    s.groups
        .invitation_decline(&bob, &to_team.id)
        .await
        .unwrap();
    assert!(s.groups.invitations_of(&bob).await.unwrap().is_empty());

    let rooms: Vec<String> = s
        .groups
        .rooms_of(&bob)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.room.to_string())
        .collect();
    assert_eq!(rooms, vec![format!("venture:{}", venture.id)]);

    // A member, not a manager: bob cannot remove alice, and the refusal changes nothing.
    let denied = s
        .groups
        .venture_member_remove(user(&bob), &venture.id, &alice)
        .await
        .unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Forbidden);
    s.groups
        .venture_member_remove(user(&alice), &venture.id, &bob)
        .await
        .unwrap();
    let (ventures, _) = s.groups.groups_of(&bob).await.unwrap();
    assert!(ventures.is_empty(), "bob is out: {ventures:?}");
    let gone = s
        .groups
        .venture_member_remove(user(&alice), &venture.id, &bob)
        .await
        .unwrap_err();
    assert_eq!(gone.public_message(), "no such member or invitation");
}

async fn events_in_are_checked_before_they_are_stored(backend: Backend) {
    let b = built(backend).await;
    let kyc = KycEvent {
        user_id: UserId::from("bob"),
        status: "PASSED".into(),
        kyc_id: Some("k-1".into()),
    };
    let alice = UserId::from("alice");
    let refused = b
        .services
        .events
        .from_service(
            &Grant::of_account(&alice, AccountRole::User),
            EventIn::Kyc(&kyc),
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, EventError::Forbidden), "{refused:?}");
    let system = &Grant::of_account(&alice, AccountRole::System);
    let bad = KycEvent {
        status: "MAYBE".into(),
        ..kyc.clone()
    };
    let refused = b
        .services
        .events
        .from_service(system, EventIn::Kyc(&bad))
        .await
        .unwrap_err();
    let answer = AppError::from(refused);
    assert_eq!(
        (answer.status.as_u16(), answer.code),
        (400, ErrorCode::Invalid)
    );
    let first = b
        .services
        .events
        .from_service(system, EventIn::Kyc(&kyc))
        .await
        .unwrap();
    let replay = b
        .services
        .events
        .from_service(system, EventIn::Kyc(&kyc))
        .await
        .unwrap();
    assert_eq!((first.duplicate, replay.duplicate), (false, true));
    assert_eq!(first.id, replay.id);
}

async fn notification_reads_refuse_what_cannot_be_met(backend: Backend) {
    let b = built(backend).await;
    let bob = UserId::from("bob");
    let page = b
        .services
        .notifications
        .page(&bob, false, None, None)
        .await
        .unwrap();
    assert_eq!((page.notifications.len(), page.unread_count), (0, 0));
    let too_many = b
        .services
        .notifications
        .page(&bob, false, None, Some(101))
        .await
        .unwrap_err();
    assert!(matches!(too_many, StoreError::Invalid(_)), "{too_many:?}");
    let both = b
        .services
        .notifications
        .mark_read(&bob, Some(vec!["n1".into()]), Some(true))
        .await
        .unwrap_err();
    assert_eq!(
        both.public_message(),
        "give either {ids: [...]} or {all: true}"
    );
    let many: Vec<hub_protocol::NotificationId> =
        (0..1001).map(|i| format!("n{i}").into()).collect();
    let refused = b
        .services
        .notifications
        .mark_read(&bob, Some(many), None)
        .await
        .unwrap_err();
    assert_eq!(refused.public_message(), "ids: at most 1000 at a time");
    let none = b
        .services
        .notifications
        .mark_read(&bob, None, Some(true))
        .await
        .unwrap();
    assert_eq!(none, 0);
}

/// Every domain error converts to the HTTP error through its code and public message; an
/// internal cause is never sent, and a refusal about a field keeps `400`.
#[test]
fn a_domain_error_keeps_its_code_and_says_only_its_public_message() {
    let cases: Vec<(AppError, u16, ErrorCode, &str)> = vec![
        (
            StoreError::Db(sqlx::Error::PoolTimedOut).into(),
            503,
            ErrorCode::Unavailable,
            "the database is unavailable; retry later",
        ),
        (
            StoreError::Db(sqlx::Error::Protocol("secret detail".into())).into(),
            500,
            ErrorCode::Internal,
            "internal error",
        ),
        (
            StoreError::Busy("too many writes wait for u1".into()).into(),
            429,
            ErrorCode::Busy,
            "too many writes wait for u1",
        ),
        (
            hub_rooms::fields::FieldError::new("note", "at most 3 characters").into(),
            400,
            ErrorCode::Invalid,
            "note: at most 3 characters",
        ),
        (
            hub::services::files::FileError::Unsatisfiable(10).into(),
            416,
            ErrorCode::Invalid,
            "range: outside the document's 10 bytes",
        ),
    ];
    for (error, status, code, message) in cases {
        assert_eq!(
            (error.status.as_u16(), error.code, error.message.as_str()),
            (status, code, message)
        );
    }
}
