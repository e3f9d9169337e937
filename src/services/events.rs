//! Events in: the platform's other services tell the hub what happened. Each event is checked
//! (`hub_rooms::events`), stored once by its kind and own id, audited in the user's chain, and
//! reacted to (XP, BUZ, the facts badge rules read, badges), all in one transaction: an event is
//! fully applied or not at all, and a replay answers `duplicate` and changes nothing. What
//! reaches people (notifications, the feed, leaderboards) goes out after the commit.

use super::badges::Badges;
use super::effects::{Effects, FeedTo};
use super::wallets::Wallets;
use super::writes::{Reads, Writes};
use super::xp::Xp;
use crate::error::DomainError;
use crate::store::{NewAudit, NewEvent, Stat, Store, StoreError, StoreResult, WriteTx};
use hub_protocol::ErrorCode;
use hub_protocol::UserId;
use hub_protocol::events::{
    BugEvent, DeviceEvent, EventAccepted, KycEvent, ReviewEvent, TaskAccepted, ViolationEvent,
};
use hub_rooms::events::{Checked, FieldError};
use hub_rooms::gamification::{review_xp, task_xp};
use serde_json::json;
use std::sync::Arc;

/// An event in, typed.
#[derive(Debug, Clone, Copy)]
pub enum EventIn<'a> {
    Task(&'a TaskAccepted),
    Review(&'a ReviewEvent),
    Bug(&'a BugEvent),
    Kyc(&'a KycEvent),
    Device(&'a DeviceEvent),
    Violation(&'a ViolationEvent),
}

/// Why an event from another service was refused.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Events come from `system` and `admin` accounts only.
    #[error("events come from system or admin accounts, or an API key with the `events` scope")]
    Forbidden,
    /// A field out of its range: `400 invalid` naming it (the events' contract; the hub's other
    /// routes answer `422`).
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError for EventError {
    fn code(&self) -> ErrorCode {
        match self {
            EventError::Forbidden => ErrorCode::Forbidden,
            EventError::Field(f) => f.code(),
            EventError::Store(s) => s.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            EventError::Field(f) => f.public_message(),
            EventError::Store(s) => s.public_message(),
            other => other.to_string(),
        }
    }

    fn refusal(&self) -> Option<crate::error::Refusal> {
        match self {
            EventError::Field(f) => f.refusal(),
            _ => None,
        }
    }
}

impl EventIn<'_> {
    /// The event checked against its kind's rules (`hub_rooms::events`).
    pub fn check(&self) -> Result<Checked, FieldError> {
        match self {
            EventIn::Task(e) => hub_rooms::events::task_accepted(e),
            EventIn::Review(e) => hub_rooms::events::review(e),
            EventIn::Bug(e) => hub_rooms::events::bug(e),
            EventIn::Kyc(e) => hub_rooms::events::kyc(e),
            EventIn::Device(e) => hub_rooms::events::device(e),
            EventIn::Violation(e) => hub_rooms::events::violation(e),
        }
    }

    /// The user the event is about.
    pub fn user(&self) -> &UserId {
        match self {
            EventIn::Task(e) => &e.user_id,
            EventIn::Review(e) => &e.user_id,
            EventIn::Bug(e) => &e.user_id,
            EventIn::Kyc(e) => &e.user_id,
            EventIn::Device(e) => &e.user_id,
            EventIn::Violation(e) => &e.user_id,
        }
    }

    /// Every user the event changes: its user, and a review's reviewer (whose reviews written
    /// count towards Top Reviewer).
    pub fn users(&self) -> Vec<&UserId> {
        match self {
            EventIn::Review(e) if e.reviewer_id != e.user_id => vec![&e.user_id, &e.reviewer_id],
            other => vec![other.user()],
        }
    }

    /// What applying the event reads, declared for its batch (see [`Reads`]).
    fn reads(&self, checked: &Checked) -> Reads {
        let mut reads = Reads::default();
        // A KYC event without an id of its own gets one inside the transaction.
        if !checked.id.is_empty() {
            reads
                .events
                .push((checked.kind.to_owned(), checked.id.clone()));
        }
        match self {
            EventIn::Task(e) => {
                reads.wallets.push(e.user_id.clone());
                reads
                    .xp
                    .push((e.user_id.clone(), "task", e.task_id.to_string()));
                if let Some(v) = &e.venture_id {
                    reads.ventures.push(v.to_string());
                }
            }
            EventIn::Review(e) if e.helpful => {
                reads
                    .xp
                    .push((e.user_id.clone(), "review", e.review_id.clone()));
            }
            _ => {}
        }
        reads
    }

    fn body(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            EventIn::Task(e) => serde_json::to_value(e),
            EventIn::Review(e) => serde_json::to_value(e),
            EventIn::Bug(e) => serde_json::to_value(e),
            EventIn::Kyc(e) => serde_json::to_value(e),
            EventIn::Device(e) => serde_json::to_value(e),
            EventIn::Violation(e) => serde_json::to_value(e),
        }
    }
}

/// An event in, owned: what a write of the group commit carries.
#[derive(Debug, Clone)]
enum Event {
    Task(TaskAccepted),
    Review(ReviewEvent),
    Bug(BugEvent),
    Kyc(KycEvent),
    Device(DeviceEvent),
    Violation(ViolationEvent),
}

impl Event {
    fn of(event: EventIn<'_>) -> Event {
        match event {
            EventIn::Task(e) => Event::Task(e.clone()),
            EventIn::Review(e) => Event::Review(e.clone()),
            EventIn::Bug(e) => Event::Bug(e.clone()),
            EventIn::Kyc(e) => Event::Kyc(e.clone()),
            EventIn::Device(e) => Event::Device(e.clone()),
            EventIn::Violation(e) => Event::Violation(e.clone()),
        }
    }

    fn as_in(&self) -> EventIn<'_> {
        match self {
            Event::Task(e) => EventIn::Task(e),
            Event::Review(e) => EventIn::Review(e),
            Event::Bug(e) => EventIn::Bug(e),
            Event::Kyc(e) => EventIn::Kyc(e),
            Event::Device(e) => EventIn::Device(e),
            Event::Violation(e) => EventIn::Violation(e),
        }
    }
}

/// What storing an event did: its id, whether it was new, and for a task what it did to the
/// wallet.
type Stored = (String, bool, Option<hub_protocol::wallets::BuzOutcome>);

/// Events in, and what they change.
#[derive(Clone)]
pub struct Events {
    store: Store,
    writes: Arc<Writes>,
    xp: Xp,
    badges: Badges,
    wallets: Wallets,
}

impl Events {
    pub fn new(
        store: Store,
        writes: Arc<Writes>,
        xp: Xp,
        badges: Badges,
        wallets: Wallets,
    ) -> Events {
        Events {
            store,
            writes,
            xp,
            badges,
            wallets,
        }
    }

    /// An event sent by another service through `caller` (a `system` or `admin` account):
    /// checked, then recorded and applied as [`Events::accept`] does.
    pub async fn from_service(
        &self,
        grant: &super::server::Grant,
        event: EventIn<'_>,
    ) -> Result<EventAccepted, EventError> {
        if !grant.allows(hub_protocol::server::Scope::Events) {
            return Err(EventError::Forbidden);
        }
        let checked = event.check()?;
        Ok(self.accept(checked, event, &grant.actor).await?)
    }

    /// Records a checked event sent by `by` and applies it, in the domain group commit (see
    /// [`super::writes`]): all of it or nothing, in its users' order.
    pub async fn accept(
        &self,
        checked: Checked,
        event: EventIn<'_>,
        by: &UserId,
    ) -> Result<EventAccepted, StoreError> {
        let body = event
            .body()
            .map_err(|e| StoreError::Invalid(format!("the event does not encode: {e}")))?;
        let kind = checked.kind;
        let reads = event.reads(&checked);
        let owned = Event::of(event);
        let (by, s) = (by.clone(), self.clone());
        let (id, created, buz): Stored = self
            .writes
            .write_reading(&event.users(), reads, move |w, fx| {
                Box::pin(async move { s.store_event(w, fx, checked, &owned, &body, &by).await })
            })
            .await?;
        let buz = match (buz, event) {
            (Some(outcome), _) => Some(outcome),
            (None, EventIn::Task(e)) if !created => self.wallets.task_outcome(e).await?,
            _ => None,
        };
        metrics::counter!("hub_events_in_total", "kind" => kind, "duplicate" => (!created).to_string())
            .increment(1);
        Ok(EventAccepted {
            id,
            kind: kind.to_owned(),
            duplicate: !created,
            buz,
        })
    }

    /// Stores the event once by its kind and id and, when it is new, reacts to it; inside the
    /// batch's transaction, its users already locked.
    async fn store_event(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        mut checked: Checked,
        event: &Event,
        body: &serde_json::Value,
        by: &UserId,
    ) -> StoreResult<Stored> {
        let event = event.as_in();
        let user = event.user();
        if let EventIn::Kyc(e) = event
            && e.kyc_id.is_none()
        {
            checked.id = self.store.kyc_event_id(w, user, &e.status).await?;
        }
        let created = self
            .store
            .insert_event(
                w,
                NewEvent {
                    kind: checked.kind,
                    id: &checked.id,
                    user,
                    body,
                    by,
                },
            )
            .await?;
        let buz = if created {
            // Recorded in the user's chain first, so that every transaction that touches a
            // user takes the chain's head before the user's rows (one lock order).
            self.store
                .audit(
                    w,
                    NewAudit {
                        scope: format!("user:{user}"),
                        ref_id: Some(&checked.id),
                        actor_id: Some(by.as_str()),
                        action: &format!("event.{}", checked.kind),
                        details: body.clone(),
                    },
                )
                .await?;
            self.store.ensure_profile(w, user).await?;
            self.react(w, fx, event).await?
        } else {
            None
        };
        Ok((checked.id, created, buz))
    }

    /// What a new event changes, inside its transaction; for a task, what it did to the
    /// wallet.
    async fn react(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        event: EventIn<'_>,
    ) -> StoreResult<Option<hub_protocol::wallets::BuzOutcome>> {
        let user = event.user();
        let mut buz = None;
        match event {
            EventIn::Task(e) => {
                self.store
                    .bump_stat(w, user, Stat::TasksAccepted, 1)
                    .await?;
                let xp = task_xp(&e.tier, e.quality, e.reviewer_trust);
                self.xp
                    .grant(w, fx, user, "task", e.task_id.as_str(), xp)
                    .await?;
                // The task's venture, if it names one that exists: its feed hears the task.
                let venture = match &e.venture_id {
                    Some(v) if self.store.venture_exists(w, v).await? => Some(v.clone()),
                    _ => None,
                };
                buz = Some(self.wallets.credit_task(w, fx, e, venture.as_ref()).await?);
                if let Some(venture) = venture {
                    fx.feed(
                        FeedTo::Venture(venture),
                        Some(user),
                        "task.accepted",
                        ("task", e.task_id.as_str()),
                        json!({"tier": e.tier, "quality": e.quality, "xp": xp}),
                    );
                }
            }
            EventIn::Review(e) => {
                // Reviews written count for the reviewer (Top Reviewer: helpful reviews given,
                // and the share of them that agreed); the XP of a helpful review goes to the
                // user whose work it reviewed.
                let reviewer = &e.reviewer_id;
                self.store.ensure_profile(w, reviewer).await?;
                self.store.bump_stat(w, reviewer, Stat::Reviews, 1).await?;
                if e.agreed {
                    self.store
                        .bump_stat(w, reviewer, Stat::ReviewsAgreed, 1)
                        .await?;
                }
                if e.helpful {
                    self.store
                        .bump_stat(w, reviewer, Stat::HelpfulReviews, 1)
                        .await?;
                    let xp = review_xp(true, e.reviewer_trust);
                    self.xp
                        .grant(w, fx, user, "review", &e.review_id, xp)
                        .await?;
                }
                if reviewer != user {
                    self.badges.evaluate(w, fx, reviewer).await?;
                }
            }
            EventIn::Bug(e) => {
                if e.severity == "critical" {
                    self.store.bump_stat(w, user, Stat::CriticalBugs, 1).await?;
                }
            }
            EventIn::Kyc(e) => self.store.set_kyc(w, user, &e.status).await?,
            EventIn::Device(e) => {
                self.store
                    .device_report(w, user, &e.date, e.compliant)
                    .await?
            }
            EventIn::Violation(_) => {
                self.store
                    .bump_stat(w, user, Stat::PolicyViolations, 1)
                    .await?
            }
        }
        self.badges.evaluate(w, fx, user).await?;
        Ok(buz)
    }
}
