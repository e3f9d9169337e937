//! Profiles, skills, endorsements and portfolios (rules in `hub_rooms::profiles`).
//!
//! - A profile is public unless its owner made it private; a private one is "not found" to
//!   everyone but its owner, and so is its portfolio.
//! - A skill is listed from the catalog; an owner of a venture the user belongs to, or an
//!   admin, verifies it.
//! - An endorsement: never of yourself, once per (endorser, user, skill), at most 5 given per
//!   endorser per UTC day; it brings the endorsed user round(2 × the endorser's trust weight)
//!   XP, at most 20 a day from endorsements. Both users' chains are locked first, in one order.

use super::badges::Badges;
use super::notifications::Notifications;
use super::writes::Writes;
use super::xp::Xp;
use crate::clock::{SharedClock, rfc3339};
use crate::store::{
    NewAudit, NewEndorsement, PortfolioRow, ProfileChange, ProfileRow, SkillRow, Stat, Store,
    StoreError,
};
use hub_protocol::notifications::{EndorsedData, NotificationBody, SkillVerifiedData};
use hub_protocol::profiles::{
    AddSkill, Endorse, Endorsement, NewPortfolioItem, PortfolioItem, Profile, ProfileBadge,
    ProfilePatch, ProfileSkill, Skill, Theme, VerifiedTask,
};
use hub_protocol::{TaskId, UserId};
use hub_rooms::fields::FieldError;
use hub_rooms::gamification::{
    Rep, day_start_ms, endorsement_credit, endorsement_xp, next_level_xp, trust_weight, utc_day,
};
use hub_rooms::profiles::{
    ENDORSEMENTS_PER_DAY, check_endorsement, check_evidence, check_portfolio, check_skill,
    may_endorse,
};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    RateLimited(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(ProfileError, access);

impl crate::error::DomainError for ProfileError {
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            ProfileError::Field(_) => ErrorCode::Invalid,
            ProfileError::NotFound(_) => ErrorCode::NotFound,
            ProfileError::Forbidden(_) => ErrorCode::Forbidden,
            ProfileError::RateLimited(_) => ErrorCode::RateLimited,
            ProfileError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ProfileError::Store(s) => s.public_message(),
            ProfileError::Field(f) => f.public_message(),
            other => other.to_string(),
        }
    }

    fn refusal(&self) -> Option<crate::error::Refusal> {
        match self {
            ProfileError::Field(f) => f.refusal(),
            _ => None,
        }
    }
}

/// A profile as clients see it, without its badges and skills (read apart).
fn profile_view(r: ProfileRow) -> Profile {
    let level = r.level.and_then(|l| u32::try_from(l).ok()).unwrap_or(1);
    Profile {
        user_id: r.user_id,
        name: r.name,
        joined_at: rfc3339(r.joined_at),
        nickname: r.nickname,
        avatar_url: r.avatar_url,
        bio: r.bio,
        location: r.location,
        website_url: r.website_url,
        theme: r
            .theme
            .as_deref()
            .and_then(Theme::parse)
            .unwrap_or_default(),
        is_public: r.is_public.map(|v| v != 0).unwrap_or(true),
        level,
        xp: r.xp.unwrap_or(0),
        next_level_xp: next_level_xp(level),
        rep_score: Rep(r.rep_milli.unwrap_or(0)).score(),
        badges: Vec::new(),
        skills: Vec::new(),
    }
}

/// A portfolio item as clients see it (what the hub knows of its task is added apart).
fn portfolio_view(r: PortfolioRow) -> PortfolioItem {
    PortfolioItem {
        id: r.id,
        user_id: r.user_id,
        title: r.title,
        summary: r.summary,
        artifact_url: r.artifact_url,
        buz: r.buz,
        impact: serde_json::from_str(&r.impact).unwrap_or_default(),
        is_public: r.is_public,
        task_id: r.task_id,
        created_at: rfc3339(r.created_at),
        verified: None,
    }
}

/// A catalog skill as clients see it.
fn skill_view(row: SkillRow) -> Skill {
    Skill {
        name: row.name,
        category: row.category,
    }
}

fn no_profile() -> ProfileError {
    ProfileError::NotFound("no such profile".into())
}

/// Profiles, skills, endorsements and portfolios.
#[derive(Clone)]
pub struct Profiles {
    store: Store,
    writes: Arc<Writes>,
    xp: Xp,
    badges: Badges,
    notifications: Notifications,
    clock: SharedClock,
}

impl Profiles {
    pub fn new(
        store: Store,
        writes: Arc<Writes>,
        xp: Xp,
        badges: Badges,
        notifications: Notifications,
        clock: SharedClock,
    ) -> Profiles {
        Profiles {
            store,
            writes,
            xp,
            badges,
            notifications,
            clock,
        }
    }

    /// Applies a profile patch sent as a JSON object (each field checked by
    /// `hub_rooms::profiles::check_patch`) to the caller's own profile.
    pub async fn patch_json(
        &self,
        user: &UserId,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Profile, ProfileError> {
        let patch = hub_rooms::profiles::check_patch(body)?;
        self.patch(user, &patch).await
    }

    /// The skills catalog.
    pub async fn skills(&self) -> Result<Vec<Skill>, ProfileError> {
        Ok(self
            .store
            .skills()
            .await?
            .into_iter()
            .map(skill_view)
            .collect())
    }

    /// Deletes one of the caller's own portfolio items (anyone else's is `not_found`).
    pub async fn portfolio_item_delete(&self, user: &UserId, id: &str) -> Result<(), ProfileError> {
        Ok(self.store.delete_portfolio_item(user, id).await?)
    }

    /// `user`'s profile with badges and skills, as `viewer` may see it: a private profile is
    /// "not found" to everyone but its owner.
    pub async fn view(
        &self,
        user: &UserId,
        viewer: Option<&UserId>,
    ) -> Result<Profile, ProfileError> {
        let mut profile = self
            .store
            .profile(user)
            .await?
            .map(profile_view)
            .ok_or_else(no_profile)?;
        if !profile.is_public && viewer != Some(user) {
            return Err(no_profile());
        }
        profile.badges = self
            .store
            .profile_badges(user)
            .await?
            .into_iter()
            .map(|b| ProfileBadge {
                code: b.code,
                name: b.name,
                awarded_at: rfc3339(b.awarded_at),
            })
            .collect();
        profile.skills = self
            .store
            .user_skills(user)
            .await?
            .into_iter()
            .map(|s| ProfileSkill {
                name: s.name,
                category: s.category,
                verified: s.verified != 0,
                endorsements: s.endorsements,
                evidence_url: s.evidence_url,
            })
            .collect();
        Ok(profile)
    }

    pub async fn patch(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
    ) -> Result<Profile, ProfileError> {
        let change = ProfileChange {
            nickname: text(&patch.nickname),
            avatar_url: text(&patch.avatar_url),
            bio: text(&patch.bio),
            location: text(&patch.location),
            website_url: text(&patch.website_url),
            theme: patch.theme.map(|t| t.as_str()),
            is_public: patch.is_public,
        };
        self.store.patch_profile(user, &change).await?;
        self.view(user, Some(user)).await
    }

    pub async fn create_skill(
        &self,
        name: &str,
        category: &str,
        by: &UserId,
    ) -> Result<Skill, ProfileError> {
        let (name, category) = check_skill(name, category)?;
        Ok(skill_view(
            self.store.create_skill(&name, &category, by).await?,
        ))
    }

    /// Lists a catalog skill on `user`'s profile (again: updates the evidence).
    pub async fn add_skill(&self, user: &UserId, body: &AddSkill) -> Result<Profile, ProfileError> {
        let evidence = check_evidence(body.evidence_url.as_deref())?;
        let key = self
            .store
            .skill(&body.skill)
            .await?
            .ok_or_else(|| {
                ProfileError::NotFound(format!("no skill {:?} in the catalog", body.skill))
            })?
            .key;
        self.store
            .add_user_skill(user, &key, evidence.as_deref())
            .await?;
        self.view(user, Some(user)).await
    }

    /// Verifies `user`'s `skill`: `by` is an admin (`privileged`) or an owner of a venture
    /// `user` belongs to.
    pub async fn verify_skill(
        &self,
        user: &UserId,
        skill: &str,
        by: &UserId,
        privileged: bool,
    ) -> Result<Profile, ProfileError> {
        let row =
            self.store.skill(skill).await?.ok_or_else(|| {
                ProfileError::NotFound(format!("no skill {skill:?} in the catalog"))
            })?;
        let key = row.key.clone();
        let found = skill_view(row);
        if self.store.user_skill(user, &key).await?.is_none() {
            return Err(ProfileError::NotFound(format!(
                "{user} does not list {}",
                found.name
            )));
        }
        if by == user {
            return Err(ProfileError::Forbidden(
                "nobody verifies their own skills: an owner of a venture you belong to, or an admin, does"
                    .into(),
            ));
        }
        if !privileged && !self.store.owns_a_venture_of(by, user).await? {
            return Err(ProfileError::Forbidden(
                "only an owner of a venture the user belongs to, or an admin, verifies skills"
                    .into(),
            ));
        }
        let (who, by_owned, key, found_name, s) = (
            user.clone(),
            by.clone(),
            key.clone(),
            found.name.clone(),
            self.clone(),
        );
        self.writes
            .write::<_, ProfileError, _>(&[user], move |w, fx| {
                Box::pin(async move {
                    let (user, by) = (&who, &by_owned);
                    if s.store.verify_skill(w, user, &key, by).await? {
                        s.store
                            .audit(
                                w,
                                NewAudit {
                                    scope: format!("user:{user}"),
                                    ref_id: Some(&key),
                                    actor_id: Some(by.as_str()),
                                    action: "skill.verified",
                                    details: json!({"skill": found_name}),
                                },
                            )
                            .await?;
                        let data = SkillVerifiedData {
                            skill: found_name.clone(),
                            by: by.clone(),
                        };
                        s.notifications
                            .add_in(w, fx, user, NotificationBody::SkillVerified(data))
                            .await?;
                    }
                    Ok(())
                })
            })
            .await?;
        self.view(user, Some(user)).await
    }

    /// `endorser` endorses `req.user_id`'s skill.
    pub async fn endorse(
        &self,
        endorser: &UserId,
        req: &Endorse,
    ) -> Result<Endorsement, ProfileError> {
        let (rating, note) = check_endorsement(
            endorser.as_str(),
            req.user_id.as_str(),
            req.rating,
            req.note.as_deref(),
        )?;
        let SkillRow {
            key,
            name,
            category,
        } = self.store.skill(&req.skill).await?.ok_or_else(|| {
            ProfileError::NotFound(format!("no skill {:?} in the catalog", req.skill))
        })?;
        let skill = Skill { name, category };
        if self.store.user_skill(&req.user_id, &key).await?.is_none() {
            return Err(ProfileError::NotFound(format!(
                "{} does not list {}",
                req.user_id, skill.name
            )));
        }
        let now = self.clock.now_ms();
        let today = day_start_ms(utc_day(now));
        let users = [endorser, &req.user_id];
        let (endorser_owned, req, key, skill, s) = (
            endorser.clone(),
            req.clone(),
            key.clone(),
            skill.clone(),
            self.clone(),
        );
        self.writes
            .write::<_, ProfileError, _>(&users, move |w, fx| {
                Box::pin(async move {
                    let endorser = &endorser_owned;
                    let given = s.store.endorsements_given_since(w, endorser, today).await?;
                    if !may_endorse(given) {
                        return Err(ProfileError::RateLimited(format!(
                            "at most {ENDORSEMENTS_PER_DAY} endorsements a day; more tomorrow (UTC)"
                        )));
                    }
                    let (rep, _) = s.store.lock_rep(w, endorser).await?;
                    let weight = trust_weight(rep.score());
                    let endorsement = s
                        .store
                        .add_endorsement(
                            w,
                            NewEndorsement {
                                endorser,
                                user: &req.user_id,
                                skill_key: &key,
                                rating,
                                note: note.as_deref(),
                                weight_milli: (weight * 1000.0).round() as i64,
                                xp: 0,
                            },
                            &skill.name,
                        )
                        .await?;
                    let earned_today = s
                        .store
                        .xp_from_between(w, &req.user_id, "endorsement", today, today + 86_400_000)
                        .await?;
                    let xp = endorsement_credit(endorsement_xp(rep.score()), earned_today);
                    s.xp.grant(w, fx, &req.user_id, "endorsement", &endorsement.id, xp)
                        .await?;
                    s.store.set_endorsement_xp(w, &endorsement.id, xp).await?;
                    s.store
                        .bump_stat(w, &req.user_id, Stat::EndorsementsReceived, 1)
                        .await?;
                    s.store
                        .bump_stat(
                            w,
                            &req.user_id,
                            Stat::EndorsementRatingSum,
                            i64::from(rating),
                        )
                        .await?;
                    let data = EndorsedData {
                        endorser_id: endorser.clone(),
                        skill: skill.name.clone(),
                        rating,
                        xp,
                    };
                    s.notifications
                        .add_in(w, fx, &req.user_id, NotificationBody::Endorsed(data))
                        .await?;
                    s.badges.evaluate(w, fx, &req.user_id).await?;
                    Ok(Endorsement {
                        id: endorsement.id,
                        endorser_id: endorsement.endorser_id,
                        user_id: endorsement.user_id,
                        skill: skill.name.clone(),
                        rating: endorsement.rating,
                        note: endorsement.note,
                        weight: endorsement.weight_milli as f64 / 1000.0,
                        xp,
                        created_at: rfc3339(endorsement.created_at),
                    })
                })
            })
            .await
    }

    /// What the hub recorded of `user`'s accepted task `task`, if anything.
    async fn verified_task(
        &self,
        user: &UserId,
        task: &TaskId,
    ) -> Result<Option<VerifiedTask>, ProfileError> {
        Ok(self
            .store
            .verified_task(user, task)
            .await?
            .map(|t| VerifiedTask {
                task_id: task.clone(),
                venture_id: t.venture_id,
                buz_credited: t.credited,
                accepted_at: rfc3339(t.accepted_at),
            }))
    }

    pub async fn add_portfolio_item(
        &self,
        user: &UserId,
        item: &NewPortfolioItem,
    ) -> Result<PortfolioItem, ProfileError> {
        let entry = check_portfolio(item)?;
        let mut added = portfolio_view(self.store.add_portfolio_item(user, &entry).await?);
        if let Some(task) = &added.task_id {
            added.verified = self.verified_task(user, task).await?;
        }
        Ok(added)
    }

    /// `user`'s portfolio as `viewer` may see it (every item for the owner, public ones for
    /// others; a private profile's is "not found").
    pub async fn portfolio(
        &self,
        user: &UserId,
        viewer: Option<&UserId>,
    ) -> Result<Vec<PortfolioItem>, ProfileError> {
        let profile = self.store.profile(user).await?.ok_or_else(no_profile)?;
        let owner = viewer == Some(user);
        if !profile_view(profile).is_public && !owner {
            return Err(no_profile());
        }
        let mut items: Vec<PortfolioItem> = self
            .store
            .portfolio(user, owner)
            .await?
            .into_iter()
            .map(portfolio_view)
            .collect();
        // Beside what the user wrote, what the hub knows of the task it names.
        for item in &mut items {
            if let Some(task) = &item.task_id {
                item.verified = self.verified_task(user, task).await?;
            }
        }
        Ok(items)
    }
}

/// A patch's text field as the store takes it: absent, cleared or set.
fn text(value: &Option<Option<String>>) -> Option<Option<&str>> {
    value.as_ref().map(|v| v.as_deref())
}
