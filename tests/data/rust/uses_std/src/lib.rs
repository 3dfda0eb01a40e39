// Not no_std: building it for a unikernel target must fail with a hint.
#[no_mangle]
pub extern "C" fn uses_std_len() -> usize {
    std::env::args().count()
}
