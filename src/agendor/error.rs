//! Errors of the Agendor HTTP client.
//!
//! No variant carries request headers, so the API token can never appear in an
//! error message or its `Debug` output.

/// A failed Agendor request, or a response that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgendorError {
    #[error(
        "Agendor rejected the API token (HTTP {status}): check the token in the company's \
         Integrações tab or AGENDOR_TOKEN"
    )]
    Unauthorized { status: u16 },

    /// Any other unsuccessful status. `body` contains the first 200 characters of the response.
    #[error("Agendor returned HTTP {status} for {path}: {body}")]
    Status {
        status: u16,
        path: String,
        body: String,
    },

    #[error(
        "Agendor has no record at {path} (HTTP 404): check that the id exists and was not deleted"
    )]
    NotFound { path: String },

    /// A timeout, a connection failure or a body that could not be read.
    #[error("request to Agendor {path} failed: {message}")]
    Transport { path: String, message: String },

    #[error("Agendor sent an invalid response body for {path}: {message}")]
    InvalidBody { path: String, message: String },

    #[error(
        "Agendor response for {path} has no `data` member: the fetch failed, which does not \
         mean there are no records"
    )]
    MissingData { path: String },

    #[error(
        "Agendor deal stream did not end after {max} pages: raise the page limit or use a \
         later start date"
    )]
    TooManyPages { max: usize },

    #[error(
        "Agendor sent a next-page link on another origin than the base URL, `{link}`: paging \
         stopped so that the API token is not sent there"
    )]
    ForeignNextLink { link: String },

    #[error(
        "the Agendor API token is empty or contains characters not allowed in an HTTP \
         header: check the token in the company's Integrações tab or AGENDOR_TOKEN"
    )]
    InvalidToken,

    #[error("invalid Agendor HTTP settings: {message}")]
    InvalidSettings { message: String },
}

impl AgendorError {
    /// Tells whether retrying the same request may succeed: HTTP 429, 5xx, timeouts
    /// and connection failures.
    pub fn is_transient(&self) -> bool {
        match self {
            AgendorError::Status { status, .. } => *status == 429 || (500..=599).contains(status),
            AgendorError::Transport { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> AgendorError {
        AgendorError::Status {
            status,
            path: "/deals".into(),
            body: String::new(),
        }
    }

    #[test]
    fn transient_errors_are_classified() {
        let transport = AgendorError::Transport {
            path: "/deals".into(),
            message: "timed out after 15 s".into(),
        };
        let cases = [
            (status(429), true),
            (status(500), true),
            (status(503), true),
            (status(599), true),
            (status(400), false),
            (status(403), false),
            (transport, true),
            (AgendorError::Unauthorized { status: 401 }, false),
            (
                AgendorError::NotFound {
                    path: "/deals/1".into(),
                },
                false,
            ),
            (
                AgendorError::MissingData {
                    path: "/deals".into(),
                },
                false,
            ),
            (AgendorError::TooManyPages { max: 3 }, false),
        ];

        for (error, expected) in cases {
            assert_eq!(error.is_transient(), expected, "{error:?}");
        }
    }
}
