//! The run's request budget: live calls cost money, so every request takes one unit. A check the
//! budget is too small for is reported skipped with the reason, never failed: running out of
//! budget says nothing about the target.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::checks::{CheckId, Verdict};
use super::http::SendError;

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
    pub fn take(&self) -> Result<(), SendError> {
        let previous = self.spent.fetch_add(1, Ordering::SeqCst);
        if previous >= self.limit {
            self.spent.fetch_sub(1, Ordering::SeqCst);
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(SendError::BudgetSpent(self.limit));
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

    /// Why `check` cannot start with what is left (fewer requests than its `cases` are estimated
    /// to cost, [`CheckId::requests_per_case`]), or `None` when it can. A check that runs out all
    /// the same is settled by [`Budget::settle`].
    pub fn too_small_for(&self, check: CheckId, cases: u32) -> Option<String> {
        let needs = check.cases(cases).saturating_mul(check.requests_per_case());
        let left = self.left();
        (left < needs).then(|| {
            format!(
                "not started: {} needs about {needs} requests; the request budget (--max-requests {}) has {left} left",
                check.id(),
                self.limit
            )
        })
    }

    /// The verdict of a check during which the budget refused a request (`refused_before` is
    /// [`Budget::refused`] when it started): a failure then comes from the requests not sent, so
    /// the check is reported skipped, with the reason and what it had seen.
    pub fn settle(&self, refused_before: u32, verdict: Verdict) -> Verdict {
        if self.refused() == refused_before {
            return verdict;
        }
        match verdict {
            Verdict::Failed { cases, failure } => Verdict::Skipped(format!(
                "the request budget of {} requests ran out during this check, after {cases} case(s) ({})",
                self.limit, failure.message
            )),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use img2img_report::results::Failure;

    fn failed() -> Verdict {
        Verdict::Failed {
            cases: 2,
            failure: Failure {
                message: "the job did not finish".into(),
                operation: None,
                request: None,
                response: None,
            },
        }
    }

    #[test]
    fn a_check_the_budget_cannot_pay_for_is_skipped_with_the_reason() {
        let budget = Budget::new(13);
        assert_eq!(budget.too_small_for(CheckId::SeedDeterminism, 32), None);
        budget.take().unwrap();
        budget.take().unwrap();
        let why = budget.too_small_for(CheckId::SeedDeterminism, 32).unwrap();
        assert_eq!(
            why,
            "not started: seed_determinism needs about 12 requests; the request budget (--max-requests 13) has 11 left"
        );
        // A property check needs its every case.
        assert!(
            budget
                .too_small_for(CheckId::PositiveAcceptance, 8)
                .is_none()
        );
        assert!(
            budget
                .too_small_for(CheckId::PositiveAcceptance, 12)
                .is_some()
        );
    }

    #[test]
    fn a_failure_while_the_budget_refused_requests_is_no_verdict() {
        let budget = Budget::new(1);
        let before = budget.refused();
        // Nothing refused: the failure stands.
        assert!(matches!(
            budget.settle(before, failed()),
            Verdict::Failed { .. }
        ));
        budget.take().unwrap();
        assert!(budget.take().is_err());
        match budget.settle(before, failed()) {
            Verdict::Skipped(why) => {
                assert!(why.contains("budget of 1 requests ran out"), "{why}");
                assert!(why.contains("the job did not finish"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        // A pass stays a pass.
        assert!(matches!(
            budget.settle(before, Verdict::Passed { cases: 1 }),
            Verdict::Passed { .. }
        ));
    }
}
