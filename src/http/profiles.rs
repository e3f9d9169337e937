//! Profiles, skills, endorsements and portfolios. Reading a profile or a portfolio needs no
//! token (one is used when present: a private profile is visible to its owner only); the rest
//! acts for the caller. A field out of its limits is `400 invalid` naming it.

use super::{ApiJson, ApiPath, MaybeIdentity};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::UserId;
use hub_protocol::badges::{BadgesEvaluated, EvaluateBadges};
use hub_protocol::profiles::{
    AddSkill, Endorse, Endorsement, NewPortfolioItem, Portfolio, PortfolioItem, Profile, Skill,
    SkillList,
};
use serde_json::Value;

type Answer<T> = Result<Json<T>, AppError>;

/// `GET /api/v1/profiles/{user_id}`.
pub async fn get(
    State(core): State<Core>,
    MaybeIdentity(who): MaybeIdentity,
    ApiPath(user): ApiPath<UserId>,
) -> Answer<Profile> {
    let viewer = who.as_ref().map(|w| &w.user_id);
    Ok(Json(core.services.profiles.view(&user, viewer).await?))
}

/// `GET /api/v1/profiles/me`.
pub async fn me(State(core): State<Core>, who: Identity) -> Answer<Profile> {
    Ok(Json(
        core.services
            .profiles
            .view(&who.user_id, Some(&who.user_id))
            .await?,
    ))
}

/// `PATCH /api/v1/profiles/me`.
pub async fn patch_me(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<Value>,
) -> Answer<Profile> {
    let Value::Object(map) = body else {
        return Err(AppError::bad_request("the body must be a JSON object"));
    };
    Ok(Json(
        core.services
            .profiles
            .patch_json(&who.user_id, &map)
            .await?,
    ))
}

/// `GET /api/v1/skills`: the catalog.
pub async fn skills(State(core): State<Core>) -> Answer<SkillList> {
    Ok(Json(SkillList {
        skills: core.services.profiles.skills().await?,
    }))
}

/// `POST /api/v1/skills` (admin).
pub async fn create_skill(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<Skill>,
) -> Result<(StatusCode, Json<Skill>), AppError> {
    super::debug::operator(&who)?;
    let skill = core
        .services
        .profiles
        .create_skill(&body.name, &body.category, &who.user_id)
        .await?;
    Ok((StatusCode::CREATED, Json(skill)))
}

/// `POST /api/v1/profiles/me/skills`: lists a catalog skill on my profile.
pub async fn add_skill(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<AddSkill>,
) -> Result<(StatusCode, Json<Profile>), AppError> {
    let profile = core
        .services
        .profiles
        .add_skill(&who.user_id, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(profile)))
}

/// `POST /api/v1/profiles/{user_id}/skills/{skill}/verify`.
pub async fn verify_skill(
    State(core): State<Core>,
    who: Identity,
    ApiPath((user, skill)): ApiPath<(UserId, String)>,
) -> Answer<Profile> {
    Ok(Json(
        core.services
            .profiles
            .verify_skill(&user, &skill, &who.user_id, who.role.is_privileged())
            .await?,
    ))
}

/// `POST /api/v1/profiles/me/endorse`.
pub async fn endorse(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<Endorse>,
) -> Result<(StatusCode, Json<Endorsement>), AppError> {
    let endorsement = core.services.profiles.endorse(&who.user_id, &body).await?;
    Ok((StatusCode::CREATED, Json(endorsement)))
}

/// `POST /api/v1/portfolio`.
pub async fn add_portfolio_item(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<NewPortfolioItem>,
) -> Result<(StatusCode, Json<PortfolioItem>), AppError> {
    let item = core
        .services
        .profiles
        .add_portfolio_item(&who.user_id, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// `DELETE /api/v1/portfolio/{id}`: my item.
pub async fn delete_portfolio_item(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    core.services
        .profiles
        .portfolio_item_delete(&who.user_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/profiles/{user_id}/portfolio`.
pub async fn portfolio(
    State(core): State<Core>,
    MaybeIdentity(who): MaybeIdentity,
    ApiPath(user): ApiPath<UserId>,
) -> Answer<Portfolio> {
    let viewer = who.as_ref().map(|w| &w.user_id);
    Ok(Json(Portfolio {
        items: core.services.profiles.portfolio(&user, viewer).await?,
    }))
}

/// `GET /api/v1/profiles/me/portfolio`.
pub async fn my_portfolio(State(core): State<Core>, who: Identity) -> Answer<Portfolio> {
    Ok(Json(Portfolio {
        items: core
            .services
            .profiles
            .portfolio(&who.user_id, Some(&who.user_id))
            .await?,
    }))
}

/// `POST /api/v1/badges/evaluate {user_id?}`: evaluates one user's badges now (mine, or
/// anyone's for an admin).
pub async fn evaluate(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<EvaluateBadges>,
) -> Answer<BadgesEvaluated> {
    let user = body.user_id.unwrap_or_else(|| who.user_id.clone());
    if user != who.user_id {
        super::debug::operator(&who)?;
    }
    let awarded = core.services.badges.evaluate_user(&user).await?;
    Ok(Json(BadgesEvaluated {
        user_id: user,
        awarded,
    }))
}
