//! Bytes → a case file and a suite file, then every string through the planner's
//! parsers (see `conform_fuzz::load_case`). Nothing may panic, overflow the stack or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| conform_fuzz::load_case(data));
