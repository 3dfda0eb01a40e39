// The float ABI contrast (tests/e2e/test_rust.py): one function, compiled for different targets and
// called from the same C program. No core needed (no_core + the two lang items a by-value f64
// argument requires), so any target spec can compile it in a fraction of a second.
#![feature(no_core, lang_items)]
#![no_core]

#[lang = "sized"]
trait Sized {}

#[lang = "copy"]
trait Copy {}

impl Copy for f64 {}

#[no_mangle]
pub extern "C" fn uk_second(_x: f64, y: f64) -> f64 {
    y
}
