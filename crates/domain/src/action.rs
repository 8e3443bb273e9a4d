//! "Action Required": why a user cannot yet be booked the way their org expects
//! (seed 002, SPEC §2). The reasons are derived from facts about the user's
//! connections; the store keeps the derived mask on the user row so the Users table
//! can count it per filter without recomputing it for every user on every request.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::role::UnknownVariant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    NoCalendar,
    NoConferencing,
    NoProfilePhoto,
    NoSalesforce,
    /// A connected calendar cannot be read: its busy times are unknown, so the user is
    /// not offered to invitees until it works again.
    CalendarUnreadable,
}

impl ActionReason {
    pub const ALL: [ActionReason; 5] = [
        ActionReason::NoCalendar,
        ActionReason::NoConferencing,
        ActionReason::NoProfilePhoto,
        ActionReason::NoSalesforce,
        ActionReason::CalendarUnreadable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionReason::NoCalendar => "no_calendar",
            ActionReason::NoConferencing => "no_conferencing",
            ActionReason::NoProfilePhoto => "no_profile_photo",
            ActionReason::NoSalesforce => "no_salesforce",
            ActionReason::CalendarUnreadable => "calendar_unreadable",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            ActionReason::NoCalendar => "Connect a calendar",
            ActionReason::NoConferencing => {
                "Set up video conferencing for the chosen meeting location"
            }
            ActionReason::NoProfilePhoto => "Add a profile photo",
            ActionReason::NoSalesforce => "Connect Salesforce",
            ActionReason::CalendarUnreadable => {
                "A connected calendar cannot be read: reconnect it or check its settings"
            }
        }
    }

    fn bit(self) -> i64 {
        1 << (self as i64)
    }
}

/// Where a user's meetings take place (User availability → Meeting location).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingLocationKind {
    /// Not chosen yet.
    Unset,
    Zoom,
    Teams,
    /// A personal meeting link, dial-in, phone number or address entered by hand.
    Manual,
    InPerson,
}

impl MeetingLocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unset => "unset",
            Self::Zoom => "zoom",
            Self::Teams => "teams",
            Self::Manual => "manual",
            Self::InPerson => "in_person",
        }
    }
}

impl FromStr for MeetingLocationKind {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Unset,
            Self::Zoom,
            Self::Teams,
            Self::Manual,
            Self::InPerson,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| UnknownVariant {
            what: "meeting location",
            value: s.chars().take(40).collect(),
            expected: "unset, zoom, teams, manual, in_person".into(),
        })
    }
}

/// Everything the reasons depend on, gathered by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionFacts {
    pub has_profile_photo: bool,
    pub has_working_calendar: bool,
    /// Some calendar connection failed its last read.
    pub has_unreadable_calendar: bool,
    pub location: MeetingLocationKind,
    pub has_manual_details: bool,
    pub has_working_zoom: bool,
    pub has_working_teams: bool,
    pub org_uses_salesforce: bool,
    pub has_working_salesforce: bool,
}

/// A set of reasons; empty means the user needs no action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionReasons(i64);

impl ActionReasons {
    pub fn from_facts(f: &ActionFacts) -> Self {
        let mut r = Self::default();
        if !f.has_working_calendar {
            r.0 |= ActionReason::NoCalendar.bit();
        }
        let conferencing_ok = match f.location {
            MeetingLocationKind::Unset => false,
            MeetingLocationKind::Zoom => f.has_working_zoom,
            MeetingLocationKind::Teams => f.has_working_teams,
            MeetingLocationKind::Manual => f.has_manual_details,
            MeetingLocationKind::InPerson => true,
        };
        if !conferencing_ok {
            r.0 |= ActionReason::NoConferencing.bit();
        }
        if !f.has_profile_photo {
            r.0 |= ActionReason::NoProfilePhoto.bit();
        }
        if f.has_unreadable_calendar {
            r.0 |= ActionReason::CalendarUnreadable.bit();
        }
        if f.org_uses_salesforce && !f.has_working_salesforce {
            r.0 |= ActionReason::NoSalesforce.bit();
        }
        r
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn bits(self) -> i64 {
        self.0
    }
    pub fn from_bits(bits: i64) -> Self {
        Self(bits & ActionReason::ALL.iter().map(|r| r.bit()).sum::<i64>())
    }
    pub fn iter(self) -> impl Iterator<Item = ActionReason> {
        ActionReason::ALL
            .into_iter()
            .filter(move |r| self.0 & r.bit() != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> ActionFacts {
        ActionFacts {
            has_unreadable_calendar: false,
            has_profile_photo: true,
            has_working_calendar: true,
            location: MeetingLocationKind::InPerson,
            has_manual_details: false,
            has_working_zoom: false,
            has_working_teams: false,
            org_uses_salesforce: false,
            has_working_salesforce: false,
        }
    }

    #[test]
    fn a_ready_user_needs_nothing() {
        assert!(ActionReasons::from_facts(&ready()).is_empty());
    }

    #[test]
    fn each_missing_fact_gives_its_reason() {
        let r = |f: ActionFacts| ActionReasons::from_facts(&f).iter().collect::<Vec<_>>();
        assert_eq!(
            r(ActionFacts {
                has_working_calendar: false,
                ..ready()
            }),
            [ActionReason::NoCalendar]
        );
        assert_eq!(
            r(ActionFacts {
                has_profile_photo: false,
                ..ready()
            }),
            [ActionReason::NoProfilePhoto]
        );
        assert_eq!(
            r(ActionFacts {
                org_uses_salesforce: true,
                ..ready()
            }),
            [ActionReason::NoSalesforce]
        );
        assert_eq!(
            r(ActionFacts {
                location: MeetingLocationKind::Unset,
                ..ready()
            }),
            [ActionReason::NoConferencing]
        );
        // Zoom chosen but not connected is a reason: never a silent fallback.
        assert_eq!(
            r(ActionFacts {
                location: MeetingLocationKind::Zoom,
                ..ready()
            }),
            [ActionReason::NoConferencing]
        );
        assert!(r(ActionFacts {
            location: MeetingLocationKind::Zoom,
            has_working_zoom: true,
            ..ready()
        })
        .is_empty());
        assert!(r(ActionFacts {
            location: MeetingLocationKind::Manual,
            has_manual_details: true,
            ..ready()
        })
        .is_empty());
    }

    #[test]
    fn bits_round_trip() {
        let f = ActionFacts {
            has_working_calendar: false,
            has_profile_photo: false,
            ..ready()
        };
        let r = ActionReasons::from_facts(&f);
        assert_eq!(ActionReasons::from_bits(r.bits()), r);
    }
}
