//! Uploaded documents (`/api/v1/documents`): multipart uploads that stream into the file store,
//! listing, downloads with `ETag`, `Content-Disposition` and single `Range` requests, shares
//! (client links at `/api/v1/shared/{token}`), comments, legal holds and signatures.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::files::{Content, FileError, FileRow, Upload, UploadMeta};
use crate::state::Core;
use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hub_protocol::files::{
    Comment, CommentList, FileDoc, FileList, Hold, NewComment, NewShare, Share, ShareList,
    SharedDoc,
};
use hub_protocol::signatures::SignatureList;
use hub_protocol::{FileId, ShareId};
use serde::Deserialize;

/// The most bytes of a text field of the upload form.
const MAX_FIELD_BYTES: usize = 1024;

/// How a refused upload's body is still read: the route's body limit, and how much and how
/// long the hub reads and drops before it answers.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    pub limit: u64,
    pub bytes: u64,
    pub time: std::time::Duration,
}

/// Middleware of the upload route. A client that sends a whole body before it reads (Node's
/// `fetch`, browsers) sees a reset instead of the answer when the hub answers early and closes
/// with its body unread. So the handler reads the body through a handle kept here; when it
/// refuses the upload (any 4xx), what it left unread is read and dropped, up to
/// `Drain::bytes` and `Drain::time`, before the answer goes out. A declared `Content-Length`
/// over the limit is refused at once, its body drained the same way when it is within the
/// bound.
pub async fn drain_refused(
    State(drain): State<Drain>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = req.into_parts();
    let stream = std::sync::Arc::new(tokio::sync::Mutex::new(body.into_data_stream()));
    if let Some(len) = declared
        && len > drain.limit
    {
        if len <= drain.bytes {
            drop_rest(&stream, drain).await;
        }
        return AppError::too_large(format!(
            "the upload of {len} bytes is larger than the {} allowed",
            drain.limit
        ))
        .into_response();
    }
    let shared = stream.clone();
    let body = Body::from_stream(futures_util::stream::unfold(shared, |s| async move {
        let next = s.lock().await.next().await;
        next.map(|item| (item, s))
    }));
    let response = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if response.status().is_client_error() {
        drop_rest(&stream, drain).await;
    }
    response
}

/// Reads and drops what is left of a body, within the drain's bounds.
async fn drop_rest(stream: &tokio::sync::Mutex<axum::body::BodyDataStream>, drain: Drain) {
    use futures_util::StreamExt;
    let mut stream = stream.lock().await;
    let mut read = 0u64;
    let _ = tokio::time::timeout(drain.time, async {
        while read < drain.bytes {
            match stream.next().await {
                Some(Ok(chunk)) => read += chunk.len() as u64,
                _ => break,
            }
        }
    })
    .await;
    metrics::counter!("hub_upload_drained_bytes_total").increment(read);
}

/// `POST /api/v1/documents` (multipart: `title`, `type`, optional `venture_id` and `client_id`,
/// and `file`, in any order).
pub async fn upload(
    State(core): State<Core>,
    who: Identity,
    mut form: Multipart,
) -> Result<(StatusCode, Json<FileDoc>), AppError> {
    let mut meta = UploadMeta::default();
    let mut upload: Option<Upload> = None;
    let read = read_form(&core, &mut form, &mut meta, &mut upload).await;
    let result = match (read, upload) {
        (Ok(()), Some(up)) => core
            .services
            .files
            .finish_upload(&who.user_id, up, meta)
            .await
            .map_err(AppError::from),
        (Ok(()), None) => Err(AppError::bad_request("file: the form has no file")),
        (Err(e), Some(up)) => {
            up.abort().await;
            Err(e)
        }
        (Err(e), None) => Err(e),
    };
    Ok((StatusCode::CREATED, Json(result?)))
}

async fn read_form(
    core: &Core,
    form: &mut Multipart,
    meta: &mut UploadMeta,
    upload: &mut Option<Upload>,
) -> Result<(), AppError> {
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                if upload.is_some() {
                    return Err(AppError::bad_request("file: one file per upload"));
                }
                let declared = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let file_name = field.file_name().unwrap_or("file").to_owned();
                let up = upload.insert(
                    core.services
                        .files
                        .begin_upload(&declared, &file_name)
                        .await?,
                );
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    up.push(chunk).await?;
                }
            }
            "title" | "type" | "venture_id" | "client_id" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    value.extend_from_slice(&chunk);
                    if value.len() > MAX_FIELD_BYTES {
                        return Err(AppError::bad_request(format!(
                            "{name}: at most {MAX_FIELD_BYTES} bytes"
                        )));
                    }
                }
                let value = String::from_utf8(value)
                    .map_err(|_| AppError::bad_request(format!("{name}: must be UTF-8 text")))?;
                if crate::validate::has_nul(&value) {
                    return Err(AppError::invalid(crate::validate::NUL_REFUSED));
                }
                let slot = match name.as_str() {
                    "title" => &mut meta.title,
                    "type" => &mut meta.kind,
                    "venture_id" => &mut meta.venture_id,
                    _ => &mut meta.client_id,
                };
                *slot = Some(value);
            }
            other => {
                return Err(AppError::bad_request(format!(
                    "{other}: not a field of the upload form (title, type, venture_id, client_id, file)"
                )));
            }
        }
    }
    Ok(())
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large("the upload is larger than allowed")
    } else {
        AppError::bad_request(format!(
            "the upload broke off or is not a multipart form: {}",
            e.body_text()
        ))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    scope: Option<String>,
}

/// `GET /api/v1/documents?scope=mine|shared`.
pub async fn list(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ListQuery>,
) -> Result<Json<FileList>, AppError> {
    let shared = match q.scope.as_deref() {
        None | Some("mine") => false,
        Some("shared") => true,
        Some(_) => return Err(AppError::bad_request("scope: mine or shared")),
    };
    Ok(Json(FileList {
        documents: core.services.files.list(&who.user_id, shared).await?,
    }))
}

/// `GET /api/v1/documents/{id}`.
pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<Json<FileDoc>, AppError> {
    Ok(Json(
        core.services
            .files
            .visible(&who.user_id, &id)
            .await?
            .0
            .view(),
    ))
}

/// `DELETE /api/v1/documents/{id}` (the owner; `409` under a hold).
pub async fn delete(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<StatusCode, AppError> {
    core.services.files.delete(&who.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/documents/{id}/content`.
pub async fn content(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (row, access) = core.services.files.visible(&who.user_id, &id).await?;
    if !access.perms.view {
        return Err(AppError::forbidden("your share does not allow viewing"));
    }
    serve(&core, row, &headers).await
}

/// Answers a download of `row` for `headers` (`Range`, `If-None-Match`).
async fn serve(core: &Core, row: FileRow, headers: &HeaderMap) -> Result<Response, AppError> {
    let etag = format!("\"{}\"", row.checksum);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let size = u64::try_from(row.size).unwrap_or(0);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Content { row, range, stream } = match core.services.files.content(row, range).await {
        Err(e @ FileError::Unsatisfiable(size)) => {
            let mut r = AppError::from(e).into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}"))
                    .unwrap_or(HeaderValue::from_static("bytes */0")),
            );
            return Ok(r);
        }
        other => other?,
    };
    let (status, length) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.len()),
        None => (StatusCode::OK, size),
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    let put = |h: &mut HeaderMap, name, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    put(h, header::CONTENT_TYPE, row.content_type.clone());
    put(h, header::CONTENT_LENGTH, length.to_string());
    put(h, header::ETAG, etag);
    put(h, header::CONTENT_DISPOSITION, disposition(&row.file_name));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(r) = range {
        put(
            h,
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", r.start, r.end),
        );
    }
    Ok(response)
}

/// `attachment; filename="…"; filename*=UTF-8''…` (an ASCII fallback and the exact name).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `POST /api/v1/documents/{id}/share` (the owner): `201` share; a client share carries its
/// link.
pub async fn share(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
    ApiJson(body): ApiJson<NewShare>,
) -> Result<(StatusCode, Json<Share>), AppError> {
    let row = core.services.files.share(&who.user_id, &id, &body).await?;
    let mut share = row.view();
    if row.client_id.is_some() {
        let ttl =
            i64::try_from(core.services.files.config().link_ttl.as_millis()).unwrap_or(i64::MAX);
        let exp = row
            .expires_at
            .unwrap_or_else(|| core.clock.now_ms().saturating_add(ttl));
        let token = core
            .auth
            .mint_link(row.id.as_str(), row.file_id.as_str(), exp)
            .map_err(AppError::internal)?;
        share.link = Some(format!("/api/v1/shared/{token}"));
    }
    Ok((StatusCode::CREATED, Json(share)))
}

/// `GET /api/v1/documents/{id}/shares` (the owner).
pub async fn shares(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<Json<ShareList>, AppError> {
    Ok(Json(ShareList {
        shares: core
            .services
            .files
            .shares(&who.user_id, &id)
            .await?
            .iter()
            .map(|s| s.view())
            .collect(),
    }))
}

/// `DELETE /api/v1/documents/{id}/shares/{share_id}` (the owner).
pub async fn revoke(
    State(core): State<Core>,
    who: Identity,
    ApiPath((id, share)): ApiPath<(FileId, ShareId)>,
) -> Result<StatusCode, AppError> {
    core.services
        .files
        .revoke(&who.user_id, &id, &share)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn link(core: &Core, token: &str) -> Result<(String, String), AppError> {
    core.auth
        .verify_link(token)
        .ok_or_else(|| AppError::not_found("the link has expired or was revoked"))
}

/// `GET /api/v1/shared/{token}`: a client link's document (no account needed).
pub async fn shared(
    State(core): State<Core>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SharedDoc>, AppError> {
    let (share, doc) = link(&core, &token)?;
    let (row, share) = core
        .services
        .files
        .by_link(&ShareId::from(share), &FileId::from(doc))
        .await?;
    Ok(Json(SharedDoc {
        document: row.view(),
        share: share.view(),
    }))
}

/// `GET /api/v1/shared/{token}/content`.
pub async fn shared_content(
    State(core): State<Core>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (share, doc) = link(&core, &token)?;
    let (row, share) = core
        .services
        .files
        .by_link(&ShareId::from(share), &FileId::from(doc))
        .await?;
    if !share.perms.view {
        return Err(AppError::forbidden("the link does not allow viewing"));
    }
    serve(&core, row, &headers).await
}

/// `POST /api/v1/documents/{id}/comments`.
pub async fn comment(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
    ApiJson(body): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<Comment>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(
            core.services
                .files
                .comment(&who.user_id, &id, &body.body)
                .await?,
        ),
    ))
}

/// `GET /api/v1/documents/{id}/comments`.
pub async fn comments(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<Json<CommentList>, AppError> {
    Ok(Json(CommentList {
        comments: core.services.files.comments(&who.user_id, &id).await?,
    }))
}

/// `POST /api/v1/documents/{id}/hold` (admin).
pub async fn hold(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
    ApiJson(body): ApiJson<Hold>,
) -> Result<Json<FileDoc>, AppError> {
    super::debug::operator(&who)?;
    Ok(Json(
        core.services
            .files
            .hold(&who.user_id, &id, Some(&body.reason))
            .await?,
    ))
}

/// `DELETE /api/v1/documents/{id}/hold` (admin).
pub async fn release(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<Json<FileDoc>, AppError> {
    super::debug::operator(&who)?;
    Ok(Json(
        core.services.files.hold(&who.user_id, &id, None).await?,
    ))
}

/// `GET /api/v1/documents/{id}/signatures`.
pub async fn signatures(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<FileId>,
) -> Result<Json<SignatureList>, AppError> {
    Ok(Json(SignatureList {
        signatures: core
            .services
            .signatures
            .of_document(&who.user_id, &id)
            .await?,
    }))
}
