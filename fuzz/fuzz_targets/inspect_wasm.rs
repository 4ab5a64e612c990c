//! `pyedge inspect` on arbitrary bytes: `inspect_bytes` must return an error, never
//! panic, on anything that is not WebAssembly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = pyedge::inspect::inspect_bytes(data) {
        assert_eq!(info.size, data.len() as u64);
        // Data segments are slices of the input, so no module can hold more than it.
        assert!(info.snapshot_memory <= info.size);
        for module in &info.modules {
            assert!(module.data_bytes <= info.size && module.code_bytes <= info.size);
        }
    }
});
