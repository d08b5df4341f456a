//! The underlying error of a failure, kept for logs and diagnostics.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The error that caused a failure, behind a shared pointer so that the failure stays cheap to
/// clone: a fetch shared by several callers hands each of them the same error.
///
/// A cause is transparent: it displays as the error it holds and reports that error's own
/// source next, so a printed chain reads as if the error were there itself.
///
/// Causes are for people reading logs; they never decide what a failure is. Two failures with
/// equal kinds and details are the same failure whatever their causes, so every `Cause` compares
/// equal to every other.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync>);

impl Cause {
    /// Keeps `error` as a cause.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Cause {}
