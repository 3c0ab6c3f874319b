//! Bytes → a template and a JSON template, parsed and rendered (see
//! `conform_fuzz::template`). Nothing may panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| conform_fuzz::template(data));
