//! The one thing read from an OTLP answer's body: the rejected count of a
//! partial success (`partialSuccess.rejectedLogRecords`), found however
//! long the answer is, without keeping it. The body is fed chunk by chunk
//! to [`RejectedCount`], a small JSON tokenizer that remembers only the
//! last key (when short) and the digits of the value it is after; an
//! `errorMessage` of megabytes costs no memory, and its text is never
//! kept (it may hold what the collector echoed of the request).

/// The key whose value is the rejected count.
const KEY: &[u8] = b"rejectedLogRecords";
/// The most digits an int64 has.
const MAX_DIGITS: usize = 20;

/// Finds `"rejectedLogRecords"`'s value (a number, or a string of digits
/// as proto3 JSON writes an int64) in a JSON body fed in chunks.
#[derive(Debug, Default)]
pub(in crate::sink) struct RejectedCount {
    state: State,
    /// The string being read, while it may still be the key.
    token: Vec<u8>,
    /// The string being read is longer than the key: not it.
    token_too_long: bool,
    /// Digits of the value.
    digits: Vec<u8>,
    found: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any string.
    #[default]
    Outside,
    /// Inside a string; `escaped` after a backslash.
    InString { escaped: bool },
    /// After the key's closing quote: a colon should come.
    AfterKey,
    /// After the colon: the value should start.
    BeforeValue,
    /// Reading the value's digits (`quoted` for the string form).
    InValue { quoted: bool },
    /// The count was read (or the value was not one): nothing more to do.
    Done,
}

impl RejectedCount {
    /// Reads the next chunk of the body.
    pub(in crate::sink) fn feed(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            if self.state == State::Done {
                return;
            }
            self.step(byte);
        }
    }

    /// The count, once the whole body was fed: 0 when absent or unreadable.
    pub(in crate::sink) fn rejected(&self) -> u64 {
        if let Some(found) = self.found {
            return found;
        }
        // A bare number may end with the body.
        if matches!(self.state, State::InValue { quoted: false }) {
            return parse_digits(&self.digits).unwrap_or(0);
        }
        0
    }

    /// Whether the count was found (the rest of the body need not be read).
    #[cfg(test)]
    pub(in crate::sink) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn step(&mut self, byte: u8) {
        match self.state {
            State::Outside => {
                if byte == b'"' {
                    self.state = State::InString { escaped: false };
                    self.token.clear();
                    self.token_too_long = false;
                }
            }
            State::InString { escaped: true } => {
                self.state = State::InString { escaped: false };
                self.token_too_long = true;
            }
            State::InString { escaped: false } => match byte {
                b'\\' => self.state = State::InString { escaped: true },
                b'"' => {
                    let is_key = !self.token_too_long && self.token == KEY;
                    self.state = if is_key {
                        State::AfterKey
                    } else {
                        State::Outside
                    };
                }
                _ if self.token_too_long => {}
                _ if self.token.len() >= KEY.len() => {
                    self.token_too_long = true;
                    self.token.clear();
                }
                _ => self.token.push(byte),
            },
            State::AfterKey => match byte {
                b':' => self.state = State::BeforeValue,
                byte if byte.is_ascii_whitespace() => {}
                // A string that was a value, not a key: go on.
                b'"' => {
                    self.state = State::InString { escaped: false };
                    self.token.clear();
                    self.token_too_long = false;
                }
                _ => self.state = State::Outside,
            },
            State::BeforeValue => match byte {
                b'"' => self.state = State::InValue { quoted: true },
                b'0'..=b'9' => {
                    self.digits.push(byte);
                    self.state = State::InValue { quoted: false };
                }
                byte if byte.is_ascii_whitespace() => {}
                _ => self.finish(),
            },
            State::InValue { quoted } => match byte {
                b'0'..=b'9' if self.digits.len() < MAX_DIGITS => self.digits.push(byte),
                _ => {
                    let closed = if quoted { byte == b'"' } else { true };
                    if !closed {
                        self.digits.clear();
                    }
                    self.finish();
                }
            },
            State::Done => {}
        }
    }

    fn finish(&mut self) {
        self.found = Some(parse_digits(&self.digits).unwrap_or(0));
        self.state = State::Done;
    }
}

fn parse_digits(digits: &[u8]) -> Option<u64> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_in(chunks: &[&[u8]]) -> u64 {
        let mut count = RejectedCount::default();
        for chunk in chunks {
            count.feed(chunk);
        }
        count.rejected()
    }

    #[test]
    fn the_count_is_read_in_both_forms_and_across_chunks() {
        let body = br#"{"partialSuccess":{"rejectedLogRecords":"42","errorMessage":"x"}}"#;
        assert_eq!(count_in(&[body]), 42);
        assert_eq!(
            count_in(&[br#"{"partialSuccess":{"rejectedLogRecords": 7}}"#]),
            7
        );
        // Split everywhere: one byte a chunk.
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(count_in(&bytes), 42);
        assert_eq!(count_in(&[b"{}"]), 0);
        assert_eq!(count_in(&[b"<html>garbage"]), 0);
        assert_eq!(count_in(&[br#"{"partialSuccess":{}}"#]), 0);
    }

    #[test]
    fn a_message_of_ten_megabytes_before_the_count_is_read_through_and_not_kept() {
        let mut count = RejectedCount::default();
        count.feed(br#"{"partialSuccess":{"errorMessage":""#);
        let filler = vec![b'm'; 1024 * 1024];
        for _ in 0..10 {
            count.feed(&filler);
            assert!(count.token.len() <= KEY.len(), "nothing of it is kept");
        }
        // The key's text inside the message is not the key.
        count.feed(br#" \"rejectedLogRecords\":99 ","rejectedLogRecords":"3"}}"#);
        assert!(count.is_done());
        assert_eq!(count.rejected(), 3);
    }
}
