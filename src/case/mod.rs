//! Case and suite files: the YAML model, loading, and source positions.

#[macro_use]
pub(crate) mod macros;
pub mod cache;
pub(crate) mod fast;
pub mod load;
pub mod model;
pub mod span;

pub use load::{LoadedFile, LoadedSuite, load_dir, load_dir_partial, load_suite};
pub use span::{Diagnostic, Diagnostics, Pos, Source};
