//! What the request budget makes of a check: whether it can start, and what a failure during
//! which the budget refused requests is worth.

use super::{CheckId, Verdict};
use crate::budget::Budget;

impl Budget {
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
                self.limit()
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
                self.limit(),
                failure.message
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
