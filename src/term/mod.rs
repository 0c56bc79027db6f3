//! The terminal side of a participant, pure and synchronous: decoding key bytes, the line
//! editor and the styling of room lines. The SSH session feeds bytes in and writes out
//! what these return.

pub mod complete;
pub mod editor;
pub mod highlight;
pub mod keys;
pub mod screen;
pub mod style;
