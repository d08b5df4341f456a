//! The login flow's pure failures, worded exactly as the reference words them.

/// `"Invalid auth state."`: no stored state, or the returned one differs.
pub const INVALID_STATE: &str = "Invalid auth state.";
/// `"PKCE verification failed."`: PKCE is on and no verifier was kept for the login.
pub const PKCE_VERIFICATION_FAILED: &str = "PKCE verification failed.";
/// `"Invalid URL scheme. Only http and https are allowed."`: a return URL or Referer that is
/// not http(s).
pub const INVALID_URL_SCHEME: &str = "Invalid URL scheme. Only http and https are allowed.";
/// `"Invalid return URL format. Missing domain."`: a return URL or Referer without a host.
pub const MISSING_DOMAIN: &str = "Invalid return URL format. Missing domain.";
/// `"Invalid return URL format."`: a return URL or Referer that cannot be split into parts.
pub const INVALID_RETURN_URL: &str = "Invalid return URL format.";
/// `"Unable to match user because identity field is missing from user profile."`.
pub const IDENTITY_FIELD_MISSING: &str =
    "Unable to match user because identity field is missing from user profile.";
/// `"User is deactivated."`: the matched user is inactive.
pub const USER_DEACTIVATED: &str = "User is deactivated.";
/// `"Multiple users found with the same email. Cannot determine which account to use."`.
pub const MULTIPLE_USERS_WITH_EMAIL: &str =
    "Multiple users found with the same email. Cannot determine which account to use.";
/// `"Multiple users found with the same identity field. Cannot determine which account to
/// use."`: the lookup matched several users (ours; the reference fails with a server error).
pub const MULTIPLE_USERS_WITH_IDENTITY: &str =
    "Multiple users found with the same identity field. Cannot determine which account to use.";

/// Why a login step refused to go on; [`std::fmt::Display`] gives the reference's message.
///
/// The HTTP layer answers these as 401 `{"detail": "<provider> error: <message>"}`, which
/// [`LoginError::detail`] builds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// See [`INVALID_STATE`].
    #[error("{INVALID_STATE}")]
    InvalidState,
    /// See [`PKCE_VERIFICATION_FAILED`].
    #[error("{PKCE_VERIFICATION_FAILED}")]
    PkceVerificationFailed,
    /// See [`INVALID_URL_SCHEME`].
    #[error("{INVALID_URL_SCHEME}")]
    InvalidUrlScheme,
    /// See [`MISSING_DOMAIN`].
    #[error("{MISSING_DOMAIN}")]
    MissingDomain,
    /// See [`INVALID_RETURN_URL`].
    #[error("{INVALID_RETURN_URL}")]
    InvalidReturnUrl,
    /// `"Return URL domain <origin> is not in the allowed redirects list."`, naming the origin
    /// (`scheme://host[:port]`, lower-cased) that was asked for.
    #[error("Return URL domain {0} is not in the allowed redirects list.")]
    RedirectNotAllowed(String),
    /// See [`IDENTITY_FIELD_MISSING`].
    #[error("{IDENTITY_FIELD_MISSING}")]
    IdentityFieldMissing,
    /// See [`USER_DEACTIVATED`].
    #[error("{USER_DEACTIVATED}")]
    UserDeactivated,
    /// See [`MULTIPLE_USERS_WITH_EMAIL`].
    #[error("{MULTIPLE_USERS_WITH_EMAIL}")]
    MultipleUsersWithEmail,
    /// See [`MULTIPLE_USERS_WITH_IDENTITY`].
    #[error("{MULTIPLE_USERS_WITH_IDENTITY}")]
    MultipleUsersWithIdentity,
}

impl LoginError {
    /// The message as the reference's `OAuthException` words it: `"<provider> error: <message>"`.
    pub fn detail(&self, provider: &str) -> String {
        format!("{provider} error: {self}")
    }
}
