use telemetry_core::tracked_tool;

#[tracked_tool]
#[track_caller]
pub fn check(ok: bool) {
    assert!(ok);
}

fn main() {
    check(true);
}
