//! The settings of logging people in and of absolute URLs, each from a flag or its environment
//! variable. A value that names something invalid stops the server at start.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use idp_core::ProviderNamePolicy;
use idp_core::login::{ClaimPath, SyncFields};
use idp_http::LoginSettings;
use url::Url;

/// How logins behave and how the server names itself.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// The server's external base URL (e.g. `https://idp.example.org`); absolute URLs (the
    /// login's `redirect_uri`, pagination links) start with it. Unset: from the request's Host.
    #[arg(long, env = "IDP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Whether `X-Forwarded-Host`, `X-Forwarded-Proto` and `X-Forwarded-For` count: only behind
    /// a proxy that sets them.
    #[arg(long, env = "IDP_TRUST_FORWARDED_HEADERS", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_headers: bool,
    /// The portal's URL: where logins return when a provider has no allowed_redirects, and the
    /// base of the logout and default-login pages.
    #[arg(long, env = "IDP_HOMEPORT_URL")]
    pub homeport_url: Option<String>,
    /// The provider `GET /api-auth/default/init/` logs in with.
    #[arg(long, env = "IDP_DEFAULT_PROVIDER")]
    pub default_provider: Option<String>,
    /// How long the API token of a login works: seconds, or a number with `s`, `m`, `h` or `d`.
    #[arg(long, env = "IDP_LOGIN_TOKEN_TTL", default_value = "24h")]
    pub login_token_ttl: String,
    /// `/api-auth/` requests per second per client address; 0 turns the limit off.
    #[arg(long, env = "IDP_LOGIN_RATE_LIMIT", default_value_t = 10)]
    pub login_rate_limit: u32,
    /// Whether a login that finds no user may take the one user with its (verified) email.
    #[arg(long, env = "IDP_MATCH_BY_EMAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub match_by_email: bool,
    /// Writable user fields a login writes besides first_name, last_name and email (comma- or
    /// space-separated). Unset: every field the provider maps.
    #[arg(long, env = "IDP_SYNC_FIELDS")]
    pub sync_fields: Option<String>,
    /// The claim holding roles (`staff`, `support`): a name or a JSON Pointer such as
    /// `/realm_access/roles`. Unset: roles are not read.
    #[arg(long, env = "IDP_ROLE_CLAIM")]
    pub role_claim: Option<String>,
}

/// An absolute `http` or `https` URL with a host and without query or fragment.
fn base_url(setting: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value).with_context(|| format!("{setting} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("{setting} must be an absolute http or https URL");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{setting} must not have a query or a fragment");
    }
    Ok(url)
}

/// `86400`, `90s`, `30m`, `24h`, `7d`; more than zero.
pub(crate) fn duration(setting: &str, text: &str) -> Result<Duration> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("{setting} must be seconds, or a number with s, m, h or d (e.g. 24h)"),
    };
    let number: u64 = number
        .parse()
        .with_context(|| format!("{setting} must start with a whole number"))?;
    let seconds = number
        .checked_mul(seconds_per)
        .filter(|seconds| *seconds > 0)
        .with_context(|| format!("{setting} must be more than zero and reasonable"))?;
    Ok(Duration::from_secs(seconds))
}

impl LoginArgs {
    /// The public URL, checked.
    pub fn public_url(&self) -> Result<Option<Url>> {
        self.public_url
            .as_deref()
            .filter(|value| !value.is_empty())
            .map(|value| base_url("IDP_PUBLIC_URL", value))
            .transpose()
    }

    /// The login settings, every value checked.
    pub fn settings(&self) -> Result<LoginSettings> {
        let homeport_url = self
            .homeport_url
            .as_deref()
            .filter(|value| !value.is_empty())
            .map(|value| base_url("IDP_HOMEPORT_URL", value).map(|_| value.to_owned()))
            .transpose()?;
        let default_provider = self
            .default_provider
            .clone()
            .filter(|name| !name.is_empty());
        if let Some(name) = &default_provider
            && !ProviderNamePolicy::AnySlug.allows(name)
        {
            bail!("IDP_DEFAULT_PROVIDER is not a provider name: {name}");
        }
        let sync_fields = match self.sync_fields.as_deref() {
            None => SyncFields::Mapped,
            Some(list) => SyncFields::parse(list)
                .map_err(anyhow::Error::msg)
                .context("IDP_SYNC_FIELDS")?,
        };
        let role_claim = self
            .role_claim
            .as_deref()
            .map(str::trim)
            .filter(|claim| !claim.is_empty())
            .map(|claim| {
                if claim.contains(char::is_whitespace) {
                    bail!("IDP_ROLE_CLAIM names one claim");
                }
                ClaimPath::parse(claim).context("IDP_ROLE_CLAIM")?;
                Ok(claim.to_owned())
            })
            .transpose()?;
        Ok(LoginSettings {
            homeport_url,
            default_provider,
            token_ttl: Some(duration("IDP_LOGIN_TOKEN_TTL", &self.login_token_ttl)?),
            rate_limit: self.login_rate_limit,
            match_by_email: self.match_by_email,
            sync_fields,
            role_claim,
            ..LoginSettings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(
            duration("X", "86400").ok(),
            Some(Duration::from_secs(86400))
        );
        assert_eq!(duration("X", "24h").ok(), Some(Duration::from_secs(86400)));
        assert_eq!(duration("X", "30m").ok(), Some(Duration::from_secs(1800)));
        for bad in ["0", "h", "5w", "-1", "1.5h", ""] {
            assert!(duration("X", bad).is_err(), "{bad}");
        }
    }
}
