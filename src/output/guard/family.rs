//! Human text for the legacy family and its drop order.

use std::io::{self, Write};

use crate::legacy::{Family, ROOT};

pub fn write_family(family: &Family, w: &mut dyn Write) -> io::Result<()> {
    if family.dropped {
        return writeln!(
            w,
            "legacy tables: none ({ROOT} does not exist: dropped, or never created)"
        );
    }
    writeln!(
        w,
        "legacy tables, in drop order (children first): {}",
        family.drop_order.join(", ")
    )?;
    for t in &family.tables {
        let why = match t.source.as_str() {
            "root" => "the legacy table".to_string(),
            "foreign_key" => format!("references {}", t.references.join(", ")),
            _ => "named with --legacy-table".to_string(),
        };
        writeln!(w, "  {}: {why}", t.name)?;
    }
    Ok(())
}
