//! The router: every API route from its handler's annotation (so the OpenAPI document lists
//! exactly what is served), the pages, and answers for everything else (the websocket's path
//! asked without an upgrade, unknown paths and methods), all as JSON with the security headers.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::map_response;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use bytes::Bytes;
use tether_protocol::WS_PATH;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{account, doc, events, onsite, portal, review, staff, tickets};
use crate::ApiError;
use crate::ctx::{Ctx, MAX_BODY};

/// Every route, with the body limit and the security headers; the API's routes also make the
/// OpenAPI document served at `/api/v1/openapi.json`.
pub fn routes(ctx: Ctx) -> Router {
    let (api, document) = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .routes(routes!(account::sign_in))
        .routes(routes!(account::sign_out))
        .routes(routes!(account::me))
        .routes(routes!(onsite::availability))
        .routes(routes!(onsite::location))
        .routes(routes!(events::stream))
        .routes(routes!(tickets::list, tickets::create))
        .routes(routes!(tickets::show))
        .routes(routes!(tickets::claim))
        .routes(routes!(tickets::ack))
        .routes(routes!(tickets::assign))
        .routes(routes!(tickets::priority))
        .routes(routes!(tickets::escalate))
        .routes(routes!(tickets::close))
        .routes(routes!(tickets::follow_up))
        .routes(routes!(portal::new_link, portal::revoke_link))
        .routes(routes!(onsite::schedule))
        .routes(routes!(onsite::dispatch))
        .routes(routes!(onsite::eta))
        .routes(routes!(onsite::log))
        .routes(routes!(onsite::sign_off))
        .routes(routes!(tickets::report))
        .routes(routes!(review::sessions))
        .routes(routes!(review::transcript))
        .routes(routes!(review::verify))
        .routes(routes!(review::export))
        .routes(routes!(review::verify_all))
        .routes(routes!(staff::list))
        .routes(routes!(staff::add))
        .routes(routes!(staff::disable))
        .routes(routes!(staff::enable))
        .routes(routes!(staff::role))
        .routes(routes!(staff::skills))
        .routes(routes!(portal::request))
        .routes(routes!(portal::show))
        .routes(routes!(portal::answer))
        .split_for_parts();
    let document = Bytes::from(document.to_json().unwrap_or_else(|_| "{}".into()));
    api.route("/api/v1/openapi.json", get(move || openapi(document.clone())))
        .route("/", get(crate::pages::index))
        .route("/portal", get(crate::pages::index))
        .route("/t/{link}", get(crate::pages::index))
        .route("/assets/{name}", get(crate::pages::asset))
        .route(WS_PATH, any(websocket_only))
        .fallback(unknown)
        .method_not_allowed_fallback(wrong_method)
        .with_state(ctx)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(map_response(crate::headers::secure))
}

/// The OpenAPI document, made once.
async fn openapi(document: Bytes) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], document)
}

/// The websocket's path asked for without an upgrade.
async fn websocket_only() -> ApiError {
    ApiError::new(
        StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        "this is a tether broker's websocket: connect with tether-agent or tether-console",
    )
}

async fn unknown() -> ApiError {
    ApiError::not_found("no such page or API route; the API is under /api/v1/")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route takes another method",
    )
}
