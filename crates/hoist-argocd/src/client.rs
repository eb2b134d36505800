//! The Argo CD API calls wait-for-sync makes, through hoist's HTTP policy.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use hoist_http::body::{MIB, read_capped};
use hoist_http::redact::redact_url;
use hoist_http::{Clock, HttpClient, HttpError, RetryPolicy};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

use crate::application::Application;
use crate::error::ArgoError;

/// The most hoist reads of one Argo CD answer. An Application is a custom
/// resource, so etcd's request limit (1.5 MiB by default) bounds it; a live
/// resource comes back as a JSON string, escaped, and is bounded the same
/// way. 16 MiB is ten times the largest either can be (DESIGN.md, "Bounded
/// reads").
pub const MAX_ANSWER: u64 = 16 * MIB;

/// The most hoist buffers of one server-sent event: an event carries a
/// whole Application, so it has the same bound as [`MAX_ANSWER`].
pub const MAX_EVENT: u64 = MAX_ANSWER;

/// Which application: its name, and the namespace and project when the
/// server needs them (apps in any namespace, project-scoped tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, for apps outside Argo CD's own namespace.
    pub namespace: Option<String>,
    /// The project, so a project token gets 404 instead of 403.
    pub project: Option<String>,
}

/// An Argo CD server and the token to call it with.
pub struct ArgoCd {
    http: HttpClient,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    base: Url,
    token: String,
}

impl std::fmt::Debug for ArgoCd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgoCd")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl ArgoCd {
    /// A client for the server at `base` (already checked by
    /// `hoist_http::parse_endpoint`).
    pub fn new(
        http: HttpClient,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        base: Url,
        token: &str,
    ) -> Self {
        Self {
            http,
            policy,
            clock,
            base,
            token: token.to_owned(),
        }
    }

    fn url(&self, segments: &[&str], app: &AppRef, extra: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(namespace) = &app.namespace {
                query.append_pair("appNamespace", namespace);
            }
            if let Some(project) = &app.project {
                query.append_pair("project", project);
            }
            for (key, value) in extra {
                query.append_pair(key, value);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        body: Option<&Value>,
        app: &AppRef,
    ) -> Result<Value, ArgoError> {
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                let request = client
                    .request(method.clone(), url.clone())
                    .bearer_auth(&self.token);
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
        let status = response.status();
        let bytes = read_capped(
            response,
            MAX_ANSWER,
            &format!("Argo CD's answer to {operation}"),
        )
        .await?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        Err(failure(operation, status, &value, app))
    }

    /// Exchanges a CI OIDC ID token for an Argo CD token through Argo CD's
    /// Dex (`POST /api/dex/token`, RFC 8693 token exchange with the static
    /// `argo-cd-cli` client), as Argo CD documents for GitHub Actions.
    pub async fn exchange_dex_token(
        http: &HttpClient,
        policy: &RetryPolicy,
        clock: &dyn Clock,
        base: &Url,
        id_token: &str,
        connector: &str,
    ) -> Result<String, ArgoError> {
        const OPERATION: &str = "exchanging the OIDC token at Dex";
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "dex", "token"]);
        }
        let form = [
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", id_token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("connector_id", connector),
            ("scope", "openid"),
        ];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = http
            .send(policy, clock, |client| {
                client
                    .post(url.clone())
                    .basic_auth("argo-cd-cli", Some(""))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await?;
        let status = response.status().as_u16();
        let bytes = read_capped(response, MAX_ANSWER, "Dex's token answer").await?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 200
            && let Some(token) = body["access_token"].as_str().filter(|t| !t.is_empty())
        {
            return Ok(token.to_owned());
        }
        let message = match (body["error"].as_str(), body["error_description"].as_str()) {
            (Some(error), Some(description)) => format!("{error}: {description}"),
            (Some(error), None) => error.to_owned(),
            _ => format!("status {status}"),
        };
        Err(match status {
            200 => ArgoError::BadAnswer {
                operation: OPERATION,
                detail: "no `access_token`".into(),
            },
            400 | 401 | 403 => {
                ArgoError::Unauthorized(format!("Dex refused the token exchange ({message})"))
            }
            status => ArgoError::Api {
                operation: OPERATION,
                status,
                message,
            },
        })
    }

    /// `GET /api/v1/applications/{name}`; with `refresh`, Argo CD compares
    /// against git again before answering (`normal` or `hard`).
    pub async fn application(
        &self,
        app: &AppRef,
        refresh: Option<&str>,
    ) -> Result<Application, ArgoError> {
        let extra: Vec<(&str, &str)> = refresh.map(|r| ("refresh", r)).into_iter().collect();
        let url = self.url(&["api", "v1", "applications", &app.name], app, &extra);
        let value = self
            .call("reading the application", Method::GET, url, None, app)
            .await?;
        if value["status"].is_null() && value["metadata"].is_null() {
            return Err(ArgoError::BadAnswer {
                operation: "reading the application",
                detail: "no `metadata` or `status`".into(),
            });
        }
        Ok(Application(value))
    }

    /// `POST /api/v1/applications/{name}/sync` for `revision`.
    pub async fn sync(&self, app: &AppRef, revision: &str) -> Result<(), ArgoError> {
        let url = self.url(&["api", "v1", "applications", &app.name, "sync"], app, &[]);
        let mut body = json!({"name": app.name, "revision": revision, "prune": false});
        if let Some(namespace) = &app.namespace {
            body["appNamespace"] = json!(namespace);
        }
        self.call("requesting a sync", Method::POST, url, Some(&body), app)
            .await
            .map(drop)
    }

    /// `GET /api/v1/applications/{name}/syncwindows`: whether a sync may
    /// run now, and the active windows as `kind schedule (duration)`.
    pub async fn sync_windows(&self, app: &AppRef) -> Result<(bool, Vec<String>), ArgoError> {
        let url = self.url(
            &["api", "v1", "applications", &app.name, "syncwindows"],
            app,
            &[],
        );
        let value = self
            .call("reading the sync windows", Method::GET, url, None, app)
            .await?;
        let windows = value["activeWindows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| {
                format!(
                    "{} window `{}` for {}",
                    w["kind"].as_str().unwrap_or("?"),
                    w["schedule"].as_str().unwrap_or("?"),
                    w["duration"].as_str().unwrap_or("?")
                )
            })
            .collect();
        Ok((value["canSync"].as_bool().unwrap_or(true), windows))
    }

    /// `GET /api/v1/applications/{name}/resource`: the live manifest of one
    /// resource (`group`, `version`, `kind`, `namespace`, `name`).
    pub async fn resource(
        &self,
        app: &AppRef,
        group: &str,
        version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ArgoError> {
        let query = [
            ("group", group),
            ("version", version),
            ("kind", kind),
            ("namespace", namespace),
            ("resourceName", name),
        ];
        let url = self.url(
            &["api", "v1", "applications", &app.name, "resource"],
            app,
            &query,
        );
        let value = self
            .call("reading a resource", Method::GET, url, None, app)
            .await?;
        let manifest = value["manifest"].as_str().unwrap_or("null");
        serde_json::from_str(manifest).map_err(|e| ArgoError::BadAnswer {
            operation: "reading a resource",
            detail: e.to_string(),
        })
    }

    /// Opens the server-sent-event stream of one application's changes
    /// (`GET /api/v1/stream/applications?name=…`).
    pub async fn watch(&self, app: &AppRef) -> Result<Events, ArgoError> {
        let url = self.url(
            &["api", "v1", "stream", "applications"],
            app,
            &[("name", &app.name)],
        );
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                client
                    .get(url.clone())
                    .bearer_auth(&self.token)
                    .header("Accept", "text/event-stream")
            })
            .await?;
        let status = response.status();
        if !status.is_success() {
            let bytes = read_capped(
                response,
                MAX_ANSWER,
                "Argo CD's answer to watching the application",
            )
            .await?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Err(failure("watching the application", status, &body, app));
        }
        let url = redact_url(response.url());
        Ok(Events::new(response.bytes_stream().boxed(), url, MAX_EVENT))
    }
}

/// The error for an answer that is not a success (grpc-gateway's
/// `{"error", "code", "message"}`).
fn failure(operation: &'static str, status: StatusCode, body: &Value, app: &AppRef) -> ArgoError {
    let message = body["message"]
        .as_str()
        .or(body["error"].as_str())
        .unwrap_or("(no message)")
        .to_owned();
    match status.as_u16() {
        401 => ArgoError::Unauthorized(message),
        403 => ArgoError::Forbidden(message),
        404 => ArgoError::NotFound(app.name.clone()),
        status => ArgoError::Api {
            operation,
            status,
            message,
        },
    }
}

/// The application events of a stream, as they arrive.
pub struct Events {
    bytes: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    /// What has arrived of the events not yet handed out.
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no event end, so each chunk
    /// is searched once, not the whole buffer again.
    scanned: usize,
    /// The stream's redacted URL, for errors.
    url: String,
    /// The most one event may hold.
    cap: u64,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    fn new(
        bytes: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        url: String,
        cap: u64,
    ) -> Self {
        Self {
            bytes,
            buffer: Vec::new(),
            scanned: 0,
            url,
            cap,
        }
    }

    /// The next application state; `None` when the server closed the
    /// stream, an error when it broke.
    pub async fn next(&mut self) -> Option<Result<Application, ArgoError>> {
        loop {
            // An end straddling the last search's edge is still found.
            let from = self.scanned.saturating_sub(1);
            if let Some(end) = find_event_end(&self.buffer[from..]).map(|end| end + from) {
                let event: Vec<u8> = self.buffer.drain(..end).collect();
                self.scanned = 0;
                if let Some(app) = parse_event(&event) {
                    return Some(Ok(app));
                }
                continue;
            }
            self.scanned = self.buffer.len();
            if self.buffer.len() as u64 > self.cap {
                self.buffer = Vec::new();
                return Some(Err(ArgoError::Http(HttpError::BodyTooLarge {
                    what: "an event of Argo CD's application stream".to_owned(),
                    url: self.url.clone(),
                    cap: self.cap,
                })));
            }
            match self.bytes.next().await? {
                Ok(chunk) => self.buffer.extend_from_slice(&chunk),
                Err(error) => {
                    return Some(Err(ArgoError::BadAnswer {
                        operation: "watching the application",
                        detail: error.without_url().to_string(),
                    }));
                }
            }
        }
    }
}

/// The end (after the blank line) of the first complete event in `buffer`.
fn find_event_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\n\n").map(|i| i + 2)
}

/// `data: {"result":{"type":…,"application":{…}}}` → the application;
/// comments (`:`) and other events give `None`.
fn parse_event(event: &[u8]) -> Option<Application> {
    let text = std::str::from_utf8(event).ok()?;
    let data: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    let value: Value = serde_json::from_str(&data).ok()?;
    let application = value.pointer("/result/application")?;
    Some(Application(application.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_at_blank_lines_and_comments_skipped() {
        let stream = b":\n\ndata: {\"result\":{\"type\":\"ADDED\",\"application\":{\"metadata\":{\"resourceVersion\":\"7\"}}}}\n\n";
        let first = find_event_end(stream).unwrap();
        assert!(parse_event(&stream[..first]).is_none());
        let app = parse_event(&stream[first..]).unwrap();
        assert_eq!(app.resource_version(), Some("7"));
    }

    fn events_from(
        chunks: impl Iterator<Item = &'static [u8]> + Send + 'static,
        cap: u64,
    ) -> Events {
        let stream = futures_util::stream::iter(chunks.map(|c| Ok(bytes::Bytes::from_static(c))));
        Events::new(stream.boxed(), "http://127.0.0.1/stream".into(), cap)
    }

    fn next_now(events: &mut Events) -> Option<Result<Application, ArgoError>> {
        use futures_util::FutureExt;
        events
            .next()
            .now_or_never()
            .expect("a ready stream never waits")
    }

    #[test]
    fn an_event_end_split_across_chunks_is_found() {
        let mut events = events_from(
            [
                &b"data: {\"result\":{\"application\":{\"metadata\":{\"resourceVersion\":\"8\"}}}}\n"[..],
                b"\n",
            ]
            .into_iter(),
            1024,
        );
        let app = next_now(&mut events).unwrap().unwrap();
        assert_eq!(app.resource_version(), Some("8"));
        assert!(next_now(&mut events).is_none());
    }

    #[test]
    fn an_event_over_the_cap_ends_with_the_cap_error_without_reading_on() {
        let chunks =
            std::iter::once(&b"data: "[..]).chain(std::iter::repeat(&b"0123456789abcdef"[..]));
        let mut events = events_from(chunks, 4096);
        let error = next_now(&mut events).unwrap().unwrap_err();
        assert!(
            matches!(
                error,
                ArgoError::Http(HttpError::BodyTooLarge { cap: 4096, .. })
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("an event of Argo CD's application stream"),
            "{error}"
        );
    }

    /// What the stream carries, a piece at a time.
    #[derive(Clone, Debug)]
    enum Piece {
        /// An application event, its JSON split over `data:` lines.
        App(u32, usize, bool),
        /// A comment event (`:` keep-alive).
        Comment(String),
        /// Another event type, or data that is not an application.
        Other(String),
        /// Arbitrary bytes.
        Noise(Vec<u8>),
    }

    fn piece() -> impl proptest::strategy::Strategy<Value = Piece> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (any::<u32>(), 0usize..64, any::<bool>()).prop_map(|(v, at, space)| Piece::App(v, at, space)),
            1 => "[ -~]{0,12}".prop_map(Piece::Comment),
            1 => "[ -~]{0,24}".prop_map(Piece::Other),
            1 => prop::collection::vec(prop_oneof![Just(b'\n'), Just(b':'), any::<u8>()], 0..24).prop_map(Piece::Noise),
        ]
    }

    /// The stream's bytes, and the resource versions a correct reader yields when there is
    /// no noise.
    fn render(pieces: &[Piece]) -> (Vec<u8>, Vec<String>) {
        let mut bytes = Vec::new();
        let mut versions = Vec::new();
        for piece in pieces {
            match piece {
                Piece::App(version, at, space) => {
                    let json = format!(
                        "{{\"result\":{{\"type\":\"MODIFIED\",\"application\":{{\"metadata\":{{\"resourceVersion\":\"{version}\"}}}}}}}}"
                    );
                    let (first, second) = json.split_at(at % json.len());
                    let sep = if *space { " " } else { "" };
                    bytes.extend(format!("data:{sep}{first}\ndata:{second}\n\n").bytes());
                    versions.push(version.to_string());
                }
                Piece::Comment(text) => bytes.extend(format!(":{text}\n\n").bytes()),
                Piece::Other(text) => bytes.extend(format!("event: x\ndata: {text}\n\n").bytes()),
                Piece::Noise(noise) => bytes.extend(noise),
            }
        }
        (bytes, versions)
    }

    /// Feeds `bytes` cut at `cuts` and collects what `Events` yields, as text.
    fn read_all(bytes: &[u8], cuts: &[usize]) -> Vec<String> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.extend([0, bytes.len()]);
        cuts.sort_unstable();
        cuts.dedup();
        let chunks: Vec<reqwest::Result<bytes::Bytes>> = cuts
            .windows(2)
            .map(|w| Ok(bytes::Bytes::copy_from_slice(&bytes[w[0]..w[1]])))
            .collect();
        let stream = futures_util::stream::iter(chunks);
        let mut events = Events::new(stream.boxed(), "http://127.0.0.1/stream".into(), 1 << 20);
        let mut seen = Vec::new();
        while let Some(next) = next_now(&mut events) {
            seen.push(match next {
                Ok(app) => app.0.to_string(),
                Err(error) => format!("error: {error}"),
            });
        }
        seen
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 256,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// However the stream is cut into chunks, the same events come out, and without noise
        /// they are exactly the application events sent.
        #[test]
        fn events_do_not_depend_on_chunking(
            pieces in proptest::collection::vec(piece(), 0..12),
            cuts in proptest::collection::vec(proptest::prelude::any::<usize>(), 0..16),
        ) {
            let (bytes, versions) = render(&pieces);
            let whole = read_all(&bytes, &[]);
            proptest::prop_assert_eq!(&read_all(&bytes, &cuts), &whole);
            let byte_by_byte: Vec<usize> = (0..bytes.len()).collect();
            proptest::prop_assert_eq!(&read_all(&bytes, &byte_by_byte), &whole);
            if !pieces.iter().any(|p| matches!(p, Piece::Noise(_))) {
                let got: Vec<String> = whole
                    .iter()
                    .map(|app| {
                        let value: Value = serde_json::from_str(app).unwrap_or_default();
                        value["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_owned()
                    })
                    .collect();
                proptest::prop_assert_eq!(got, versions);
            }
        }

        /// Arbitrary bytes, arbitrarily cut: no panic, and the same events either way.
        #[test]
        fn arbitrary_bytes_frame_the_same_however_cut(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            cuts in proptest::collection::vec(proptest::prelude::any::<usize>(), 0..16),
        ) {
            proptest::prop_assert_eq!(read_all(&bytes, &cuts), read_all(&bytes, &[]));
            let _ = parse_event(&bytes);
        }
    }
}
