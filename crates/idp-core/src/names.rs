//! Which provider names a deployment accepts.

/// The provider names the reference system accepts, each with its own defaults and rules.
pub const REFERENCE_PROVIDERS: [&str; 3] = ["tara", "eduteams", "keycloak"];

/// Which names `provider` may take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProviderNamePolicy {
    /// Any slug of 1-32 characters `[a-z0-9][a-z0-9_-]*`, so one deployment can hold many
    /// generic OIDC providers.
    #[default]
    AnySlug,
    /// Only the listed names (`IDP_PROVIDER_NAMES`); `waldur` stands for the reference's three.
    Only(Vec<String>),
}

impl ProviderNamePolicy {
    /// Parses the `IDP_PROVIDER_NAMES` setting: empty or `any` for [`Self::AnySlug`], `waldur`
    /// for the reference's three names, or a comma-separated list of slugs.
    pub fn from_setting(setting: &str) -> Result<Self, String> {
        let setting = setting.trim();
        if setting.is_empty() || setting.eq_ignore_ascii_case("any") {
            return Ok(Self::AnySlug);
        }
        let mut names = Vec::new();
        for name in setting
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            if name.eq_ignore_ascii_case("waldur") {
                names.extend(REFERENCE_PROVIDERS.iter().map(|n| (*n).to_owned()));
            } else if is_slug(name) {
                names.push(name.to_owned());
            } else {
                return Err(format!(
                    "invalid provider name {name:?} in IDP_PROVIDER_NAMES"
                ));
            }
        }
        Ok(Self::Only(names))
    }

    /// True when `name` may be used as a provider name.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            Self::AnySlug => is_slug(name),
            Self::Only(names) => names.iter().any(|allowed| allowed == name),
        }
    }
}

fn is_slug(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=32).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_slug_accepts_generic_names_and_rejects_others() {
        let policy = ProviderNamePolicy::AnySlug;
        for ok in ["tara", "my-idp", "a", "0_x", &"a".repeat(32)] {
            assert!(policy.allows(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "A",
            "a.b",
            "a/b",
            "a b",
            &"a".repeat(33),
            "é",
        ] {
            assert!(!policy.allows(bad), "{bad}");
        }
    }

    #[test]
    fn waldur_setting_restores_the_three_reference_names() {
        let policy = ProviderNamePolicy::from_setting("waldur").unwrap();
        assert!(policy.allows("keycloak"));
        assert!(!policy.allows("remote-eduteams"));
        assert!(!policy.allows("generic"));
        assert!(ProviderNamePolicy::from_setting("Bad Name").is_err());
        assert_eq!(
            ProviderNamePolicy::from_setting("").unwrap(),
            ProviderNamePolicy::AnySlug
        );
    }
}
