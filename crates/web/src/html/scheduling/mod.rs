//! The signed-in side of scheduling: User availability (weekly hours, date overrides,
//! meeting location), event types, and the meetings on record.

mod availability;
mod event_types;
mod meetings;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(availability::routes())
        .merge(event_types::routes())
        .merge(meetings::routes())
}
