//! Identifiers. Every id is a UUIDv7: time-ordered (good for cursor pagination and
//! index locality) and never reused, so a deleted-and-recreated user is a different user.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, never-before-used id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization (tenant).
    OrgId
);
id_type!(
    /// A user of an organization.
    UserId
);
id_type!(
    /// A named set of users.
    GroupId
);
id_type!(
    /// An invitation sent to a pending user.
    InvitationId
);
id_type!(
    /// An API key.
    ApiKeyId
);
id_type!(
    /// An audit-log entry.
    AuditId
);
id_type!(
    /// A background job.
    JobId
);
id_type!(
    /// A message in the local mail outbox.
    OutboxId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
        assert_eq!(a, a.to_string().parse().unwrap());
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
id_type!(
    /// A bookable kind of meeting (personal, Round Robin or Collective).
    EventTypeId
);
id_type!(
    /// One booked meeting.
    BookingId
);
