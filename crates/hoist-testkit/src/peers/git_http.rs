//! Real git over smart HTTP: git's own `http-backend` CGI behind a small
//! HTTP/1.1 server on loopback that demands a token as GitHub's git endpoint
//! does, and records every request.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;

use super::require;

/// One request as the server received it; the body is left out.
#[derive(Debug, Clone)]
pub struct GitHttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path and query as sent, such as
    /// `/remote.git/info/refs?service=git-upload-pack`.
    pub target: String,
    /// The headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The status the server answered with.
    pub status: u16,
}

impl GitHttpRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

struct Shared {
    git: PathBuf,
    /// `GIT_PROJECT_ROOT`: the directory holding the repository.
    root: PathBuf,
    /// The repository's directory name, such as `remote.git`.
    name: String,
    token: String,
    log: Mutex<Vec<GitHttpRequest>>,
    stop: Notify,
}

/// A bare repository served over smart HTTP on 127.0.0.1 by the real
/// `git http-backend`: fetch and push work as against GitHub, with
/// `Authorization: Basic base64(<any user>:<token>)` required on every
/// request (anything else gets a 401 and a `Basic` challenge). Requests are
/// served concurrently, each by its own CGI process. Stops when dropped.
pub struct GitHttpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The project root [`GitHttpServer::start_as`] lays out.
    _root: Option<tempfile::TempDir>,
}

impl GitHttpServer {
    /// Serves `bare_repo` (such as [`GitRemote::path`](super::GitRemote::path))
    /// to clients that present `token`.
    pub fn start(bare_repo: &Path, token: &str) -> Self {
        let bare_repo = bare_repo
            .canonicalize()
            .expect("the bare repository exists");
        let name = bare_repo
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 repository name")
            .to_owned();
        Self::serve_root(bare_repo.parent().expect("parent"), name, token, None)
    }

    /// Serves `bare_repo` at `/<owner>/<name>.git`, where GitHub serves the
    /// repository `owner/name`: with this server's address as
    /// `GITHUB_SERVER_URL`, hoist's `owner/name` inputs reach it by git.
    pub fn start_as(bare_repo: &Path, owner_name: &str, token: &str) -> Self {
        let (owner, name) = owner_name.split_once('/').expect("owner/name");
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join(owner)).expect("owner dir");
        let bare_repo = bare_repo
            .canonicalize()
            .expect("the bare repository exists");
        std::os::unix::fs::symlink(
            &bare_repo,
            root.path().join(owner).join(format!("{name}.git")),
        )
        .expect("link the repository");
        let path = root.path().to_owned();
        Self::serve_root(&path, format!("{owner}/{name}.git"), token, Some(root))
    }

    /// The server's address as `GITHUB_SERVER_URL`: `http://127.0.0.1:PORT`.
    pub fn server_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve_root(
        root: &Path,
        name: String,
        token: &str,
        owned: Option<tempfile::TempDir>,
    ) -> Self {
        let git = require("git", "the Debian package `git`");
        let shared = Arc::new(Shared {
            git,
            root: root.to_owned(),
            name,
            token: token.to_owned(),
            log: Mutex::new(Vec::new()),
            stop: Notify::new(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let serving = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(listener, serving));
        });
        Self {
            addr,
            shared,
            thread: Some(thread),
            _root: owned,
        }
    }

    /// The repository's URL, such as `http://127.0.0.1:41234/remote.git`.
    pub fn url(&self) -> String {
        format!("http://{}/{}", self.addr, self.shared.name)
    }

    /// Every request received so far, refused ones included.
    pub fn requests(&self) -> Vec<GitHttpRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The `http.extraHeader` value that presents `token` as GitHub's
    /// checkout does: `Authorization: Basic base64(x-access-token:<token>)`.
    pub fn auth_header(token: &str) -> String {
        let credentials = STANDARD.encode(format!("x-access-token:{token}"));
        format!("Authorization: Basic {credentials}")
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.shared.stop.notify_waiters();
        self.shared.stop.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = shared.stop.notified() => break,
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&shared), peer, request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.abort_all();
}

/// What the CGI (or the server, before it) answers.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn answer(
    shared: Arc<Shared>,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_owned(), value)
        })
        .collect();
    let cgi = Cgi {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: headers.clone(),
        peer,
        body,
    };
    let user = authorised(cgi.header("authorization"), &shared.token);
    let in_repo = cgi
        .path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(shared.name.as_str()))
        .is_some_and(|rest| rest.starts_with('/'));
    let answer = match user {
        None => Answer {
            status: 401,
            headers: vec![(
                "www-authenticate".into(),
                "Basic realm=\"hoist-test\"".into(),
            )],
            body: b"Authentication required\n".to_vec(),
        },
        Some(_) if !in_repo => Answer {
            status: 404,
            headers: Vec::new(),
            body: b"Repository not found\n".to_vec(),
        },
        Some(user) => {
            let shared = Arc::clone(&shared);
            tokio::task::spawn_blocking(move || cgi.run(&shared, &user))
                .await
                .unwrap_or_else(|_| Answer {
                    status: 500,
                    headers: Vec::new(),
                    body: b"the CGI panicked\n".to_vec(),
                })
        }
    };
    shared.log.lock().unwrap().push(GitHttpRequest {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string()),
        headers,
        status: answer.status,
    });
    let mut builder = hyper::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name, value);
    }
    Ok(builder
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| {
            let mut response = hyper::Response::new(Full::new(Bytes::new()));
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }))
}

/// The user of a Basic `Authorization` header whose password is `token`.
fn authorised(header: Option<&str>, token: &str) -> Option<String> {
    let (scheme, encoded) = header?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    same_bytes(password.as_bytes(), token.as_bytes()).then(|| user.to_owned())
}

/// Compares without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// One request, as the CGI is given it.
struct Cgi {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    peer: SocketAddr,
    body: Vec<u8>,
}

impl Cgi {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Runs `git http-backend` for this request (RFC 3875's variables; a
    /// `REMOTE_USER` enables receive-pack) and parses what it prints.
    fn run(&self, shared: &Shared, user: &str) -> Answer {
        let mut command = Command::new(&shared.git);
        command
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_PROJECT_ROOT", &shared.root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GATEWAY_INTERFACE", "CGI/1.1")
            .env("SERVER_PROTOCOL", "HTTP/1.1")
            .env("REQUEST_METHOD", &self.method)
            .env("PATH_INFO", &self.path)
            .env("QUERY_STRING", &self.query)
            .env("CONTENT_LENGTH", self.body.len().to_string())
            .env("REMOTE_USER", if user.is_empty() { "git" } else { user })
            .env("REMOTE_ADDR", self.peer.ip().to_string());
        for (name, value) in &self.headers {
            match name.as_str() {
                "authorization" | "content-length" => continue,
                "content-type" => {
                    command.env("CONTENT_TYPE", value);
                }
                "git-protocol" => {
                    command.env("GIT_PROTOCOL", value);
                }
                _ => {}
            }
            // HTTP_CONTENT_ENCODING among them: git gzips large bodies.
            let variable = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
            command.env(variable, value);
        }
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            return failure("git http-backend did not start");
        };
        let mut stdin = child.stdin.take().expect("stdin");
        let body = self.body.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
        let output = child.wait_with_output();
        let _ = writer.join();
        match output {
            Ok(output) if !output.stdout.is_empty() => parse_cgi(&output.stdout),
            Ok(output) => failure(&String::from_utf8_lossy(&output.stderr)),
            Err(e) => failure(&e.to_string()),
        }
    }
}

fn failure(why: &str) -> Answer {
    Answer {
        status: 500,
        headers: Vec::new(),
        body: why.as_bytes().to_vec(),
    }
}

/// A CGI response: header lines, a blank line, the body; `Status:` sets the
/// status (200 otherwise).
fn parse_cgi(raw: &[u8]) -> Answer {
    let mut answer = Answer {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let mut rest = raw;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&rest[..end]);
        let line = line.trim_end_matches('\r');
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            answer.status = value
                .split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .unwrap_or(500);
        } else {
            answer.headers.push((name.to_owned(), value.to_owned()));
        }
    }
    answer.body = rest.to_vec();
    answer
}
