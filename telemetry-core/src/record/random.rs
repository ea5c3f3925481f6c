//! Random identifiers: the anonymous user id, session ids and event ids.
//!
//! Every id is a version-4 UUID. The bits come from a per-thread generator
//! seeded once from the operating system (`getrandom`), so minting an id costs
//! a few nanoseconds and no system call.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(os_seed());
}

/// A fresh random version-4 UUID.
pub(crate) fn uuid_v4() -> u128 {
    let high = u128::from(next_u64());
    let low = u128::from(next_u64());
    let bits = (high << 64) | low;
    // Version 4 in bits 76..80, RFC 4122 variant in bits 62..64.
    (bits & !(0xF << 76) & !(0b11 << 62)) | (0x4 << 76) | (0b10 << 62)
}

/// Writes a UUID in its canonical 36-character lowercase form.
pub(crate) fn format_uuid(id: u128) -> String {
    UuidText::new(id).as_str().to_owned()
}

/// A UUID's canonical 36-character lowercase form, on the stack: what a
/// record serialises for its `event_id`, with no allocation and no
/// formatting machinery.
pub(crate) struct UuidText([u8; 36]);

impl UuidText {
    pub(crate) fn new(id: u128) -> UuidText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [b'-'; 36];
        let mut at = 0;
        for (index, byte) in id.to_be_bytes().into_iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                at += 1;
            }
            text[at] = HEX[usize::from(byte >> 4)];
            text[at + 1] = HEX[usize::from(byte & 0xF)];
            at += 2;
        }
        UuidText(text)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits and dashes were written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Parses the canonical 36-character form (either case); `None` otherwise.
pub(crate) fn parse_uuid(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut value: u128 = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if matches!(index, 8 | 13 | 18 | 23) {
            if byte != b'-' {
                return None;
            }
            continue;
        }
        let digit = char::from(byte).to_digit(16)?;
        value = (value << 4) | u128::from(digit);
    }
    Some(value)
}

/// `SplitMix64`: tiny, fast, and every seed gives a full-period sequence.
fn next_u64() -> u64 {
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn os_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness: fall back to std's per-process random hasher keys
        // mixed with the clock, which is still unique per process in practice.
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos()),
        );
        return hasher.finish();
    }
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn uuids_are_version_4_and_round_trip() {
        let id = uuid_v4();
        let text = format_uuid(id);
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4", "version nibble in {text}");
        assert!(
            matches!(&text[19..20], "8" | "9" | "a" | "b"),
            "variant in {text}"
        );
        assert_eq!(parse_uuid(&text), Some(id));
        assert_eq!(parse_uuid(&text.to_uppercase()), Some(id));
    }

    #[test]
    fn uuids_are_written_in_the_canonical_form() {
        let id = 0x0123_4567_89ab_4def_8123_4567_89ab_cdef_u128;
        assert_eq!(format_uuid(id), "01234567-89ab-4def-8123-456789abcdef");
        assert_eq!(format_uuid(0), "00000000-0000-0000-0000-000000000000");
        assert_eq!(
            format_uuid(u128::MAX),
            "ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }

    #[test]
    fn uuids_do_not_repeat() {
        let ids: HashSet<u128> = (0..10_000).map(|_| uuid_v4()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn malformed_uuids_are_rejected() {
        for bad in [
            "",
            "not-a-uuid",
            "0123456789abcdef0123456789abcdef0123",
            "g1234567-89ab-4def-8123-456789abcdef",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }
}
