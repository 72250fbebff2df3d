//! Human text for `fingerprint`: the hashes, then exactly what was hashed.

use std::io::{self, Write};

use crate::commands::fingerprint::FingerprintReport;

pub fn write_fingerprint(r: &FingerprintReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "run_identity_hash: {}", r.run_identity_hash)?;
    if let Some(hash) = &r.ids_hash {
        let kind = if r.ids_numeric == Some(true) {
            "numeric"
        } else {
            "string"
        };
        writeln!(
            w,
            "ids_hash:          {hash} ({} distinct {kind} ids)",
            r.ids_count.unwrap_or(0)
        )?;
    }
    if let Some(hash) = &r.query_hash {
        writeln!(w, "query_hash:        {hash}")?;
        if let Some(canonical) = &r.query_canonical {
            writeln!(w, "query (canonical): {canonical}")?;
        }
    }
    writeln!(w, "identity hashed:   {}", r.canonical)
}
