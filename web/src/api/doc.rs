//! The API's OpenAPI 3.1 document, generated from the handlers' annotations and the types'
//! schemas (utoipa) when the routes are built, and served as it is at
//! `GET /api/v1/openapi.json`: the routes, their bodies, answers and refusals, and the two ways
//! to sign a request (a bearer token, or the browser's cookie with its CSRF token).

use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document's fixed parts; the routes add their paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tether broker API",
        description = "The help desk of a tether broker: tickets, onsite visits, staff, sessions \
                       and their transcripts, the deadline review, and customers' own requests \
                       and tickets. Errors are `{\"error\": {\"code\", \"message\"}}` with a \
                       stable code."
    ),
    modifiers(&Security),
    components(schemas(crate::error::ErrorBody, Message))
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The two ways to sign a request.
#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the token `tether-console login` saved"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE_NAME,
                "a browser's session from POST /api/v1/sign-in; every change made with it also \
                 carries the session's CSRF token in X-CSRF-Token",
            ))),
        );
    }
}

/// A change done, in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    /// What was done.
    pub message: String,
}
