//! Human text for `migrate`.

use std::io::{self, Write};

use crate::commands::migrate::MigrateReport;
use crate::schema::plan::{ColumnAction, IndexAction};

pub fn write_migrate(r: &MigrateReport, w: &mut dyn Write) -> io::Result<()> {
    let target = format!("{} schema {}", r.dialect.name(), r.schema);
    if r.already_converged {
        writeln!(
            w,
            "{target} is already canonical: nothing to do (phase {})",
            r.phase
        )?;
        return Ok(());
    }
    writeln!(w, "migrated {target}: phase {}", r.phase)?;
    if r.created_schema {
        writeln!(w, "  created schema {}", r.schema)?;
    }
    for c in &r.columns {
        let done = match c.action {
            ColumnAction::Add => "added",
            ColumnAction::Convert => "converted",
            ColumnAction::Keep => "kept",
            ColumnAction::Refuse => "refused",
        };
        writeln!(w, "  {done} column {}: {}", c.column, c.note)?;
    }
    for t in &r.registered_types {
        writeln!(w, "  registered operation type {t} (label = id)")?;
    }
    for m in &r.applied {
        writeln!(w, "  applied V{}__{}", m.version, m.name)?;
    }
    for c in &r.validated {
        writeln!(w, "  validated constraint {c}")?;
    }
    for i in &r.indexes {
        let what = match i.action {
            IndexAction::Build => "built",
            IndexAction::RebuildInvalid => "rebuilt (was INVALID)",
            IndexAction::Present => "present",
        };
        writeln!(w, "  index {}: {what}", i.name)?;
    }
    Ok(())
}
