//! The provider's fields, defined once.
//!
//! [`provider_fields!`](crate::provider_fields) lists every field of a provider with all that
//! the registry needs to know about it. Everything else is generated from this list: the
//! [`Provider`](crate::Provider) and [`ProviderEndpoints`](crate::ProviderEndpoints) structs, the
//! parsing of create, `PUT` and `PATCH` bodies, the view served to each caller,
//! [`PROVIDER_FIELDS`](crate::PROVIDER_FIELDS) and [`HIDDEN_FIELDS`](crate::HIDDEN_FIELDS) here,
//! and, by the crates above, the database table, row and changeset (idp-store) and the OpenAPI
//! schemas (idp-http). Adding a field means adding an entry here and a migration per backend.

/// Hands the provider's field list to the macro named `callback`.
///
/// The list is given in model order (the order of the reference's model, its database table
/// and its OpenAPI schemas), in three groups:
///
/// ```text
/// callback! {
///     writable: [ { /// doc
///                   name: Type { kind: .., show: .., first: .., description: .., rule: ..,
///                                create: .., put: .. } } ... ]
///     read_only: [ { /// doc
///                    name: Type { kind: .., show: .., description: .. } } ... ]
///     all: [ { name: .., ty: Type, kind: .., place: [..], show: .., first: .., description: ..,
///              access: writable { rule: .., create: .., put: .. } | read_only {} } ... ]
/// }
/// ```
///
/// `writable` holds the fields a request sets, which are the fields of
/// [`Provider`](crate::Provider); `read_only` the fields read from the discovery document, which
/// are the fields of [`ProviderEndpoints`](crate::ProviderEndpoints); `all` both, interleaved in
/// model order, with `place` the field's path inside a `Provider`.
///
/// A field's type is one of `String`, `Option<String>`, `bool`, `Vec<String>` and
/// `AttributeMapping`; `kind` names the JSON value it holds ([`ValueKind`](crate::ValueKind)),
/// which is how the store picks its column type.
///
/// The keys of an entry:
///
/// - `show`: who sees the field in answers: `Everyone`, `Staff`, or `Secret` (staff, and only
///   where the deployment exposes secrets; stored sealed).
/// - `first`: `true` when answers and error bodies list the field before all others (the
///   reference's serializer declares it explicitly), `false` to list it in model order.
/// - `description`: the field's description in the OpenAPI document, worded as the reference's.
/// - `rule`: how a request body's value is read (see `provider/rules.rs`): `Text::required`,
///   `Text::blank` (may be empty), `NullableText` (may also be `null`), `ProviderName`, each with
///   its maximum length, `ClaimList`/`NullableClaimList` (claim names, JSON Pointers checked),
///   or `Boolean`, `StringList`, `Redirects`, `Mapping`. Each reads one
///   type, so a rule that does not fit the field's type does not compile.
/// - `create`: `Required` on create, or `Optional(default)`, where `default` turns the value
///   given (if any) and the per-provider defaults of the provider's name (if it has any, see
///   [`defaults_for`](crate::defaults_for)) into the value stored.
/// - `put`: on `PUT`, `Required`, `Optional`, or `Ignored` (never changed after create). On
///   `PATCH` every field that is not `Ignored` is optional.
///
/// `rule` and the create defaults are compiled by idp-core's own callbacks only: they name
/// idp-core's private rule types. A callback in another crate ignores them and reads what it
/// needs at run time from [`PROVIDER_FIELDS`](crate::PROVIDER_FIELDS).
#[macro_export]
macro_rules! provider_fields {
    ($callback:ident) => {
        $crate::__sort_provider_fields! { @type $callback [[] [] []];
            /// The provider's unique name, also its URL key.
            provider: String {
                show: Everyone,
                first: false,
                description: None,
                rule: ProviderName(32),
                create: Required,
                put: Ignored,
            },
            /// Inactive providers are shown to staff only.
            is_active: bool {
                show: Everyone,
                first: false,
                description: None,
                rule: Boolean,
                create: Optional(|given, _| given.unwrap_or(true)),
                put: Optional,
            },
            /// ID of the application used for OAuth authentication.
            client_id: String {
                show: Everyone,
                first: false,
                description: Some("ID of application used for OAuth authentication."),
                rule: Text::required(200),
                create: Required,
                put: Required,
            },
            /// The application's secret key.
            client_secret: String {
                show: Secret,
                first: false,
                description: Some("Application secret key."),
                rule: Text::required(200),
                create: Required,
                put: Required,
            },
            /// Whether TLS certificates of the provider are verified.
            verify_ssl: bool {
                show: Everyone,
                first: false,
                description: None,
                rule: Boolean,
                create: Optional(|given, _| given.unwrap_or(true)),
                put: Optional,
            },
            /// Whether users are sent back after signing out.
            enable_post_logout_redirect: bool {
                show: Everyone,
                first: false,
                description: None,
                rule: Boolean,
                create: Optional(|given, _| given.unwrap_or(true)),
                put: Optional,
            },
            /// Whether PKCE is used in the authorization request.
            enable_pkce: bool {
                show: Everyone,
                first: false,
                description: None,
                rule: Boolean,
                create: Optional(|given, _| given.unwrap_or(false)),
                put: Optional,
            },
            /// The discovery document's URL.
            discovery_url: String {
                show: Everyone,
                first: false,
                description: Some("The endpoint for endpoint discovery."),
                rule: Text::required(200),
                create: Required,
                put: Required,
            },
            /// `userinfo_endpoint`.
            read_only userinfo_url: String {
                show: Everyone,
                description: Some("The endpoint for fetching user info."),
            },
            /// `token_endpoint`.
            read_only token_url: String {
                show: Everyone,
                description: Some("The endpoint for obtaining auth token."),
            },
            /// `authorization_endpoint`.
            read_only auth_url: String {
                show: Everyone,
                description: Some("The endpoint for authorization request flow."),
            },
            /// `end_session_endpoint`, or empty.
            read_only logout_url: String {
                show: Everyone,
                description: Some("The endpoint used to redirect after sign-out."),
            },
            /// Human-readable label; lists are ordered by it.
            label: String {
                show: Everyone,
                first: false,
                description: Some("Human-readable identity provider is label."),
                rule: Text::required(200),
                create: Required,
                put: Required,
            },
            /// Where users manage their details, or empty.
            management_url: String {
                show: Everyone,
                first: false,
                description: Some("The endpoint for user details management."),
                rule: Text::blank(200),
                create: Optional(|given, _| given.unwrap_or_default()),
                put: Optional,
            },
            /// User fields the portal must not let users edit.
            protected_fields: Vec<String> {
                show: Everyone,
                first: true,
                description: None,
                rule: StringList,
                create: Optional(|given, _| given.unwrap_or_default()),
                put: Optional,
            },
            /// Space-separated scopes to request besides `openid`.
            extra_scope: Option<String> {
                show: Everyone,
                first: false,
                description: Some("Space-separated list of scopes to request during authentication."),
                rule: NullableText(200),
                create: Optional(|given, defaults| {
                    given.unwrap_or_else(|| defaults.and_then(|d| d.extra_scope).map(str::to_owned))
                }),
                put: Optional,
            },
            /// The user field used to look the user up.
            user_field: String {
                show: Staff,
                first: false,
                description: Some("The field in Waldur User model to be used for looking up the user"),
                rule: Text::required(100),
                create: Optional(|given, defaults| {
                    given.unwrap_or_else(|| defaults.map_or("username", |d| d.user_field).to_owned())
                }),
                put: Optional,
            },
            /// Whitespace-separated claims whose first present value is the lookup value.
            user_claim: String {
                show: Staff,
                first: false,
                description: Some("The OIDC claim from the userinfo endpoint to be used as the value for the lookup field."),
                rule: ClaimList(Text::required(100)),
                create: Optional(|given, defaults| {
                    given.unwrap_or_else(|| defaults.map_or("sub", |d| d.user_claim).to_owned())
                }),
                put: Optional,
            },
            /// User field → claims.
            attribute_mapping: AttributeMapping {
                show: Staff,
                first: false,
                description: Some("A JSON object mapping Waldur User model fields to OIDC claims. Example: {\"first_name\": \"given_name\", \"last_name\": \"family_name\", \"email\": \"email\"}"),
                rule: Mapping,
                // The provider's default mapping fills in the fields the body does not map.
                create: Optional(|given, defaults| given.unwrap_or_default().with_defaults(defaults)),
                put: Optional,
            },
            /// Space-separated extra claims to persist.
            extra_fields: Option<String> {
                show: Staff,
                first: false,
                description: Some("Space-separated list of extra fields to persist."),
                rule: NullableClaimList(200),
                create: Optional(|given, defaults| {
                    given.unwrap_or_else(|| defaults.map(|d| d.extra_fields.to_owned()))
                }),
                put: Optional,
            },
            /// Origins a login may return to, normalised.
            allowed_redirects: Vec<String> {
                show: Everyone,
                first: true,
                description: Some("List of allowed redirect URLs for OAuth authentication. URLs must be exact matches (origin only: scheme + domain + port). HTTPS required except for localhost. No wildcards, paths, query params, or fragments. Example: [\"https://portal1.example.com\", \"https://portal2.example.com:8443\"]. If empty, falls back to HOMEPORT_URL setting."),
                rule: Redirects,
                create: Optional(|given, _| given.unwrap_or_default()),
                put: Optional,
            },
        }
    };
}

/// Sorts the entries of [`provider_fields!`](crate::provider_fields) into the groups its callback
/// receives; not for use on its own.
///
/// `@type` names the kind of value each field's type holds (only the types below may be used),
/// `@access` files the entry as writable or read-only.
#[doc(hidden)]
#[macro_export]
macro_rules! __sort_provider_fields {
    (@type $callback:ident $groups:tt;
        $(#[doc = $doc:literal])* $($head:ident)+ : String { $($keys:tt)* }, $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @access $callback $groups;
            [$(#[doc = $doc])*] [$($head)+] [String] Text { $($keys)* }; $($rest)*
        }
    };
    (@type $callback:ident $groups:tt;
        $(#[doc = $doc:literal])* $($head:ident)+ : Option<String> { $($keys:tt)* }, $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @access $callback $groups;
            [$(#[doc = $doc])*] [$($head)+] [Option<String>] NullableText { $($keys)* }; $($rest)*
        }
    };
    (@type $callback:ident $groups:tt;
        $(#[doc = $doc:literal])* $($head:ident)+ : bool { $($keys:tt)* }, $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @access $callback $groups;
            [$(#[doc = $doc])*] [$($head)+] [bool] Boolean { $($keys)* }; $($rest)*
        }
    };
    (@type $callback:ident $groups:tt;
        $(#[doc = $doc:literal])* $($head:ident)+ : Vec<String> { $($keys:tt)* }, $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @access $callback $groups;
            [$(#[doc = $doc])*] [$($head)+] [Vec<String>] List { $($keys)* }; $($rest)*
        }
    };
    (@type $callback:ident $groups:tt;
        $(#[doc = $doc:literal])* $($head:ident)+ : AttributeMapping { $($keys:tt)* },
        $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @access $callback $groups;
            [$(#[doc = $doc])*] [$($head)+] [$crate::AttributeMapping] Mapping { $($keys)* };
            $($rest)*
        }
    };
    // Every entry is sorted: call back.
    (@type $callback:ident [[$($writable:tt)*] [$($read_only:tt)*] [$($all:tt)*]];) => {
        $callback! {
            writable: [$($writable)*]
            read_only: [$($read_only)*]
            all: [$($all)*]
        }
    };
    // A field read from the discovery document.
    (@access $callback:ident [[$($writable:tt)*] [$($read_only:tt)*] [$($all:tt)*]];
        [$(#[doc = $doc:literal])*] [read_only $name:ident] [$($ty:tt)+] $kind:ident {
            show: $show:ident,
            description: $description:expr $(,)?
        };
        $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @type $callback [
            [$($writable)*]
            [$($read_only)* {
                $(#[doc = $doc])*
                $name: $($ty)+ { kind: $kind, show: $show, description: $description }
            }]
            [$($all)* {
                name: $name, ty: $($ty)+, kind: $kind, place: [endpoints . $name], show: $show,
                first: false, description: $description, access: read_only {}
            }]
        ]; $($rest)* }
    };
    // A field a request sets.
    (@access $callback:ident [[$($writable:tt)*] [$($read_only:tt)*] [$($all:tt)*]];
        [$(#[doc = $doc:literal])*] [$name:ident] [$($ty:tt)+] $kind:ident {
            show: $show:ident,
            first: $first:literal,
            description: $description:expr,
            rule: $rule:expr,
            create: $create:ident $(($default:expr))?,
            put: $put:ident $(,)?
        };
        $($rest:tt)*
    ) => {
        $crate::__sort_provider_fields! { @type $callback [
            [$($writable)* {
                $(#[doc = $doc])*
                $name: $($ty)+ {
                    kind: $kind, show: $show, first: $first, description: $description,
                    rule: $rule, create: $create $(($default))?, put: $put
                }
            }]
            [$($read_only)*]
            [$($all)* {
                name: $name, ty: $($ty)+, kind: $kind, place: [$name], show: $show, first: $first,
                description: $description,
                access: writable { rule: $rule, create: $create, put: $put }
            }]
        ]; $($rest)* }
    };
}
