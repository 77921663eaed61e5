//! Jupyter wire messages: check, parse and build them.
//!
//! Framing and HMAC-SHA256 signatures are `jupyter-zmq-client`'s ([`RawMessage::from_multipart`]
//! verifies the signature in constant time; `Connection::send` signs), the envelope types are
//! `jupyter-protocol`'s. Content stays JSON here: the typed contents of `jupyter-protocol` reject
//! requests that leave out optional fields (`silent`, `store_history`, history's `output`…) and
//! lack fields a kernel must send (`supported_features`), so each handler reads the fields it
//! needs with the protocol's defaults.

use bytes::Bytes;
use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::RawMessage;
use serde_json::{json, Value};

/// The messaging protocol version this kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// The HMAC key of a connection, as `jupyter-zmq-client` holds it (`None` when the key is empty).
pub type Mac = Option<ring::hmac::Key>;

/// Why an incoming multipart message was dropped.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("bad frames or signature: {0}")]
    Frames(#[from] jupyter_zmq_client::RuntimeError),
    #[error("invalid JSON in the {part}: {source}")]
    Json {
        part: &'static str,
        source: serde_json::Error,
    },
}

/// A verified request from a client, on any channel.
#[derive(Debug, Clone)]
pub struct Request {
    /// ZeroMQ routing identities: replies go back to this peer.
    pub identities: Vec<Bytes>,
    pub header: Header,
    /// The metadata frame (JupyterLab sends `cellId` and `deletedCells` in it).
    pub metadata: Value,
    pub content: Value,
}

impl Request {
    /// Checks the signature and parses the four JSON frames of a multipart message.
    pub fn parse(multipart: zeromq::ZmqMessage, mac: &Mac) -> Result<Request, WireError> {
        let raw = RawMessage::from_multipart(multipart, mac)?;
        let json = |index: usize, part: &'static str| -> Result<Value, WireError> {
            serde_json::from_slice(&raw.jparts[index])
                .map_err(|source| WireError::Json { part, source })
        };
        let header: Header =
            serde_json::from_value(json(0, "header")?).map_err(|source| WireError::Json {
                part: "header",
                source,
            })?;
        let metadata = json(2, "metadata").unwrap_or(Value::Null);
        let content = json(3, "content")?;
        if !content.is_object() {
            return Err(WireError::Json {
                part: "content",
                source: serde::de::Error::custom("content must be a JSON object"),
            });
        }
        Ok(Request {
            identities: raw.zmq_identities,
            header,
            metadata,
            content,
        })
    }

    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }

    /// The client session (one client connection) that sent this request.
    pub fn session(&self) -> &str {
        &self.header.session
    }

    /// A string field of the content, empty when absent.
    pub fn str_field(&self, name: &str) -> &str {
        self.content.get(name).and_then(Value::as_str).unwrap_or("")
    }

    /// A boolean field of the content, with the protocol's default when absent.
    pub fn bool_field(&self, name: &str, default: bool) -> bool {
        self.content
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    /// An integer field of the content, with a default when absent.
    pub fn int_field(&self, name: &str, default: i64) -> i64 {
        self.content
            .get(name)
            .and_then(Value::as_i64)
            .unwrap_or(default)
    }

    /// A message routed back to the peer that sent this request (shell, control, stdin).
    pub fn reply(&self, msg_type: &str, content: Value) -> JupyterMessage {
        let mut message = self.broadcast(msg_type, content);
        message.zmq_identities = self.identities.clone();
        message
    }

    /// A message for IOPub with this request as parent. Its identities stay empty: on IOPub the
    /// first frame is the topic, and a client's routing id must not leak there.
    pub fn broadcast(&self, msg_type: &str, content: Value) -> JupyterMessage {
        message(msg_type, content, Some(self.header.clone()))
    }

    /// The `*_reply` that answers a request type this kernel does not know, so the client does not wait.
    pub fn unknown_reply(&self) -> Option<JupyterMessage> {
        let stem = self.msg_type().strip_suffix("_request")?;
        Some(self.reply(
            &format!("{stem}_reply"),
            error_content(
                "UnknownMessageType",
                &format!("cellar does not handle `{}`", self.msg_type()),
            ),
        ))
    }
}

/// Builds a message with JSON content; the session is set by the connection that sends it.
pub fn message(msg_type: &str, content: Value, parent: Option<Header>) -> JupyterMessage {
    JupyterMessage {
        zmq_identities: Vec::new(),
        header: Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            username: "cellar".to_string(),
            session: String::new(),
            date: chrono::Utc::now(),
            msg_type: msg_type.to_string(),
            version: PROTOCOL_VERSION.to_string(),
        },
        parent_header: parent,
        metadata: json!({}),
        content: JupyterMessageContent::UnknownMessage(UnknownMessage {
            msg_type: msg_type.to_string(),
            content,
        }),
        buffers: Vec::new(),
        channel: None,
    }
}

/// The content of a reply whose status is `error`.
pub fn error_content(ename: &str, evalue: &str) -> Value {
    json!({ "status": "error", "ename": ename, "evalue": evalue, "traceback": [] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::hmac;

    const DELIMITER: &[u8] = b"<IDS|MSG>";

    fn frames(
        key: &[u8],
        header: &str,
        content: &str,
        signature: Option<&str>,
    ) -> zeromq::ZmqMessage {
        let parts: Vec<Bytes> = vec![
            Bytes::from_static(b"peer"),
            Bytes::from_static(DELIMITER),
            Bytes::new(),
            Bytes::from(header.to_string()),
            Bytes::from_static(b"{}"),
            Bytes::from_static(b"{}"),
            Bytes::from(content.to_string()),
        ];
        let mac = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut ctx = hmac::Context::with_key(&mac);
        for part in &parts[3..7] {
            ctx.update(part);
        }
        let good = data_encoding_hex(ctx.sign().as_ref());
        let mut parts = parts;
        parts[2] = Bytes::from(signature.map(str::to_string).unwrap_or(good));
        zeromq::ZmqMessage::try_from(parts).unwrap()
    }

    fn data_encoding_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    const HEADER: &str = r#"{"msg_id":"1","username":"u","session":"s1","msg_type":"execute_request","version":"5.3","date":"2024-01-01T00:00:00Z"}"#;

    fn key() -> Mac {
        Some(hmac::Key::new(hmac::HMAC_SHA256, b"secret"))
    }

    #[test]
    fn accepts_a_signed_request_without_optional_fields() {
        let request =
            Request::parse(frames(b"secret", HEADER, r#"{"code":"1+1"}"#, None), &key()).unwrap();
        assert_eq!(request.msg_type(), "execute_request");
        assert_eq!(request.session(), "s1");
        assert_eq!(request.str_field("code"), "1+1");
        assert!(!request.bool_field("silent", false));
        assert!(request.bool_field("store_history", true));
        assert_eq!(request.identities, vec![Bytes::from_static(b"peer")]);
    }

    #[test]
    fn rejects_a_wrong_or_missing_signature() {
        let wrong = frames(b"other key", HEADER, r#"{"code":"1"}"#, None);
        assert!(matches!(
            Request::parse(wrong, &key()),
            Err(WireError::Frames(_))
        ));
        let missing = frames(b"secret", HEADER, r#"{"code":"1"}"#, Some(""));
        assert!(matches!(
            Request::parse(missing, &key()),
            Err(WireError::Frames(_))
        ));
    }

    #[test]
    fn rejects_invalid_json_and_truncated_frames() {
        let bad = frames(b"secret", HEADER, "{not json", None);
        assert!(matches!(
            Request::parse(bad, &key()),
            Err(WireError::Json {
                part: "content",
                ..
            })
        ));
        let truncated =
            zeromq::ZmqMessage::try_from(vec![Bytes::from_static(DELIMITER), Bytes::new()])
                .unwrap();
        assert!(Request::parse(truncated, &key()).is_err());
    }

    #[test]
    fn replies_keep_the_route_and_broadcasts_drop_it() {
        let request =
            Request::parse(frames(b"secret", HEADER, r#"{"code":"1"}"#, None), &key()).unwrap();
        let reply = request.reply("execute_reply", json!({"status": "ok"}));
        assert_eq!(reply.zmq_identities, request.identities);
        assert_eq!(reply.parent_header.as_ref().unwrap().msg_id, "1");
        assert_eq!(reply.header.msg_type, "execute_reply");
        let status = request.broadcast("status", json!({"execution_state": "busy"}));
        assert!(status.zmq_identities.is_empty());
        let wire = serde_json::to_value(&status.content).unwrap();
        assert_eq!(wire, json!({"execution_state": "busy"}));
    }

    #[test]
    fn unknown_requests_get_an_error_reply() {
        let header = HEADER.replace("execute_request", "frobnicate_request");
        let request = Request::parse(frames(b"secret", &header, "{}", None), &key()).unwrap();
        let reply = request.unknown_reply().unwrap();
        assert_eq!(reply.header.msg_type, "frobnicate_reply");
    }
}
