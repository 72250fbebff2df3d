//! What the canonical schema is (the canon), what a database has (inspection), and the
//! difference between them as a list of steps (the plan).

pub mod canon;
pub mod inspect;
pub mod migrations;
pub mod plan;
