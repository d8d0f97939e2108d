//! `GET /api/v1/events`: the desk's events as they happen, as server-sent events, each one the
//! caller may see (the policy that filters the console's watch). The stream ends when the
//! account is disabled or its role changes, and when the broker shuts down; a reader too slow
//! to keep up is told to reload (`resync`) rather than being sent a gap silently.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiError;
use crate::auth::Caller;
use crate::ctx::Ctx;

/// How often an idle stream sends a comment, so proxies and the browser keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The caller's stream of desk events.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "desk",
    responses((status = 200, description = "server-sent events: `desk` (one event the caller may see) and `resync` (events were missed; reload)"), (status = "4XX", description = "refused; see the code", body = crate::error::ErrorBody)),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn stream(
    State(ctx): State<Ctx>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let rx = ctx.desk.subscribe();
    let events =
        futures_util::stream::unfold((rx, ctx, caller), |(mut rx, ctx, caller)| async move {
            loop {
                let received = tokio::select! {
                    () = ctx.shutdown.cancelled() => return None,
                    received = rx.recv() => received,
                };
                let event = match received {
                    Ok(event) => event,
                    Err(RecvError::Lagged(missed)) => {
                        let resync = Event::default()
                            .event("resync")
                            .data(format!("{missed} events missed"));
                        return Some((Ok(resync), (rx, ctx, caller)));
                    }
                    Err(RecvError::Closed) => return None,
                };
                if let Some(user) = caller.actor.user()
                    && ctx.access.recheck(user).await.is_err()
                {
                    return None;
                }
                if !ctx.desk.may_see(&caller.actor, &event) {
                    continue;
                }
                let Ok(sse) = Event::default().event("desk").json_data(&event) else { continue };
                return Some((Ok(sse), (rx, ctx, caller)));
            }
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
