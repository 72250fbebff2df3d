//! Human text for `guard install`.

use std::io::{self, Write};

use super::write_family;
use crate::commands::guard::install::GuardInstallReport;

pub fn write_install(r: &GuardInstallReport, w: &mut dyn Write) -> io::Result<()> {
    let target = format!("{} schema {}", r.dialect.name(), r.schema);
    if r.already_installed {
        writeln!(
            w,
            "the guard is already installed in {} mode on every legacy table of {target}: nothing to do (phase {})",
            r.mode, r.phase
        )?;
    } else {
        writeln!(
            w,
            "guard installed in {} mode on {target}: phase {}",
            r.mode, r.phase
        )?;
    }
    for t in r.tables.iter().filter(|t| t.action != "unchanged") {
        writeln!(w, "  {} {}", t.action, t.table)?;
    }
    for p in &r.revoked {
        writeln!(
            w,
            "  revoked {} on {} from {}",
            p.privilege, p.table, p.role
        )?;
    }
    for warning in &r.warnings {
        writeln!(w, "warning: {warning}")?;
    }
    write_family(&r.family, w)
}
