//! The canary harness: unique marker strings planted wherever private data
//! enters a program (arguments, prompt, paths, environment, error messages),
//! and a check that none of them shows up where the toolkit writes (request
//! bodies and headers, debug output, files: see [`crate::fs::files_under`]).
//!
//! ```ignore
//! let mut canaries = Canaries::new();
//! let prompt = canaries.plant("prompt");           // "canary-prompt-1f2e...": put it in the prompt
//! canaries.assert_absent("a request body", &body);  // names the place of any canary found
//! ```

/// A set of canaries, each unique to this process and this test.
pub struct Canaries {
    planted: Vec<(&'static str, String)>,
}

impl Canaries {
    /// An empty set.
    pub fn new() -> Canaries {
        Canaries {
            planted: Vec::new(),
        }
    }

    /// A fresh canary for `place` (a word saying where it was planted): an
    /// ASCII string that no program would make up, `canary-<place>-<hex>`.
    pub fn plant(&mut self, place: &'static str) -> String {
        let canary = format!("canary-{place}-{}", unique_hex());
        self.planted.push((place, canary.clone()));
        canary
    }

    /// Each canary, with where it was planted.
    pub fn planted(&self) -> &[(&'static str, String)] {
        &self.planted
    }

    /// The places of the canaries found in `haystack`. A canary is found by
    /// its unique hex part, so a cut or re-cased copy counts too.
    pub fn found_in(&self, haystack: &[u8]) -> Vec<&'static str> {
        let haystack = String::from_utf8_lossy(haystack).to_ascii_lowercase();
        self.planted
            .iter()
            .filter(|(_, canary)| {
                let unique = canary.rsplit('-').next().unwrap_or(canary);
                haystack.contains(unique)
            })
            .map(|(place, _)| *place)
            .collect()
    }

    /// Panics, naming `what` and the canaries' places, if any canary is in
    /// `haystack`.
    pub fn assert_absent(&self, what: &str, haystack: &[u8]) {
        let found = self.found_in(haystack);
        assert!(
            found.is_empty(),
            "canaries planted in {found:?} found in {what}: {}",
            String::from_utf8_lossy(haystack)
        );
    }
}

impl Default for Canaries {
    fn default() -> Self {
        Canaries::new()
    }
}

/// Sixteen hex digits that no other canary of any process shares.
fn unique_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    format!("{:016x}", hasher.finish())
}
