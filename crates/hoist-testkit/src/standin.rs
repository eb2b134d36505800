//! A small framework for stand-in HTTP servers.
//!
//! A stand-in is a [`Router`] of handlers (closures that hold whatever state
//! the real service keeps) served on an ephemeral loopback port, with every
//! request recorded and a script of faults to inject. Timelines advance per
//! request: a fault applies to the next matching requests, never "after N
//! seconds", so no test waits on a wall clock.
//!
//! A response may also stream its body ([`Response::stream`]): the server
//! asks a source for each chunk as it can send one, and a source with
//! nothing to say yet waits for the stand-in's [`Bell`], which every answered
//! request rings — so a stream follows state that other requests (or the
//! test) change, still without a clock.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

use crate::tls::TestCa;

/// A request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Values of the route's `{name}` segments.
    pub params: BTreeMap<String, String>,
}

impl Request {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_pairs(self.query.as_deref().unwrap_or(""))
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        form_pairs(&String::from_utf8_lossy(&self.body))
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A route parameter.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Decodes `a=1&b=x%20y` into pairs (`+` is a space).
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (byte, None) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body (with a stream: what is sent before the stream's chunks).
    pub body: Vec<u8>,
    /// A body streamed after `body`, chunked, a chunk at a time.
    pub stream: Option<Chunks>,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            stream: None,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status)
            .header("content-type", "application/json")
            .body(value.to_string())
    }

    /// A plain-text response.
    pub fn text(status: u16, text: &str) -> Self {
        Self::new(status)
            .header("content-type", "text/plain")
            .body(text)
    }

    /// The same response with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same response with `body`.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The same response with its body streamed (chunked) after `body`:
    /// `next` is asked for each chunk once the previous one is handed to
    /// the connection (see [`Chunk`]).
    pub fn stream(mut self, next: impl FnMut() -> Chunk + Send + 'static) -> Self {
        self.stream = Some(Chunks(Arc::new(Mutex::new(Box::new(next)))));
        self
    }

    /// The same response with `chunks` streamed one by one, then the end.
    pub fn chunked(self, chunks: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut chunks = chunks.into_iter().collect::<Vec<_>>().into_iter();
        self.stream(move || chunks.next().map_or(Chunk::End, Chunk::Data))
    }
}

/// What a streamed body's source answers each time it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Send these bytes now.
    Data(Vec<u8>),
    /// Nothing yet: ask again once the [`Bell`] rings (after every request
    /// the stand-in answers, or when the test rings it).
    Wait,
    /// End the body (the terminating chunk); the connection stays usable.
    End,
    /// Break the connection mid-body, as a proxy timing out does: the
    /// client sees an incomplete message.
    Break,
}

/// A streamed body's source (see [`Response::stream`]).
#[derive(Clone)]
pub struct Chunks(Arc<Mutex<Box<dyn FnMut() -> Chunk + Send>>>);

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chunks(..)")
    }
}

impl Chunks {
    fn next(&self) -> Chunk {
        (self.0.lock().unwrap())()
    }
}

/// Wakes the streamed bodies that wait for something to change
/// ([`Chunk::Wait`]). Every answered request rings it; a test that changes
/// state behind the server's back rings it too ([`StandIn::bell`]).
#[derive(Debug, Clone, Default)]
pub struct Bell(Arc<Notify>);

impl Bell {
    /// Wakes every waiting stream, which then asks its source again.
    pub fn ring(&self) {
        self.0.notify_waiters();
    }
}

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Routes by method and path pattern. A pattern's `{name}` segment matches
/// one segment and `{name*}` the rest of the path; unmatched requests get a
/// 404 with a JSON body, as most APIs answer.
#[derive(Clone, Default)]
pub struct Router {
    routes: Vec<(String, Vec<String>, Handler)>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route.
    pub fn route(
        mut self,
        method: &str,
        pattern: &str,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Self {
        let segments = pattern
            .trim_start_matches('/')
            .split('/')
            .map(String::from)
            .collect();
        self.routes
            .push((method.to_owned(), segments, Arc::new(handler)));
        self
    }

    fn handle(&self, request: &mut Request) -> Response {
        let path: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        for (method, pattern, handler) in &self.routes {
            if *method != request.method {
                continue;
            }
            if let Some(params) = match_path(pattern, &path) {
                request.params = params;
                return handler(request);
            }
        }
        Response::json(
            404,
            &serde_json::json!({"message": "Not Found", "path": request.path}),
        )
    }
}

fn match_path(pattern: &[String], path: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (i, segment) in pattern.iter().enumerate() {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("*}")) {
            params.insert(name.to_owned(), path.get(i..)?.join("/"));
            return Some(params);
        }
        let actual = path.get(i)?;
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                params.insert(name.to_owned(), percent_decode(actual));
            }
            None if segment == actual => {}
            None => return None,
        }
    }
    (pattern.len() == path.len()).then_some(params)
}

/// A fault injected instead of the handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Answer with this status and `Retry-After: seconds`.
    RetryAfter {
        /// The status (429 or 503, usually).
        status: u16,
        /// The `Retry-After` value in seconds.
        seconds: u64,
    },
    /// Close the connection without answering.
    Reset,
    /// Never answer (until the stand-in stops), so the client times out.
    Stall,
}

struct Scripted {
    path_prefix: Option<String>,
    fault: Fault,
}

struct Shared {
    router: Router,
    faults: Mutex<VecDeque<Scripted>>,
    log: Mutex<Vec<Request>>,
    stop: Notify,
    bell: Bell,
}

/// A running stand-in server. Stops when dropped.
pub struct StandIn {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// Serves `router` over plain HTTP on 127.0.0.1.
    pub fn start(router: Router) -> Self {
        Self::spawn(router, None)
    }

    /// Serves `router` over HTTPS with a certificate for `localhost` and
    /// 127.0.0.1 issued by `ca`.
    pub fn start_tls(router: Router, ca: &TestCa) -> Self {
        Self::spawn(router, Some(ca.server_config()))
    }

    fn spawn(router: Router, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let shared = Arc::new(Shared {
            router,
            faults: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            stop: Notify::new(),
            bell: Bell::default(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let serving = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(listener, serving, tls));
        });
        Self {
            addr,
            scheme,
            shared,
            thread: Some(thread),
        }
    }

    /// The base URL, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `host:port`, as a registry is named.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Injects `fault` into the next request.
    pub fn fault(&self, fault: Fault) {
        self.faults(1, fault);
    }

    /// Injects `fault` into each of the next `count` requests.
    pub fn faults(&self, count: usize, fault: Fault) {
        let mut faults = self.shared.faults.lock().unwrap();
        for _ in 0..count {
            faults.push_back(Scripted {
                path_prefix: None,
                fault: fault.clone(),
            });
        }
    }

    /// Injects `fault` into the next request whose path starts with `prefix`.
    pub fn fault_on(&self, prefix: &str, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(Scripted {
            path_prefix: Some(prefix.to_owned()),
            fault,
        });
    }

    /// Every request received so far, faulted ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The bell that wakes waiting streams, for state changed outside a
    /// request.
    pub fn bell(&self) -> Bell {
        self.shared.bell.clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.stop.notify_waiters();
        // A stop issued before the accept loop first waits is kept by
        // `notify_one`'s permit.
        self.shared.stop.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            () = shared.stop.notified() => break,
        };
        let shared = Arc::clone(&shared);
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&shared), request));
            let builder = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
    connections.abort_all();
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    shared: Arc<Shared>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    let mut request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(String::from),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        params: BTreeMap::new(),
    };
    shared.log.lock().unwrap().push(request.clone());

    let fault = {
        let mut faults = shared.faults.lock().unwrap();
        let position = faults.iter().position(|s| {
            s.path_prefix
                .as_ref()
                .is_none_or(|prefix| request.path.starts_with(prefix.as_str()))
        });
        position.and_then(|i| faults.remove(i)).map(|s| s.fault)
    };
    let response = match fault {
        None => shared.router.handle(&mut request),
        Some(Fault::Status(status)) => Response::new(status),
        Some(Fault::RetryAfter { status, seconds }) => {
            Response::new(status).header("retry-after", &seconds.to_string())
        }
        Some(Fault::Reset) => return Err(Dropped),
        Some(Fault::Stall) => {
            shared.stop.notified().await;
            return Err(Dropped);
        }
    };
    // Whatever the request changed, waiting streams look again.
    shared.bell.ring();
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    let head = (!response.body.is_empty()).then(|| Bytes::from(response.body));
    let body = match response.stream {
        None => Body::Whole(head),
        Some(chunks) => Body::Streamed {
            head,
            chunks,
            bell: Arc::clone(&shared.bell.0),
            sent: false,
            waiting: None,
        },
    };
    Ok(builder.body(body).expect("valid response"))
}

/// A response body: whole (with a length) or streamed (chunked).
enum Body {
    Whole(Option<Bytes>),
    Streamed {
        head: Option<Bytes>,
        chunks: Chunks,
        bell: Arc<Notify>,
        /// Set after a chunk: the next poll yields once, so hyper flushes
        /// the chunk to the socket before the source is asked again.
        sent: bool,
        /// Armed before the source answered [`Chunk::Wait`], so a ring in
        /// between is not lost.
        waiting: Option<Pin<Box<OwnedNotified>>>,
    },
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        let (head, chunks, bell, sent, waiting) = match self.get_mut() {
            Self::Whole(bytes) => return Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Streamed {
                head,
                chunks,
                bell,
                sent,
                waiting,
            } => (head, chunks, bell, sent, waiting),
        };
        if let Some(bytes) = head.take() {
            *sent = true;
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        if std::mem::take(sent) {
            // hyper flushes what it holds when the body is pending: the
            // chunk reaches the client before anything else happens (a
            // break included).
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            if let Some(rung) = waiting.as_mut() {
                ready!(rung.as_mut().poll(cx));
                *waiting = None;
            }
            let mut armed = Box::pin(Arc::clone(bell).notified_owned());
            armed.as_mut().enable();
            match chunks.next() {
                Chunk::Data(bytes) => {
                    *sent = true;
                    return Poll::Ready(Some(Ok(Frame::data(bytes.into()))));
                }
                Chunk::End => return Poll::Ready(None),
                Chunk::Break => return Poll::Ready(Some(Err(Dropped))),
                Chunk::Wait => *waiting = Some(armed),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Self::Streamed { .. } => SizeHint::default(),
        }
    }
}

/// Sends `request` on to the plain-HTTP server at `base_url` over one
/// HTTP/1.1 connection and hands back its answer: how a stand-in "front"
/// checks or breaks some requests and passes the rest to a real peer. The
/// client's `Host` header is kept, so absolute URLs the peer makes (upload
/// locations) point back at the front. Blocking is fine: a front serves one
/// test.
pub fn forward(base_url: &str, request: &Request) -> Response {
    use std::io::{Read as _, Write as _};
    let address = base_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream =
        std::net::TcpStream::connect(address).expect("the peer behind the front is up");
    let target = match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method,
        request.body.len()
    );
    if request.header("host").is_none() {
        head.push_str(&format!("Host: {address}\r\n"));
    }
    for (name, value) in &request.headers {
        if !matches!(
            name.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&request.body))
        .expect("write to the peer");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read from the peer");
    parse_response(&raw, request.method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let mut response = Response::new(status);
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "transfer-encoding" if value.contains("chunked") => chunked = true,
                "content-length" => length = Some(value.to_owned()),
                "connection" | "date" | "server" | "transfer-encoding" => {}
                _ => response = response.header(&name, value),
            }
        }
    }
    let body = &raw[split + 4..];
    if head_only {
        // A HEAD answer keeps the length it would have had.
        if let Some(length) = length {
            response = response.header("content-length", &length);
        }
        return response;
    }
    response.body(if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}
