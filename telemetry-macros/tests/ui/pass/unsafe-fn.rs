// `unsafe fn`, sync and async: the body keeps its unsafe context.
#![deny(warnings)]

use telemetry_core::tracked_tool;

#[tracked_tool]
unsafe fn read(ptr: *const u32) -> u32 {
    *ptr
}

#[tracked_tool]
async unsafe fn read_async(ptr: *const u32) -> u32 {
    *ptr
}

#[tracked_tool]
pub(crate) unsafe extern "C" fn read_c(ptr: *const u32) -> u32 {
    *ptr
}

fn main() {
    let value = 7;
    assert_eq!(unsafe { read(&value) }, 7);
    assert_eq!(unsafe { read_c(&value) }, 7);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(unsafe { read_async(&value) }), 7);
}
