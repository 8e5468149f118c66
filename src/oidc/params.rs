//! Request parameters as sent: a list of pairs, so that a repeated parameter is
//! seen and refused (RFC 6749 §3.1, §3.2: "parameters MUST NOT be included more
//! than once").

use super::error::OAuthError;

/// Longest value accepted for any single parameter (a 4xx beyond, never a 5xx).
pub const MAX_VALUE_LEN: usize = 4096;

#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// Parse `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(text: &str) -> Self {
        Self(
            url::form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The single value of `name`; an error if it is repeated or too long. Empty counts as absent
    /// (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted").
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k == name {
                if found.is_some() {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter `{name}` is repeated"
                    )));
                }
                if v.len() > MAX_VALUE_LEN {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter `{name}` is too long"
                    )));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter `{name}` is missing")))
    }

    /// The first repeated parameter name, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        // Linear: a 64 KiB body can hold thousands of names.
        let mut seen = std::collections::HashSet::with_capacity(self.0.len());
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    /// Every value of `name`, for the few forms that repeat a field on purpose
    /// (the consent page's ticked scopes); OAuth parameters use [`Params::get`].
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        let p = Params::parse("a=1&b=&c=x&c=y");
        assert_eq!(p.get("a").unwrap(), Some("1"));
        assert_eq!(p.get("b").unwrap(), None);
        assert_eq!(p.get("c").unwrap_err().code, "invalid_request");
        assert_eq!(p.first_repeated(), Some("c"));
        assert!(p.require("d").is_err());
        let long = format!("a={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert!(Params::parse(&long).get("a").is_err());
    }
}
