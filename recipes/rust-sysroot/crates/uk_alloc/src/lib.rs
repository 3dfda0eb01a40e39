//! Rust's global allocator over the unikernel's C allocator.
//!
//! `extern crate uk_alloc;` in a `#![no_std]` crate that uses `alloc` makes `Box`, `Vec`, `String`
//! ... allocate with the C library linked into the unikernel (nolibc's dlmalloc on Solo5), so Rust
//! and C/OCaml share one heap. It also supplies the allocation-failure handler, which stable Rust
//! before 1.68 cannot define itself (this crate is built into the sysroot with the compiler's
//! unstable features enabled). A crate that brings its own allocator can use [`Malloc`] only.
#![no_std]
#![feature(alloc_error_handler)]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::ptr;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn calloc(count: usize, size: usize) -> *mut c_void;
    fn realloc(block: *mut c_void, size: usize) -> *mut c_void;
    fn free(block: *mut c_void);
    fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> i32;
    fn abort() -> !;
}

/// What malloc's blocks are aligned to on both architectures (dlmalloc: 2 * sizeof(void *);
/// glibc the same), so smaller alignments can take the plain calls.
const MALLOC_ALIGN: usize = 16;

/// `GlobalAlloc` over malloc/calloc/realloc/free, and posix_memalign for wider alignments.
pub struct Malloc;

unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return malloc(layout.size()) as *mut u8;
        }
        let mut block = ptr::null_mut();
        // posix_memalign wants a power of two multiple of sizeof(void *): Layout's align is a
        // power of two, and here larger than 16.
        if posix_memalign(&mut block, layout.align(), layout.size()) == 0 {
            block as *mut u8
        } else {
            ptr::null_mut()
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return calloc(1, layout.size()) as *mut u8;
        }
        let block = self.alloc(layout);
        if !block.is_null() {
            ptr::write_bytes(block, 0, layout.size());
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, _layout: Layout) {
        free(block as *mut c_void)
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return realloc(block as *mut c_void, new_size) as *mut u8;
        }
        // C's realloc keeps only malloc's alignment: move the block by hand.
        let moved = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !moved.is_null() {
            ptr::copy_nonoverlapping(block, moved, core::cmp::min(layout.size(), new_size));
            free(block as *mut c_void);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// Out of memory: there is nothing to unwind to in a unikernel; stop it the C way.
#[alloc_error_handler]
fn out_of_memory(_layout: Layout) -> ! {
    unsafe { abort() }
}
