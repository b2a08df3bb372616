//! The browser client (`client-web/dist`, built by `npm ci`), served at `/` with rust-embed:
//! release builds embed the files, debug builds read them from disk at run time (rebuild the
//! client without recompiling the server).
//! Invariants: hashed files under `assets/` are immutable and cached for a year; `index.html` is
//! never cached without revalidation, so a new build reaches browsers at once; unknown GET paths
//! outside `/api/` that do not name a file get `index.html` (the client routes them); a missing
//! build serves the server's front page as a notice instead of failing (and never fails to compile).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

use super::{AppError, INDEX_HTML};

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../client-web/dist/"]
#[allow_missing = true]
struct ClientAssets;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// `GET /`: the client's `index.html`, or the server's front page as a notice when it is not built.
pub(super) async fn index(headers: HeaderMap) -> Response {
    index_or_notice(&headers)
}

fn index_or_notice(headers: &HeaderMap) -> Response {
    match serve_file("index.html", headers) {
        Some(r) => r,
        None => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "web client not built (client-web/dist/index.html missing): run `npm ci`"
                );
            });
            let mut r = Html(INDEX_HTML).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
            r
        }
    }
}

/// Every request no route matched: a client file, the SPA fallback, or a JSON 404.
pub(super) async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let api = path == "api" || path.starts_with("api/");
    if api || !(method == Method::GET || method == Method::HEAD) {
        return AppError::NotFound("no such endpoint".to_owned()).into_response();
    }
    if let Some(r) = serve_file(path, &headers) {
        return r;
    }
    // A path naming a file (`/assets/x.js`, `/favicon.ico`) that does not exist is a 404, not
    // the app: a stale asset must not come back as HTML.
    let names_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if names_file || path.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    index_or_notice(&headers)
}

fn serve_file(path: &str, headers: &HeaderMap) -> Option<Response> {
    let file = ClientAssets::get(path)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype().to_owned();
        let mut r = file.data.into_owned().into_response();
        if let Ok(v) = HeaderValue::from_str(&mime) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Some(r)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str) -> Response {
        fallback(Method::GET, path.parse().expect("uri"), HeaderMap::new()).await
    }

    fn cache_control(r: &Response) -> Option<&str> {
        r.headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn api_paths_and_other_methods_are_json_404s() {
        for path in ["/api", "/api/v1/nope"] {
            assert_eq!(get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let post = fallback(
            Method::POST,
            "/rooms/x".parse().expect("uri"),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_missing_file_is_a_404_not_the_app() {
        for path in ["/assets/index-00000000.js", "/nope.png"] {
            assert_eq!(get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn client_routes_get_the_page_uncached() {
        // The built client's index.html, or the notice when it is not built: HTML either way.
        let r = get("/rooms/r-123").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(cache_control(&r), Some(NO_CACHE));
        let ct = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        assert!(ct.is_some_and(|c| c.starts_with("text/html")), "{ct:?}");
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable_and_revalidate_by_etag() {
        let Some(asset) = ClientAssets::iter().find(|p| p.starts_with("assets/")) else {
            return; // client not built here: nothing embedded to check
        };
        let r = get(&format!("/{asset}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(cache_control(&r), Some(IMMUTABLE));
        let etag = r.headers().get(header::ETAG).cloned().expect("etag");
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, etag);
        let again = fallback(
            Method::GET,
            format!("/{asset}").parse().expect("uri"),
            headers,
        )
        .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
}
