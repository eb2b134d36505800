//! `GET /api/v1/stream/applications`: the watch stream.
//!
//! As Argo CD's stream forwarder (argoproj/pkg `grpc/http`) sends it: with
//! `Accept: text/event-stream`, `data: {"result":{"type":…,"application":
//! {…}}}` events separated by a blank line; otherwise one `{"result": …}`
//! JSON object a line. The current app comes first as `ADDED`, then each
//! change as `MODIFIED`; an unchanged app is never sent twice running.
//! Keep-alive comments are left out (they are sent on a timer).
//!
//! Each delivered event counts as a read of the app, so a client that only
//! listens sees the whole timeline; a stream with nothing new waits for the
//! stand-in's bell (any request, or the test advancing an app).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::timeline::Read;
use super::{Answer, Hub};
use crate::standin::{Chunk, Request, Response};

/// Opens a stream of the apps the query names (`name`, or every app the
/// token may see, filtered by `projects` and `appNamespace`).
pub(super) fn open(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let access = state.authenticate(request)?;
    state.follow_branches(super::Poll::Request { refreshed: None });
    if state.stream_refused {
        return Ok(bad_gateway());
    }
    let wanted = request.query_param("name").filter(|n| !n.is_empty());
    let namespace = request
        .query_param("appNamespace")
        .filter(|n| !n.is_empty());
    let project = super::requested_project(request).unwrap_or(None);
    let names: Vec<String> = state
        .apps
        .iter()
        .filter(|(name, live)| {
            let app = live.app();
            wanted.as_ref().is_none_or(|w| w == *name)
                && namespace.as_ref().is_none_or(|ns| *ns == app.namespace)
                && project.as_ref().is_none_or(|p| *p == app.project)
                && access.allows(&app.project)
        })
        .map(|(name, _)| name.clone())
        .collect();
    let end = state.stream_ends.pop_front();
    let sse = request
        .header("accept")
        .is_some_and(|accept| accept.contains("text/event-stream"));
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    let mut events = Events {
        hub: Arc::clone(hub),
        names,
        sent: BTreeMap::new(),
        delivered: 0,
        end,
        sse,
    };
    Ok(Response::new(200)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .stream(move || events.next()))
}

/// What a proxy that does not pass the stream answers.
fn bad_gateway() -> Response {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    Response::new(502)
        .header("content-type", "text/html")
        .body(page)
}

/// One stream's source.
struct Events {
    hub: Arc<Hub>,
    names: Vec<String>,
    /// The last app sent, per name.
    sent: BTreeMap<String, Value>,
    delivered: usize,
    /// After how many events the stream ends, and how.
    end: Option<(usize, Chunk)>,
    sse: bool,
}

impl Events {
    fn next(&mut self) -> Chunk {
        if let Some((after, how)) = &self.end
            && self.delivered >= *after
        {
            return how.clone();
        }
        let mut state = self.hub.state();
        loop {
            for name in &self.names {
                let Some(live) = state.apps.get_mut(name) else {
                    continue;
                };
                if self.sent.get(name) == Some(live.json()) {
                    continue;
                }
                let kind = if self.sent.contains_key(name) {
                    "MODIFIED"
                } else {
                    "ADDED"
                };
                let app = live.json().clone();
                let event = json!({"result": {"type": kind, "application": app}});
                self.sent.insert(name.clone(), app);
                if live.read(Read::Event) {
                    self.hub.ring();
                }
                self.delivered += 1;
                return Chunk::Data(self.frame(&event));
            }
            let mut moved = false;
            for name in &self.names {
                if let Some(live) = state.apps.get_mut(name) {
                    moved |= live.look();
                }
            }
            if !moved {
                return Chunk::Wait;
            }
            self.hub.ring();
        }
    }

    fn frame(&self, event: &Value) -> Vec<u8> {
        if self.sse {
            format!("data: {event}\n\n").into_bytes()
        } else {
            format!("{event}\n").into_bytes()
        }
    }
}
