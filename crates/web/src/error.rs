//! The one web error type, and how use-case errors become HTTP responses: JSON
//! (`{"error":{"code","message","details"}}`) for the API, a page for the browser.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use convene_app::AppError;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Html,
}

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    pub surface: Surface,
}

impl WebError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            surface: Surface::Api,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn html(mut self) -> Self {
        self.surface = Surface::Html;
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, message } => {
                WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
                    .with_details(json!({ "field": field }))
            }
            AppError::NotFound(what) => WebError::not_found(what),
            AppError::Forbidden(what) => WebError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("you do not have permission to {what}"),
            ),
            AppError::Unauthenticated => WebError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "a valid API key or session is required",
            ),
            AppError::Conflict { code, message } => {
                WebError::new(StatusCode::CONFLICT, code, message)
            }
            AppError::Gone(message) => WebError::new(StatusCode::GONE, "gone", message),
            AppError::Locked { holder, message } => {
                WebError::new(StatusCode::CONFLICT, "lock_lost", message)
                    .with_details(json!({ "holder": holder }))
            }
            AppError::Unexpected(e) => {
                tracing::error!(error = %format!("{e:#}"), "unexpected error");
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self.surface {
            Surface::Api => {
                let body = json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
                (self.status, axum::Json(body)).into_response()
            }
            Surface::Html => {
                crate::html::layout::error_page(self.status, &self.message).into_response()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, WebError>;
