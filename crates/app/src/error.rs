//! The use-case error: what went wrong, in words a person can act on.

use convene_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that does not parse; `field` names the input.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("you do not have permission to {0}")]
    Forbidden(String),
    #[error("sign-in required")]
    Unauthenticated,
    /// The request cannot be done in the current state (e.g. demoting the last admin).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An invitation or other token that is unknown, used, revoked or expired.
    #[error("{0}")]
    Gone(String),
    /// Another admin holds (or took over) the edit lock; nothing was saved.
    #[error("{message}")]
    Locked { holder: String, message: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        Self::Invalid {
            field,
            message: message.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Conflict(what) => AppError::Conflict {
                code: "already_exists",
                message: format!("{what} already exists"),
            },
            other => AppError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Turns the store's `NotFound` into a named one.
pub trait NotFoundAs<T> {
    fn or_not_found(self, what: &'static str) -> AppResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> AppResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        })
    }
}
