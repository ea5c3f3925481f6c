// Attributes, docs, visibility, inner attributes and the signature stay as
// written: `#[must_use]` still warns, `#[deprecated]` still applies, `#[cfg]`
// still removes the function, a raw identifier gives the name `type`.
#![deny(warnings)]

mod tools {
    use telemetry_core::{tracked_command, tracked_tool};

    /// Reads a file; the doc comment is kept.
    #[tracked_tool]
    #[must_use = "the contents are the point"]
    #[inline]
    pub fn read() -> String {
        #![allow(clippy::useless_conversion)]
        String::from("contents")
    }

    #[tracked_tool]
    #[cfg(any())]
    pub fn removed() -> u8 {
        compile_error!("cfg'd out before expansion")
    }

    #[tracked_command]
    #[deprecated = "use read"]
    pub(crate) fn old() -> u8 {
        1
    }

    #[tracked_command]
    pub fn r#type() -> &'static str {
        "type"
    }

    #[tracked_tool]
    #[allow(unused_variables)]
    pub fn ignored(value: u8) {}
}

#[allow(deprecated)]
fn old() -> u8 {
    tools::old()
}

fn main() {
    assert_eq!(tools::read(), "contents");
    assert_eq!(old(), 1);
    assert_eq!(tools::r#type(), "type");
    tools::ignored(1);
}
