//! Scheduling and booking: availability, event types, slots, bookings, and the jobs
//! that give each booking its meeting link and emails.
//!
//! The slot maths is the pure core in `convene_domain::schedule`; this module gathers
//! its inputs from the store (hours, bookings, who can get a link), and turns its
//! answers into reservations.
//!
//! **Architecture Invariant:** a slot is only offered, and only booked, for a host
//! whose meeting can get its link ([`location::resolve`]). There is no fallback from
//! Zoom to another location.

pub mod availability;
pub mod booking;
pub mod event_types;
pub mod location;
pub mod meeting_sync;
pub mod notices;
pub mod slots;

pub use availability::AvailabilityView;
pub use booking::{Booked, BookingRequest, BookingsPage, ManagedBooking};
pub use event_types::{EventTypeInput, EventTypeView, HostInput, HostView};
pub use location::{ResolvedLocation, Unbookable};
pub use slots::SlotsAnswer;
