//! One request and its response, as recorded.

use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// What is sent, as reports show it (the headers, with the secret, are kept
/// apart and never recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Body as sent, if any.
    pub body: Option<String>,
}

impl RequestRecord {
    /// `GET http://host/path`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

/// What came back.
#[derive(Debug)]
pub struct ResponseRecord {
    /// Status code.
    pub status: u16,
    /// The headers as received; turned into text only when a check or a
    /// capture reads one (most responses are never asked).
    raw_headers: reqwest::header::HeaderMap,
    headers: OnceLock<Vec<(String, String)>>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// True when the body was larger than the cap and reading stopped there.
    pub truncated: bool,
    json: OnceLock<Result<Value, String>>,
}

impl ResponseRecord {
    /// A response record from headers as text (names lowercased, in order).
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        ResponseRecord {
            status,
            raw_headers: reqwest::header::HeaderMap::new(),
            headers: OnceLock::from(headers),
            body,
            truncated: false,
            json: OnceLock::new(),
        }
    }

    /// A response record from headers as received.
    pub fn from_http(status: u16, headers: reqwest::header::HeaderMap, body: Vec<u8>) -> Self {
        ResponseRecord {
            status,
            raw_headers: headers,
            headers: OnceLock::new(),
            body,
            truncated: false,
            json: OnceLock::new(),
        }
    }

    /// The headers, names lowercased, in the order received (a value that is
    /// not UTF-8 is shown with replacement characters).
    pub fn headers(&self) -> &[(String, String)] {
        self.headers.get_or_init(|| {
            self.raw_headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect()
        })
    }

    /// The body as JSON, parsed once; `Err` says why it is not JSON.
    pub fn json(&self) -> Result<&Value, &str> {
        self.json
            .get_or_init(|| {
                if self.body.is_empty() {
                    return Err("empty body".into());
                }
                serde_json::from_slice(&self.body).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Every value of header `name` (case-insensitive).
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers()
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response and how long it took.
#[derive(Debug)]
pub struct Exchange {
    /// What came back.
    pub response: ResponseRecord,
    /// From sending to the last body byte.
    pub duration: Duration,
}

/// An exchange for unit tests of checks.
#[cfg(test)]
pub(crate) fn test_exchange(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Exchange {
    Exchange {
        response: ResponseRecord::new(
            status,
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body.to_vec(),
        ),
        duration: Duration::from_millis(1),
    }
}
