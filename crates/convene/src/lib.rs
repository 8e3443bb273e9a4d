//! placeholder
pub mod x {}
