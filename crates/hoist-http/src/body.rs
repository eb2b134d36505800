//! Reading an answer's body with a bound.
//!
//! `reqwest::Response::bytes()` and `json()` read whatever the server sends:
//! a broken or hostile peer that answers 2 GB (or never stops) grows the
//! action until the runner kills it, whatever `timeout` says. Every body
//! hoist reads whole goes through [`read_capped`] instead, with a cap that
//! fits the largest real answer of that API (see DESIGN.md, "Bounded
//! reads").

use reqwest::Response;

use crate::error::HttpError;
use crate::redact::redact_url;

/// One mebibyte, for writing caps.
pub const MIB: u64 = 1024 * 1024;

/// Reads `response`'s body, at most `cap` bytes; `what` names the answer in
/// the error ("Argo CD's application", …).
///
/// A `Content-Length` over the cap fails before any byte is read; a body
/// without one (chunked) is read a chunk at a time and fails as soon as it
/// passes the cap, so a hostile server costs at most `cap` plus one chunk
/// of memory. The connection is dropped with the response.
pub async fn read_capped(
    mut response: Response,
    cap: u64,
    what: &str,
) -> Result<Vec<u8>, HttpError> {
    let url = redact_url(response.url());
    let too_large = || HttpError::BodyTooLarge {
        what: what.to_owned(),
        url: url.clone(),
        cap,
    };
    if response.content_length().is_some_and(|length| length > cap) {
        return Err(too_large());
    }
    let capacity = response.content_length().unwrap_or(0).min(cap);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    // A body that stops coming within the attempt's time is a timeout.
    let exchange = crate::client::Exchange::of(&response);
    loop {
        let chunk = response.chunk().await.map_err(|source| match &exchange {
            Some(exchange) if source.is_timeout() => exchange.body_error(source),
            _ => HttpError::Body {
                what: what.to_owned(),
                url: url.clone(),
                source: source.without_url(),
            },
        })?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
}
