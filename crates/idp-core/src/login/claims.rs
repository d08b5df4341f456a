//! Addressing claims: a top-level name, or an RFC 6901 JSON Pointer when the name starts
//! with `/`.
//!
//! Mapping values (`attribute_mapping`, `user_claim`, `extra_fields`, the role claim) are
//! whitespace-separated lists of such names. A pointer therefore cannot contain whitespace:
//! a key with a space in it is out of reach, which no provider we know of needs.

use std::fmt;

use serde_json::{Map, Value};

/// Where one claim is read from in the claims object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimPath {
    /// A top-level key, e.g. `email` or `address.country` (a dot is part of the name).
    Key(String),
    /// An RFC 6901 JSON Pointer such as `/realm_access/roles` or `/groups/0`.
    Pointer {
        /// The pointer as written.
        pointer: String,
        /// Its reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
        tokens: Vec<String>,
    },
}

/// A claim name that starts with `/` but is not a valid JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid JSON Pointer \"{pointer}\": \"~\" must be followed by \"0\" or \"1\".")]
pub struct ClaimPathError {
    /// The pointer as written.
    pub pointer: String,
}

impl ClaimPath {
    /// Parses one claim name; a name starting with `/` must be a valid JSON Pointer.
    ///
    /// ```
    /// use idp_core::login::ClaimPath;
    /// use serde_json::json;
    ///
    /// let claims = json!({"realm_access": {"roles": ["staff"]}, "a/b": 1});
    /// let claims = claims.as_object().unwrap();
    /// let roles = ClaimPath::parse("/realm_access/roles").unwrap();
    /// assert_eq!(roles.lookup(claims), Some(&json!(["staff"])));
    /// assert_eq!(ClaimPath::parse("/a~1b").unwrap().lookup(claims), Some(&json!(1)));
    /// assert!(ClaimPath::parse("/a~2b").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Self, ClaimPathError> {
        let Some(rest) = name.strip_prefix('/') else {
            return Ok(ClaimPath::Key(name.to_owned()));
        };
        let tokens = rest
            .split('/')
            .map(unescape)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ClaimPathError {
                pointer: name.to_owned(),
            })?;
        Ok(ClaimPath::Pointer {
            pointer: name.to_owned(),
            tokens,
        })
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        match self {
            ClaimPath::Key(key) => key,
            ClaimPath::Pointer { pointer, .. } => pointer,
        }
    }

    /// The top-level claim this path reads from: the key itself, or a pointer's first token.
    pub fn top_level(&self) -> &str {
        match self {
            ClaimPath::Key(key) => key,
            ClaimPath::Pointer { tokens, .. } => tokens.first().map_or("", String::as_str),
        }
    }

    /// The value at this path, or `None` when it is absent: a missing key, an index past the
    /// end, `-`, or a step into a value that is neither an object nor an array.
    pub fn lookup<'v>(&self, claims: &'v Map<String, Value>) -> Option<&'v Value> {
        self.find(claims).ok()
    }

    /// The value at this path, or a sentence saying where the path stopped (never quoting a
    /// value): the claim is missing, a key is missing, an index is past the end of a list or
    /// is not an index, or a step goes into a value that is neither an object nor a list.
    /// [`ClaimPath::lookup`] is this without the sentence.
    ///
    /// ```
    /// use idp_core::login::ClaimPath;
    /// use serde_json::json;
    ///
    /// let claims = json!({"groups": ["a", "b"]});
    /// let claims = claims.as_object().unwrap();
    /// let past_end = ClaimPath::parse("/groups/2").unwrap().find(claims).unwrap_err();
    /// assert_eq!(past_end, "Index 2 is past the end of /groups, a list of 2.");
    /// ```
    pub fn find<'v>(&self, claims: &'v Map<String, Value>) -> Result<&'v Value, String> {
        const ABSENT: &str = "The claim is not present.";
        let (pointer, first, rest) = match self {
            ClaimPath::Key(key) => return claims.get(key).ok_or_else(|| ABSENT.to_owned()),
            ClaimPath::Pointer { pointer, tokens } => match tokens.split_first() {
                Some((first, rest)) => (pointer, first, rest),
                None => return Err(ABSENT.to_owned()),
            },
        };
        let mut value = claims.get(first).ok_or_else(|| ABSENT.to_owned())?;
        // How much of the pointer has been followed, as written.
        let mut walked = pointer.len() - pointer_tail_len(pointer, rest.len());
        for (step, token) in rest.iter().enumerate() {
            let here = &pointer[..walked];
            value = match value {
                Value::Object(object) => object
                    .get(token)
                    .ok_or_else(|| format!("{here} has no key {token:?}."))?,
                Value::Array(items) => {
                    let index = array_index(token).ok_or_else(|| {
                        format!("{token:?} is not an index into the list {here}.")
                    })?;
                    items.get(index).ok_or_else(|| {
                        format!(
                            "Index {index} is past the end of {here}, a list of {}.",
                            items.len()
                        )
                    })?
                }
                _ => return Err(format!("{here} is neither an object nor a list.")),
            };
            walked = pointer.len() - pointer_tail_len(pointer, rest.len() - step - 1);
        }
        Ok(value)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The length of the last `tokens` reference tokens of `pointer`, with their slashes.
fn pointer_tail_len(pointer: &str, tokens: usize) -> usize {
    if tokens == 0 {
        return 0;
    }
    pointer
        .rmatch_indices('/')
        .nth(tokens - 1)
        .map_or(pointer.len(), |(at, _)| pointer.len() - at)
}

/// Unescapes one reference token; `None` when a `~` is not followed by `0` or `1`.
fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// An RFC 6901 array index: `0`, or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The claim names of a whitespace-separated list, in order.
pub fn claim_names(list: &str) -> impl Iterator<Item = &str> {
    list.split_whitespace()
}

/// Parses every name of a whitespace-separated claim list; the first malformed pointer
/// stops the parse with its message. This is the check `attribute_mapping` values,
/// `user_claim` and `extra_fields` pass.
pub fn parse_claim_list(list: &str) -> Result<Vec<ClaimPath>, ClaimPathError> {
    claim_names(list).map(ClaimPath::parse).collect()
}

/// The claims a login maps: the verified ID token's claims, overlaid key by key by
/// userinfo's (userinfo wins), so providers without a userinfo endpoint still work.
pub fn merge_claims(
    id_token: Map<String, Value>,
    userinfo: Map<String, Value>,
) -> Map<String, Value> {
    let mut claims = id_token;
    for (key, value) in userinfo {
        claims.insert(key, value);
    }
    claims
}

/// Python's truthiness, which decides what the reference keeps: `null`, `false`, `0`, `""`,
/// `[]` and `{}` are falsy.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(object) => !object.is_empty(),
    }
}
