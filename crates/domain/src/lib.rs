//! The vocabulary of Convene: identifiers, parsed values and the rules that need no IO.
//!
//! **Architecture Invariant:** this crate does no IO. It depends on no database, HTTP or
//! async crate, so every rule here can be tested (and property-tested) in isolation.
//! Values are parsed at the edge into the types below; code that holds an `Email` or a
//! `Password` never re-validates it.

pub mod action;
pub mod booking;
pub mod email;
pub mod event_type;
pub mod ids;
pub mod invite;
pub mod lock;
pub mod names;
pub mod role;
pub mod schedule;
pub mod user;

pub use action::{ActionFacts, ActionReason, ActionReasons, MeetingLocationKind};
pub use booking::{BookingStatus, MeetingState};
pub use email::{Email, EmailError};
pub use event_type::{
    parse_description, parse_questions, AnswerError, Answers, EventLocation, EventSlug, EventTitle,
    EventTypeError, EventTypeKind, HttpsUrl, LocationError, ManualDetails, PhoneNumber, Question,
    QuestionKind, Timing, TimingInput,
};
pub use ids::*;
pub use invite::{parse_invite_list, InviteCandidate, InviteRejection};
pub use lock::LockResource;
pub use names::{GroupName, NameError, OrgName, OrgSlug, Password, PersonName, TimeZoneName};
pub use role::{Permission, PermissionSet, Role, UnknownVariant};
pub use user::{UserFilter, UserStatus};
