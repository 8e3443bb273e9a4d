//! [`Secret`]: a credential (token, client secret, PKCE verifier) that never prints.

use std::fmt;
use subtle::ConstantTimeEq;

/// A string that must not reach logs: `Debug` and `Display` print `<redacted>`.
///
/// Read it with [`Secret::expose`], only where the value is sent or sealed. It has no
/// serde implementation on purpose, so it cannot slip into a JSON response or log
/// record by derive.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself; call it only at the point of use.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Compared in constant time, so equality checks do not leak a prefix.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(Secret::from("a"), Secret::new("a".into()));
        assert_ne!(Secret::from("a"), Secret::from("ab"));
        assert_ne!(Secret::from("a"), Secret::from("b"));
    }
}
