//! Process sampling: with [`sample_rate`](crate::TelemetryBuilder::sample_rate)
//! `R` below 1, each process draws once whether it is in (it sends every
//! record, each carrying `"sample_rate": R`) or out (it sends nothing: no
//! file written, no socket opened, no thread started). Sessions stay
//! whole, and a backend multiplies counts by `1 / R`.
//!
//! The draw is one per process, shared by every client in it: a number
//! in `[0, 1)` from the operating system's randomness, made the first time
//! a client with a rate below 1 is built. A process is in when the draw is
//! below the rate, so two clients of one process with the same rate agree,
//! and a client with a higher rate is in whenever one with a lower rate is.

use std::fmt;
use std::sync::OnceLock;

/// A checked sampling rate, in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SampleRate(f64);

/// A rate outside `0.0..=1.0`, or NaN: a programming error. `build` never
/// panics on it: it uses 1.0, and debug mode says so in one clear line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BadRate(pub(crate) f64);

impl fmt::Display for BadRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sample_rate must be a number from 0.0 to 1.0 (got {}); using 1.0, every process sends",
            self.0
        )
    }
}

impl SampleRate {
    /// Every process sends: the default.
    pub(crate) const ALL: SampleRate = SampleRate(1.0);

    /// The rate as given, when it is within `0.0..=1.0`.
    pub(crate) fn new(rate: f64) -> Result<SampleRate, BadRate> {
        if (0.0..=1.0).contains(&rate) {
            Ok(SampleRate(rate))
        } else {
            Err(BadRate(rate))
        }
    }

    /// Whether this process sends at this rate: always at 1, never at 0,
    /// else by the process's one draw.
    pub(crate) fn process_is_in(self) -> bool {
        self.0 >= 1.0 || self.admits(process_draw())
    }

    /// Whether a draw in `[0, 1)` is in at this rate.
    fn admits(self, draw: f64) -> bool {
        draw < self.0
    }

    /// What every record carries: the rate, when below 1.
    pub(crate) fn on_records(self) -> Option<f64> {
        (self.0 < 1.0).then_some(self.0)
    }
}

/// What log mode and debug mode say about this process's draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sampled {
    /// The process sends, and its records carry the rate.
    In(f64),
    /// The process sends nothing.
    Out(f64),
}

impl fmt::Display for Sampled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampled::In(rate) => write!(
                f,
                "this process was sampled in (sample_rate {rate}): it sends every record, each carrying sample_rate"
            ),
            Sampled::Out(rate) => write!(
                f,
                "this process was sampled out (sample_rate {rate}): it records and sends nothing"
            ),
        }
    }
}

/// The sampling rate (1.0, said in the debug log, when the app's is NaN or
/// outside `0.0..=1.0`), and this process's draw when the rate is below 1.
pub(crate) fn sample(
    rate: f64,
    debug: Option<&crate::recorder::debug_log::DebugLog>,
) -> (SampleRate, Option<Sampled>) {
    let rate = SampleRate::new(rate).unwrap_or_else(|bad| {
        if let Some(debug) = debug {
            debug.line(&bad.to_string());
        }
        SampleRate::ALL
    });
    let sampled = rate.on_records().map(|shown| {
        if rate.process_is_in() {
            Sampled::In(shown)
        } else {
            Sampled::Out(shown)
        }
    });
    (rate, sampled)
}

/// This process's draw, in `[0, 1)`: made once, the first time it is
/// needed.
fn process_draw() -> f64 {
    static DRAW: OnceLock<f64> = OnceLock::new();
    *DRAW.get_or_init(|| unit_interval(os_random_u64()))
}

/// 53 random bits as a number in `[0, 1)`.
fn unit_interval(bits: u64) -> f64 {
    // A u64 shifted right by 11 is below 2^53, so the cast is exact.
    #[allow(clippy::cast_precision_loss)]
    let high = (bits >> 11) as f64;
    high / (1u64 << 53) as f64
}

fn os_random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        // No OS randomness: the id generator's bits (seeded from the clock
        // and std's per-process hasher keys then).
        let id = crate::record::random::uuid_v4();
        // The low 64 bits hold 62 random ones; enough for a draw.
        #[allow(clippy::cast_possible_truncation)]
        let low = id as u64;
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        for bad in [f64::NAN, -0.1, 1.000_001, f64::INFINITY, f64::NEG_INFINITY] {
            let refused = SampleRate::new(bad).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .starts_with("sample_rate must be a number from 0.0 to 1.0"),
                "{refused}"
            );
        }
        for good in [0.0, 0.25, 1.0] {
            assert_eq!(SampleRate::new(good), Ok(SampleRate(good)));
        }
    }

    #[test]
    fn one_always_sends_zero_never_and_only_a_rate_below_one_is_written() {
        assert!(SampleRate::ALL.process_is_in());
        assert!(!SampleRate(0.0).process_is_in());
        assert_eq!(SampleRate::ALL.on_records(), None);
        assert_eq!(SampleRate(0.25).on_records(), Some(0.25));
    }

    #[test]
    fn a_draw_is_in_below_the_rate() {
        let rate = SampleRate(0.25);
        assert!(rate.admits(0.0));
        assert!(rate.admits(0.249_999));
        assert!(!rate.admits(0.25));
        assert!(!rate.admits(0.999));
    }

    #[test]
    fn draws_span_the_unit_interval() {
        assert_eq!(unit_interval(0), 0.0);
        assert!(unit_interval(u64::MAX) < 1.0);
        assert!(unit_interval(u64::MAX) > 0.999_999);
        let draw = process_draw();
        assert!((0.0..1.0).contains(&draw));
        assert_eq!(process_draw(), draw, "one draw per process");
    }
}
