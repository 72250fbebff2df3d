//! Human text for the `guard` commands, and the legacy family as `plan` shows it too.

mod family;
mod install;
mod remove;
mod status;

pub use family::write_family;
pub use install::write_install;
pub use remove::write_remove;
pub use status::write_status;
