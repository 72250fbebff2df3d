//! Human text shared by several reports: offending rows, duplicate groups, error evidence.

use std::io::{self, Write};

use crate::error::Error;
use crate::schema::inspect::{Duplicates, Violation};

pub fn write_violations(violations: &[Violation], w: &mut dyn Write) -> io::Result<()> {
    for v in violations {
        let ids: Vec<String> = v.sample_ids.iter().map(i64::to_string).collect();
        writeln!(
            w,
            "      rule {}: {} {}, e.g. ids {}",
            v.rule,
            v.rows,
            if v.rows == 1 { "row" } else { "rows" },
            ids.join(", ")
        )?;
    }
    Ok(())
}

pub fn write_duplicates(duplicates: &Duplicates, w: &mut dyn Write) -> io::Result<()> {
    for g in &duplicates.sample {
        let ids: Vec<String> = g.ids.iter().map(i64::to_string).collect();
        writeln!(
            w,
            "      tenant {} hash {}: {} active runs, ids {}",
            g.tenant_id,
            g.run_identity_hash,
            g.count,
            ids.join(", ")
        )?;
    }
    Ok(())
}

/// Evidence behind an error, for human output (JSON carries it as `error.details`).
pub fn write_error_details(err: &Error, w: &mut dyn Write) -> io::Result<()> {
    let Some(details) = err.details() else {
        return Ok(());
    };
    if let Some(v) = details.get("blockers").and_then(|b| b.as_array()) {
        for b in v {
            if let Some(list) = b.pointer("/details/violations") {
                let list: Vec<Violation> = serde_json::from_value(list.clone()).unwrap_or_default();
                write_violations(&list, w)?;
            }
            if let Some(d) = b.pointer("/details/duplicates") {
                write_duplicates(&serde_json::from_value(d.clone()).unwrap_or_default(), w)?;
            }
        }
    }
    if let Some(d) = details.get("duplicates") {
        write_duplicates(&serde_json::from_value(d.clone()).unwrap_or_default(), w)?;
    }
    if let Some(applied) = details.get("applied").and_then(|a| a.as_array()) {
        if !applied.is_empty() {
            let names: Vec<&str> = applied.iter().filter_map(|a| a.as_str()).collect();
            writeln!(w, "  committed before the failure: {}", names.join(", "))?;
        }
    }
    Ok(())
}
