//! User status and the Users-table filters (seed 002).

use crate::role::{Role, UnknownVariant};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, has not joined yet.
    Pending,
    Active,
    /// Holds no seat and no connection; kept for the record.
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Pending => "pending",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

impl FromStr for UserStatus {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "deactivated" => Ok(Self::Deactivated),
            _ => Err(UnknownVariant {
                what: "status",
                value: s.chars().take(40).collect(),
                expected: "pending, active, deactivated".into(),
            }),
        }
    }
}

/// The filter tabs of the Users table. Every filter but `Deactivated` shows only users
/// who hold a seat (pending or active): a deactivated admin is not counted as an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserFilter {
    All,
    Active,
    Admin,
    Chat,
    Meetings,
    Pending,
    Deactivated,
}

impl UserFilter {
    pub const ALL: [UserFilter; 7] = [
        UserFilter::All,
        UserFilter::Active,
        UserFilter::Admin,
        UserFilter::Chat,
        UserFilter::Meetings,
        UserFilter::Pending,
        UserFilter::Deactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserFilter::All => "all",
            UserFilter::Active => "active",
            UserFilter::Admin => "admin",
            UserFilter::Chat => "chat",
            UserFilter::Meetings => "meetings",
            UserFilter::Pending => "pending",
            UserFilter::Deactivated => "deactivated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UserFilter::All => "All",
            UserFilter::Active => "Active",
            UserFilter::Admin => "Admin",
            UserFilter::Chat => "Chat",
            UserFilter::Meetings => "Meetings",
            UserFilter::Pending => "Pending",
            UserFilter::Deactivated => "Deactivated",
        }
    }

    /// Whether a user with this role and status is listed under this filter.
    pub fn matches(self, role: Role, status: UserStatus) -> bool {
        let seated = status != UserStatus::Deactivated;
        match self {
            UserFilter::All => seated,
            UserFilter::Active => status == UserStatus::Active,
            UserFilter::Admin => seated && role.is_admin_like(),
            UserFilter::Chat => seated && role == Role::Chat,
            UserFilter::Meetings => seated && role == Role::Meetings,
            UserFilter::Pending => status == UserStatus::Pending,
            UserFilter::Deactivated => status == UserStatus::Deactivated,
        }
    }
}

impl FromStr for UserFilter {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UserFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                what: "filter",
                value: s.chars().take(40).collect(),
                expected: UserFilter::ALL.map(UserFilter::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deactivated_users_only_appear_under_deactivated() {
        for f in UserFilter::ALL {
            for r in Role::ALL {
                assert_eq!(
                    f.matches(r, UserStatus::Deactivated),
                    f == UserFilter::Deactivated
                );
            }
        }
        assert!(UserFilter::Admin.matches(Role::CustomAdmin, UserStatus::Pending));
        assert!(!UserFilter::Active.matches(Role::Admin, UserStatus::Pending));
    }
}
