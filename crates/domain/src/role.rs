//! Roles and the permissions a custom admin can be granted (SPEC §2, seed 002).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CustomAdmin,
    Chat,
    Meetings,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::CustomAdmin, Role::Chat, Role::Meetings];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CustomAdmin => "custom_admin",
            Role::Chat => "chat",
            Role::Meetings => "meetings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::CustomAdmin => "Custom Admin",
            Role::Chat => "Chat",
            Role::Meetings => "Meetings",
        }
    }

    /// Whether a user with this role and (for custom admins) these grants may do `p`.
    /// Admins may do everything; chat and meetings users no admin action at all.
    pub fn permits(self, granted: PermissionSet, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::CustomAdmin => granted.contains(p),
            Role::Chat | Role::Meetings => false,
        }
    }

    pub fn is_admin_like(self) -> bool {
        matches!(self, Role::Admin | Role::CustomAdmin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown {what} '{value}' (expected one of: {expected})")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

impl FromStr for Role {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                what: "role",
                value: s.chars().take(40).collect(),
                expected: Role::ALL.map(Role::as_str).join(", "),
            })
    }
}

/// What a custom admin may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ManageUsers,
    ManageGroups,
    /// Org-wide integrations and the org settings they live in.
    ManageIntegrations,
    ManageEventTypes,
    ViewAllMeetings,
    ManageApiKeys,
    ViewAuditLog,
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::ManageUsers,
        Permission::ManageGroups,
        Permission::ManageIntegrations,
        Permission::ManageEventTypes,
        Permission::ViewAllMeetings,
        Permission::ManageApiKeys,
        Permission::ViewAuditLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ManageUsers => "manage_users",
            Permission::ManageGroups => "manage_groups",
            Permission::ManageIntegrations => "manage_integrations",
            Permission::ManageEventTypes => "manage_event_types",
            Permission::ViewAllMeetings => "view_all_meetings",
            Permission::ManageApiKeys => "manage_api_keys",
            Permission::ViewAuditLog => "view_audit_log",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Permission::ManageUsers => "Manage users",
            Permission::ManageGroups => "Manage groups",
            Permission::ManageIntegrations => "Manage integrations and org settings",
            Permission::ManageEventTypes => "Manage event types and routing",
            Permission::ViewAllMeetings => "View all meetings",
            Permission::ManageApiKeys => "Manage API keys",
            Permission::ViewAuditLog => "View audit log",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl FromStr for Permission {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                what: "permission",
                value: s.chars().take(40).collect(),
                expected: Permission::ALL.map(Permission::as_str).join(", "),
            })
    }
}

/// A set of permissions, stored as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub fn empty() -> Self {
        Self(0)
    }
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }
    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }
    /// Unknown bits (from a newer version) are dropped rather than trusted.
    pub fn from_bits(bits: i64) -> Self {
        let known = Self::all().0;
        Self(u32::try_from(bits & i64::from(known)).unwrap_or(0))
    }
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = Self::empty();
        for p in iter {
            s.insert(p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_everything_members_nothing_custom_what_granted() {
        let granted: PermissionSet = [Permission::ManageGroups].into_iter().collect();
        for p in Permission::ALL {
            assert!(Role::Admin.permits(PermissionSet::empty(), p));
            assert!(!Role::Meetings.permits(PermissionSet::all(), p));
            assert!(!Role::Chat.permits(PermissionSet::all(), p));
            assert_eq!(
                Role::CustomAdmin.permits(granted, p),
                p == Permission::ManageGroups
            );
        }
    }

    #[test]
    fn permission_bits_round_trip() {
        for p in Permission::ALL {
            let s: PermissionSet = [p].into_iter().collect();
            assert_eq!(PermissionSet::from_bits(s.bits()), s);
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
        }
        assert_eq!(PermissionSet::from_bits(1 << 30), PermissionSet::empty());
        assert!("root".parse::<Role>().is_err());
    }
}
