//! Who made a change, for the audit history the store writes with it: the staff user, the
//! fingerprint of their token and the request's id.

use actix_web::{HttpMessage, HttpRequest};
use idp_store::AuditContext;

use crate::auth::{Staff, TokenFingerprint};
use crate::request_log::RequestId;

/// The audit context of a staff request.
pub(crate) fn context(req: &HttpRequest, staff: &Staff) -> AuditContext {
    let extensions = req.extensions();
    AuditContext {
        actor: staff.username.clone(),
        actor_token: extensions.get::<TokenFingerprint>().map(|t| t.0.clone()),
        request_id: extensions.get::<RequestId>().map(|r| r.0.clone()),
    }
}
