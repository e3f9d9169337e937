//! Ventures: create, list mine, read one (members only), manage members.

use super::{ApiJson, ApiPath};
use crate::auth::{Identity, valid_user_id};
use crate::error::AppError;
use crate::services::access::Caller;
use crate::state::Core;
use crate::store::{
    Group, MemberRow, Removed, Requester, SetOutcome, TeamRow, VentureRow, rfc3339,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{
    CreateVenture, Member, MemberSet, PutMember, Team, Venture, VentureDetail, VentureList,
};
use hub_protocol::{Role, UserId, VentureId};
use hub_rooms::RoomName;

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Trims `name` and checks it is 1..=120 characters without control characters.
pub fn clean_name(field: &str, name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::invalid(format!(
            "{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

pub fn check_user_id(id: &UserId) -> Result<(), AppError> {
    if valid_user_id(id.as_str()) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "user_id must be 1 to 128 characters without spaces or ':'",
        ))
    }
}

pub fn venture_view(row: VentureRow, role: Option<Role>) -> Venture {
    Venture {
        id: row.id,
        name: row.name,
        description: row.description,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

pub fn team_view(row: TeamRow, role: Option<Role>) -> Team {
    Team {
        id: row.id,
        venture_id: row.venture_id,
        name: row.name,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

pub fn member_view(row: MemberRow) -> Member {
    Member {
        user_id: row.user_id,
        name: row.name,
        role: row.role,
        added_at: rfc3339(row.added_at),
    }
}

/// The venture and the caller's role in it (see [`Access::venture`]).
pub async fn visible_venture(
    core: &Core,
    who: &Identity,
    id: &VentureId,
) -> Result<(VentureRow, Option<Role>), AppError> {
    Ok(core.services.access.venture(caller(who), id).await?)
}

/// The caller, as the access service knows them.
pub fn caller(who: &Identity) -> Caller<'_> {
    Caller {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    }
}

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateVenture>,
) -> Result<(StatusCode, Json<Venture>), AppError> {
    let name = clean_name("name", &body.name)?;
    let description = body
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(AppError::invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    let row = core
        .store
        .create_venture(&who.user_id, &name, description)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(venture_view(row, Some(Role::Owner))),
    ))
}

pub async fn list(State(core): State<Core>, who: Identity) -> Result<Json<VentureList>, AppError> {
    let ventures = core
        .store
        .ventures_of(&who.user_id)
        .await?
        .into_iter()
        .map(|(row, role)| venture_view(row, Some(role)))
        .collect();
    Ok(Json(VentureList { ventures }))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
) -> Result<Json<VentureDetail>, AppError> {
    let (venture, role) = visible_venture(&core, &who, &id).await?;
    let teams = core.store.teams_of_venture(&id).await?;
    let my_teams = core.store.teams_of(&who.user_id).await?;
    let teams = teams
        .into_iter()
        .map(|t| {
            let mine = my_teams.iter().find(|(m, _)| m.id == t.id).map(|(_, r)| *r);
            team_view(t, mine)
        })
        .collect();
    let members = core
        .store
        .members(&Group::Venture(id.clone()))
        .await?
        .into_iter()
        .map(member_view)
        .collect();
    let manages = who.role.is_privileged() || role.is_some_and(|r| r.can_manage());
    let invitations = if manages {
        core.store
            .invitations_in(&id)
            .await?
            .iter()
            .map(crate::services::members::invitation_view)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(VentureDetail {
        venture: venture_view(venture, role),
        teams,
        members,
        invitations,
    }))
}

pub async fn put_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<(StatusCode, Json<MemberSet>), AppError> {
    check_user_id(&body.user_id)?;
    visible_venture(&core, &who, &id).await?;
    let by = Requester {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    };
    // The venture role also decides the team rooms (owners and admins see every team).
    let mut rooms = vec![RoomName::Venture(id.clone())];
    for team in core.store.teams_of_venture(&id).await? {
        rooms.push(RoomName::Team(team.id));
    }
    let before = core.services.watch_roles(&body.user_id, rooms).await?;
    let outcome = core
        .store
        .set_member(&Group::Venture(id.clone()), by, &body.user_id, body.role)
        .await?;
    core.services
        .follow_roles(before, "no longer allowed in the room")
        .await?;
    if let SetOutcome::Added(member) = &outcome {
        core.services
            .member_joined(&id, None, &member.user_id, member.role, &who.user_id)
            .await;
    }
    Ok(member_set(&core, outcome).await)
}

/// The answer of `POST …/members`, with the invitee told when it is an invitation.
pub async fn member_set(core: &Core, outcome: SetOutcome) -> (StatusCode, Json<MemberSet>) {
    let (status, word, member, invitation) = match outcome {
        SetOutcome::Added(m) => (StatusCode::CREATED, "added", Some(member_view(m)), None),
        SetOutcome::Changed(m) => (StatusCode::OK, "changed", Some(member_view(m)), None),
        SetOutcome::Invited(i) => {
            core.services.member_invited(&i).await;
            (
                StatusCode::ACCEPTED,
                "invited",
                None,
                Some(crate::services::members::invitation_view(&i)),
            )
        }
    };
    (
        status,
        Json(MemberSet {
            status: word.to_owned(),
            member,
            invitation,
        }),
    )
}

pub async fn remove_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath((id, user)): ApiPath<(VentureId, UserId)>,
) -> Result<StatusCode, AppError> {
    visible_venture(&core, &who, &id).await?;
    let by = Requester {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    };
    let removed = core
        .store
        .remove_member(&Group::Venture(id.clone()), by, &user)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                AppError::not_found("no such member or invitation")
            }
            other => other.into(),
        })?;
    if removed == Removed::Invitation {
        return Ok(StatusCode::NO_CONTENT);
    }
    // Out of the venture means out of its rooms, the team rooms included, at once.
    let mut rooms = vec![RoomName::Venture(id.clone()).id()];
    for team in core.store.teams_of_venture(&id).await? {
        rooms.push(RoomName::Team(team.id).id());
    }
    core.services
        .member_left(&id, None, &user, &who.user_id)
        .await;
    core.services
        .remove_user_from_rooms(&user, rooms, "removed from the venture")
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    before: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/ventures/{id}/activity?before=&limit=`: the feed, newest first, for members
/// (and privileged accounts); `limit` 1 to 100, 50 by default.
pub async fn activity(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
    axum::extract::Query(q): axum::extract::Query<ActivityQuery>,
) -> Result<Json<hub_protocol::activity::ActivityPage>, AppError> {
    visible_venture(&core, &who, &id).await?;
    let limit =
        hub_rooms::chat::history_limit(q.limit).map_err(|e| AppError::invalid(e.to_string()))?;
    let (activities, has_more) = core
        .store
        .activities(&id, q.before.as_deref(), limit)
        .await?;
    Ok(Json(hub_protocol::activity::ActivityPage {
        activities,
        has_more,
    }))
}
