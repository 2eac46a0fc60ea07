//! The images-per-minute limit (`x-limits.rate-limit.images-per-minute`): images created per key
//! in any 60 s window. (The queued-requests limit, unfinished jobs per key, is counted by the job
//! store when a job is admitted.)

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use img2img_specs::Provider;
use tokio::time::Instant;

/// The window images are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Images created per key, with their times, for the last [`WINDOW`].
#[derive(Debug, Default)]
pub(crate) struct RateWindows {
    by_key: HashMap<(Provider, u64), VecDeque<(Instant, u32)>>,
}

impl RateWindows {
    /// Takes `images` from the key's allowance of `limit` per window; on refusal, the seconds until
    /// enough of the window has passed.
    pub fn take(
        &mut self,
        key: (Provider, u64),
        images: u32,
        limit: u32,
        now: Instant,
    ) -> Result<(), u64> {
        self.by_key.retain(|_, entries| {
            while entries
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW)
            {
                entries.pop_front();
            }
            !entries.is_empty()
        });
        let entries = self.by_key.entry(key).or_default();
        let used: u32 = entries.iter().map(|(_, n)| *n).sum();
        if used.saturating_add(images) > limit {
            let oldest = entries.front().map_or(now, |(at, _)| *at);
            let wait = (oldest + WINDOW).saturating_duration_since(now);
            return Err(wait.as_secs().max(1));
        }
        entries.push_back((now, images));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_images_per_key_over_a_sliding_minute() {
        let start = Instant::now();
        let mut windows = RateWindows::default();
        let provider = Provider::all().next().unwrap();
        assert!(windows.take((provider, 1), 8, 10, start).is_ok());
        assert!(windows.take((provider, 1), 2, 10, start).is_ok());
        assert!(windows.take((provider, 1), 1, 10, start).is_err());
        assert!(
            windows.take((provider, 2), 10, 10, start).is_ok(),
            "another key has its own allowance"
        );
        assert!(
            windows
                .take((provider, 1), 1, 10, start + Duration::from_secs(61))
                .is_ok()
        );
    }
}
