//! The browser interface's files, embedded in the binary so the desk works offline (nothing
//! fetched from elsewhere, no inline script): the one HTML page (served for the desk at `/`
//! and for the customer's pages at `/portal` and `/t/TOKEN`), its ES modules and its
//! stylesheet. Each is served with its type and an ETag, so a browser revalidates instead of
//! downloading again.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// One embedded file.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

const INDEX: Asset = Asset {
    name: "index.html",
    mime: "text/html; charset=utf-8",
    body: include_bytes!("../assets/index.html"),
};

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: [Asset; 9] = [
    Asset { name: "app.js", mime: JS, body: include_bytes!("../assets/app.js") },
    Asset { name: "lib.js", mime: JS, body: include_bytes!("../assets/lib.js") },
    Asset { name: "desk.js", mime: JS, body: include_bytes!("../assets/desk.js") },
    Asset { name: "customer.js", mime: JS, body: include_bytes!("../assets/customer.js") },
    Asset { name: "review.js", mime: JS, body: include_bytes!("../assets/review.js") },
    Asset { name: "report.js", mime: JS, body: include_bytes!("../assets/report.js") },
    Asset { name: "terminal.js", mime: JS, body: include_bytes!("../assets/terminal.js") },
    Asset { name: "onsite.js", mime: JS, body: include_bytes!("../assets/onsite.js") },
    Asset {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
];

/// The page: every view, the desk's and the customer's, is drawn by its scripts.
pub async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// `/assets/NAME`.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))?;
    Ok(serve(asset, &headers))
}

fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let tag = etag(asset);
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let common = [(CACHE_CONTROL, "no-cache"), (ETAG, tag)];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, [(CONTENT_TYPE, asset.mime)], asset.body).into_response()
}

/// A strong ETag: the start of the file's SHA-256, computed once per file.
fn etag(asset: &'static Asset) -> &'static str {
    static TAGS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        std::iter::once(&INDEX)
            .chain(ASSETS.iter())
            .map(|a| {
                let digest = ring::digest::digest(&ring::digest::SHA256, a.body);
                (a.name, format!("\"{}\"", tether_protocol::hex(&digest.as_ref()[..12])))
            })
            .collect()
    });
    tags.iter().find(|(name, _)| *name == asset.name).map_or("\"\"", |(_, tag)| tag.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_script_as_a_module_and_has_no_inline_script_or_style() {
        let html = std::str::from_utf8(INDEX.body).unwrap();
        assert!(html.contains(r#"<script type="module" src="/assets/app.js"></script>"#));
        assert_eq!(html.matches("<script").count(), 1, "one script, from a file");
        assert!(!html.contains("style="), "inline styles are refused by the policy");
        assert!(!html.contains("onclick") && !html.contains("javascript:"));
        for asset in &ASSETS {
            assert!(
                html.contains(&format!("/assets/{}", asset.name)),
                "{} is not used",
                asset.name
            );
        }
    }

    #[test]
    fn the_scripts_never_write_markup() {
        for asset in ASSETS.iter().filter(|a| a.mime == JS) {
            let js = std::str::from_utf8(asset.body).unwrap();
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]
            {
                assert!(!js.contains(sink), "{} uses {sink}", asset.name);
            }
        }
    }
}
