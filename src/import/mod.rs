//! Reading the CSV files that personnel offices and training platforms export.
//!
//! This is the pure part of every import: bytes to text ([`decode()`]), text to
//! a table of cleaned cells found by header name ([`Table`]), and cells to
//! values ([`parse_date`], [`parse_hours`], ...). It never touches the
//! database, so each import only adds its own checks and writes.

pub mod date;
pub mod decode;
pub mod table;
pub mod value;

pub use date::parse_date;
pub use decode::decode;
pub use table::{Column, Row, Table, repeated_keys};
pub use value::{clean, parse_email, parse_hours, parse_name, parse_yes_no};
