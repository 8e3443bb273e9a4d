//! Which link a meeting gets (SPEC §3.5): the event type's location, or the host's own
//! setting, resolved against the host's connections.

use convene_domain::{EventLocation, ManualDetails, MeetingLocationKind, UserStatus};
use convene_store::{ConnectionRow, UserRow};

/// Where a booked meeting happens, as stored on the booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedLocation {
    /// A Zoom meeting created on the host's own account.
    Zoom,
    /// Details given by hand (a personal link, dial-in, phone or address).
    Manual(String),
    InPerson(String),
}

impl ResolvedLocation {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Zoom => "zoom",
            Self::Manual(_) => "manual",
            Self::InPerson(_) => "in_person",
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Zoom => None,
            Self::Manual(t) | Self::InPerson(t) => Some(t),
        }
    }

    /// Whether a provider meeting must be created for it.
    pub fn needs_meeting(&self) -> bool {
        matches!(self, Self::Zoom)
    }
}

/// Why a host cannot be offered: shown to admins and on the host's own pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unbookable {
    #[error("the user is not active")]
    Inactive,
    #[error("no meeting location is chosen (User availability → Meeting location)")]
    NoLocation,
    #[error("Zoom is not connected")]
    ZoomNotConnected,
    #[error("the Zoom connection must be reauthorized")]
    ZoomNeedsReauth,
    #[error("Microsoft Teams meetings cannot be created yet; choose another meeting location")]
    TeamsUnavailable,
    #[error("the manual meeting details are empty")]
    NoManualDetails,
    #[error("a connected calendar cannot be read, so free times are unknown")]
    CalendarUnreadable,
}

impl Unbookable {
    pub fn code(self) -> &'static str {
        match self {
            Self::Inactive => "host_inactive",
            Self::NoLocation => "no_meeting_location",
            Self::ZoomNotConnected => "zoom_not_connected",
            Self::ZoomNeedsReauth => "zoom_needs_reauth",
            Self::TeamsUnavailable => "teams_unavailable",
            Self::NoManualDetails => "no_manual_details",
            Self::CalendarUnreadable => "calendar_unreadable",
        }
    }
}

/// The host's manual details, if they parse.
pub fn manual_details(host: &UserRow) -> Option<ManualDetails> {
    host.manual_details
        .as_deref()
        .and_then(|d| serde_json::from_str::<ManualDetails>(d).ok())
        .filter(|d| !d.is_empty())
}

fn zoom(zoom: Option<&ConnectionRow>) -> Result<ResolvedLocation, Unbookable> {
    match zoom.map(|c| c.status.as_str()) {
        Some("active") => Ok(ResolvedLocation::Zoom),
        Some("needs_reauth") => Err(Unbookable::ZoomNeedsReauth),
        _ => Err(Unbookable::ZoomNotConnected),
    }
}

/// Resolves where `host`'s meeting for an event type with `location` happens.
pub fn resolve(
    location: &EventLocation,
    host: &UserRow,
    zoom_connection: Option<&ConnectionRow>,
) -> Result<ResolvedLocation, Unbookable> {
    if host.status != UserStatus::Active {
        return Err(Unbookable::Inactive);
    }
    match location {
        EventLocation::Zoom => zoom(zoom_connection),
        EventLocation::Manual { details } => Ok(ResolvedLocation::Manual(details.describe())),
        EventLocation::InPerson { address } => Ok(ResolvedLocation::InPerson(address.clone())),
        EventLocation::HostDefault => match host.meeting_location {
            MeetingLocationKind::Unset => Err(Unbookable::NoLocation),
            MeetingLocationKind::Zoom => zoom(zoom_connection),
            MeetingLocationKind::Teams => Err(Unbookable::TeamsUnavailable),
            MeetingLocationKind::Manual => manual_details(host)
                .map(|d| ResolvedLocation::Manual(d.describe()))
                .ok_or(Unbookable::NoManualDetails),
            MeetingLocationKind::InPerson => Ok(ResolvedLocation::InPerson(
                manual_details(host)
                    .and_then(|d| d.address)
                    .unwrap_or_else(|| "In person (the host will share the address)".into()),
            )),
        },
    }
}
