//! Human text for `guard status`: the answer first, then each table, then who wrote.

use std::io::{self, Write};

use super::write_family;
use crate::commands::guard::status::GuardStatusReport;
use crate::db::Dialect;
use crate::legacy::{TableGuard, Verdict};

pub fn write_status(r: &GuardStatusReport, w: &mut dyn Write) -> io::Result<()> {
    let target = format!("{} schema {}", r.dialect.name(), r.schema);
    let headline = match r.state {
        Verdict::Enforced if r.dialect == Dialect::Sqlite => {
            "HOLDS: every write to the legacy tables is blocked (SQLite cannot count them)"
        }
        Verdict::Enforced => "HOLDS: every write to the legacy tables is blocked and counted",
        Verdict::Dropped => "HOLDS: the legacy tables are dropped",
        Verdict::Observing => "NOT ENFORCED: observe mode, writes are allowed and recorded",
        Verdict::Partial => "DOES NOT HOLD: some legacy tables are not guarded",
        Verdict::NotInstalled => "NOT INSTALLED: writes to the legacy tables are allowed",
    };
    writeln!(w, "guard ({target}): {headline}")?;
    for t in &r.tables {
        write_table(t, w)?;
    }
    if !r.writers.is_empty() {
        writeln!(w, "writers seen while observing (most recent first):")?;
        for x in &r.writers {
            writeln!(
                w,
                "  {} {} by role {} (login {}, application_name {}): {} writes, {} rows, last {}",
                x.operation,
                x.table,
                x.role.as_deref().unwrap_or("-"),
                x.login_role.as_deref().unwrap_or("-"),
                x.application_name
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .unwrap_or("-"),
                x.writes,
                x.rows.map_or("-".to_string(), |n| n.to_string()),
                x.last_at
            )?;
        }
    }
    write_family(&r.family, w)?;
    for note in &r.notes {
        writeln!(w, "note: {note}")?;
    }
    Ok(())
}

fn write_table(t: &TableGuard, w: &mut dyn Write) -> io::Result<()> {
    let mark = if t.holds { "✓" } else { "✗" };
    let mode = t.mode.as_deref().unwrap_or("no guard");
    let enabled = t
        .trigger_enabled
        .as_deref()
        .map_or(String::new(), |e| format!(", enabled {e}"));
    let blocked = match (t.blocked_count, t.mode.as_deref()) {
        (_, None) => String::new(),
        (Some(n), _) => format!(
            ", blocked {n}{}",
            t.last_blocked_at
                .as_deref()
                .map_or(String::new(), |at| format!(" (last {at})"))
        ),
        (None, _) => ", blocked: not counted".to_string(),
    };
    let observed = if t.observed_writes > 0 {
        format!(
            ", observed {} writes (last {})",
            t.observed_writes,
            t.last_observed_at.as_deref().unwrap_or("-")
        )
    } else {
        String::new()
    };
    writeln!(
        w,
        "  {mark} {}: {mode}{enabled}{blocked}{observed}",
        t.table
    )?;
    if let Some(problem) = t.problem.as_deref().filter(|_| !t.holds) {
        writeln!(w, "      {problem}")?;
    }
    for r in &t.revoked {
        writeln!(
            w,
            "      revoked {} from {}{}",
            r.privilege,
            r.role,
            if r.effective {
                " (still held through another grant)"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}
