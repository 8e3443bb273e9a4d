//! Forms whose fields are not known in advance (an event type's questions, a list of
//! host checkboxes) arrive as name/value pairs; this reads them by name. Also how a
//! use-case message is shown above a form.

/// A posted form as its name/value pairs, in order.
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of `name`, or "" when it is absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `(suffix, value)` of every field named `prefix<suffix>`.
    pub fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|s| (s, v.as_str())))
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// A use-case message ("the reason must be …") as a sentence above a form.
pub fn sentence(message: &str) -> String {
    let mut c = message.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_by_name() {
        let p = Pairs(vec![
            ("a".into(), "1".into()),
            ("host".into(), "x".into()),
            ("host".into(), "y".into()),
            ("answer_q1".into(), "hi".into()),
        ]);
        assert_eq!(p.get("a"), "1");
        assert_eq!(p.get("missing"), "");
        assert_eq!(p.all("host"), ["x", "y"]);
        assert_eq!(p.prefixed("answer_").collect::<Vec<_>>(), [("q1", "hi")]);
        assert!(p.has("a") && !p.has("b"));
        assert_eq!(sentence("ärger"), "Ärger");
        assert_eq!(sentence(""), "");
    }
}
