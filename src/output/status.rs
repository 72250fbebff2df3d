//! Human text for `status`.

use std::io::{self, Write};

use crate::commands::status::StatusReport;

pub fn write_status(r: &StatusReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "phase: {}", r.phase)?;
    if let (Some(required), Some(met)) = (&r.required, r.requirement_met) {
        writeln!(
            w,
            "required: {required}: {}",
            if met { "reached" } else { "NOT reached" }
        )?;
    }
    writeln!(w, "database: {} schema {}", r.dialect.name(), r.schema)?;
    writeln!(
        w,
        "schema ready: {}",
        if r.schema_ready { "yes" } else { "no" }
    )?;
    let applied: Vec<String> = r
        .applied
        .iter()
        .map(|m| format!("V{}", m.version))
        .collect();
    writeln!(
        w,
        "migrations applied: {}",
        if applied.is_empty() {
            "none".to_string()
        } else {
            applied.join(", ")
        }
    )?;
    let pending: Vec<String> = r
        .pending
        .iter()
        .map(|m| format!("V{}__{}", m.version, m.name))
        .collect();
    writeln!(
        w,
        "migrations pending: {}",
        if pending.is_empty() {
            "none".to_string()
        } else {
            pending.join(", ")
        }
    )?;
    for d in &r.divergent {
        writeln!(w, "DRIFT [{}]: {}", d.kind, d.message)?;
    }
    for i in &r.indexes {
        writeln!(w, "index {}: {}", i.name, i.state)?;
    }
    for c in &r.unvalidated_constraints {
        writeln!(w, "constraint {c}: not yet validated")?;
    }
    Ok(())
}
