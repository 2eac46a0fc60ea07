//! Locking that ignores poisoning: no code holding these locks can panic halfway through a change
//! that matters.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, whether or not a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
