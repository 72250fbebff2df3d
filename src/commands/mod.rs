//! One file per subcommand: each takes settings and returns a report; none prints.

pub mod fingerprint;
pub mod migrate;
pub mod plan;
pub mod status;
