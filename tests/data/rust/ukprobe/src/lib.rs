//! What tests/e2e/test_rust.py links into a C program: values C checks, across the C ABI.
#![no_std]

extern crate alloc;
extern crate uk_alloc; // Box/Vec allocate with the C library's malloc
extern crate uk_panic; // a panic calls the C library's abort()

use alloc::boxed::Box;
use alloc::vec::Vec;

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of `len` bytes at `data`; the table lives on
/// the heap so that the allocator is exercised.
#[no_mangle]
pub unsafe extern "C" fn uk_rust_crc32(data: *const u8, len: usize) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| (0..8).fold(n, |c, _| if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 }))
        .collect();
    let bytes = core::slice::from_raw_parts(data, len);
    !bytes.iter().fold(!0u32, |crc, &b| table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8))
}

/// Floats in and out: with a mismatched float ABI (soft-float Rust, hard-float C) this returns
/// garbage, which the C side checks against its own x * y + 0.5.
#[no_mangle]
pub extern "C" fn uk_rust_scale(x: f64, y: f64) -> f64 {
    x * y + 0.5
}

#[repr(align(64))]
struct CacheLine([u8; 64]);

/// 1 when a 64-byte aligned allocation (posix_memalign's path in uk_alloc) is aligned.
#[no_mangle]
pub extern "C" fn uk_rust_aligned_box() -> i32 {
    let line = Box::new(CacheLine([7; 64]));
    let aligned = (&*line as *const CacheLine as usize) % 64 == 0 && line.0[63] == 7;
    aligned as i32
}

/// Panics when `b` is 0: uk_panic must turn that into abort().
#[no_mangle]
pub extern "C" fn uk_rust_divide(a: u32, b: u32) -> u32 {
    if b == 0 {
        panic!("division by zero");
    }
    a / b
}
