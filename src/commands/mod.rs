//! One file per subcommand: each takes settings and returns a report; none prints.

pub mod fingerprint;
pub mod guard;
pub mod migrate;
pub mod plan;
pub mod status;
