//! The life of a booked meeting: its status and the state of its meeting link.

use crate::role::UnknownVariant;
use std::fmt;
use std::str::FromStr;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| UnknownVariant {
                    what: $what,
                    value: s.chars().take(40).collect(),
                    expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Whether a booking still stands.
    BookingStatus, "booking status" {
        Confirmed = "confirmed",
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// Where a booking's provider meeting (its unique link) stands. The `sync_meeting`
    /// job moves it; everything else only reads it.
    MeetingState, "meeting state" {
        /// The location needs no provider meeting (manual details, in person).
        NotNeeded = "not_needed",
        /// A meeting must be created or changed; the job is queued.
        Pending = "pending",
        /// The provider meeting matches the booking.
        Ready = "ready",
        /// The provider refused for good or kept failing; people were told, and the
        /// job keeps trying so the link follows once the cause is fixed.
        Failed = "failed",
        /// The booking was cancelled and its provider meeting is deleted (or never was).
        Removed = "removed",
    }
);

/// Which conferencing provider made a booking's meeting.
pub const PROVIDER_ZOOM: &str = "zoom";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for s in MeetingState::ALL {
            assert_eq!(s.as_str().parse::<MeetingState>().unwrap(), *s);
        }
        for s in BookingStatus::ALL {
            assert_eq!(s.as_str().parse::<BookingStatus>().unwrap(), *s);
        }
        assert!("nope".parse::<BookingStatus>().is_err());
    }
}
