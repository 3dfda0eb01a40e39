//! A `#[panic_handler]` for Rust code inside a unikernel: `extern crate uk_panic;`.
//!
//! The target is built with panic=abort, so a panic cannot unwind into C or OCaml frames; it ends
//! the unikernel through the C library's abort() (nolibc prints "Aborted" and calls
//! solo5_abort()). A crate that wants to print the message first defines its own handler instead.
#![no_std]

extern "C" {
    fn abort() -> !;
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    unsafe { abort() }
}
