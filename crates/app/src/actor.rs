//! Who is acting: a signed-in user (web session or API key) or the operator (CLI).

use crate::error::{AppError, AppResult};
use convene_domain::{OrgId, Permission, PermissionSet, Role, UserId};
use convene_store::UserRow;

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub permissions: PermissionSet,
}

impl Actor {
    pub fn from_user(u: &UserRow) -> Self {
        Self {
            user_id: u.id,
            org_id: u.org_id,
            name: u.display_name().to_string(),
            email: u.email.clone(),
            role: u.role,
            permissions: u.permissions,
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.permits(self.permissions, p)
    }

    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden(p.label().to_lowercase()))
        }
    }

    pub fn require_full_admin(&self, what: &str) -> AppResult<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("{what} (only admins may)")))
        }
    }

    pub fn is_admin_like(&self) -> bool {
        self.role.is_admin_like()
    }
}
