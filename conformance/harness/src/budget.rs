//! The run's request budget: live calls cost money, so every request takes one unit. A check the
//! budget is too small for is reported skipped with the reason, never failed: running out of
//! budget says nothing about the target.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The refusal of a request once the budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request budget of {limit} requests is spent")]
pub struct BudgetSpent {
    /// The budget's limit.
    pub limit: u32,
}

/// A shared count of the requests a run may still send.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u32,
    spent: Arc<AtomicU32>,
    refused: Arc<AtomicU32>,
}

impl Budget {
    /// A budget of `limit` requests.
    pub fn new(limit: u32) -> Self {
        Budget {
            limit,
            spent: Arc::new(AtomicU32::new(0)),
            refused: Arc::new(AtomicU32::new(0)),
        }
    }

    /// No practical limit (emulators).
    pub fn unlimited() -> Self {
        Budget::new(u32::MAX)
    }

    /// Takes one request from the budget.
    pub fn take(&self) -> Result<(), BudgetSpent> {
        let previous = self.spent.fetch_add(1, Ordering::SeqCst);
        if previous >= self.limit {
            self.spent.fetch_sub(1, Ordering::SeqCst);
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(BudgetSpent { limit: self.limit });
        }
        Ok(())
    }

    /// Requests sent so far.
    pub fn spent(&self) -> u32 {
        self.spent.load(Ordering::SeqCst)
    }

    /// Requests the budget refused so far (each one a request a check wanted and did not send).
    pub fn refused(&self) -> u32 {
        self.refused.load(Ordering::SeqCst)
    }

    /// Requests still allowed.
    pub fn left(&self) -> u32 {
        self.limit.saturating_sub(self.spent())
    }

    /// The limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}
