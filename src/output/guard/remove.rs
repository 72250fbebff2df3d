//! Human text for `guard remove`.

use std::io::{self, Write};

use crate::commands::guard::remove::GuardRemoveReport;

pub fn write_remove(r: &GuardRemoveReport, w: &mut dyn Write) -> io::Result<()> {
    let target = format!("{} schema {}", r.dialect.name(), r.schema);
    if r.nothing_to_remove {
        writeln!(w, "no guard is installed on {target}: nothing to remove")?;
    } else {
        writeln!(
            w,
            "guard lifted from {target}: writes to the legacy tables are allowed again (phase {})",
            r.phase
        )?;
    }
    for t in &r.removed {
        let blocked = t
            .blocked_count
            .map_or("not counted".to_string(), |n| n.to_string());
        writeln!(
            w,
            "  removed the {} guard from {} (blocked writes: {blocked})",
            t.mode.as_deref().unwrap_or("broken"),
            t.table
        )?;
    }
    for p in &r.restored {
        writeln!(
            w,
            "  granted back {} on {} to {}",
            p.privilege, p.table, p.role
        )?;
    }
    for warning in &r.warnings {
        writeln!(w, "warning: {warning}")?;
    }
    Ok(())
}
