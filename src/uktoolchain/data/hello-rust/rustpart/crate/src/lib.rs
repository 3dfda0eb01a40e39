//! Computed in Rust, called from OCaml through C: a CRC-32 over a heap copy of the input (so the
//! allocator, uk_alloc over the unikernel's malloc, is exercised) and a float function (so a
//! float ABI mismatch between Rust and C/OCaml would show in the printed value).
#![no_std]

extern crate alloc;
extern crate uk_alloc;
extern crate uk_panic;

use alloc::vec::Vec;

#[no_mangle]
pub extern "C" fn ukrust_crc32(data: *const u8, length: usize) -> u32 {
    let bytes: Vec<u8> = unsafe { core::slice::from_raw_parts(data, length) }.to_vec();
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[no_mangle]
pub extern "C" fn ukrust_scale(x: f64, y: f64) -> f64 {
    x * y + 0.5
}
