//! Human text for `plan`.

use std::io::{self, Write};

use super::human::{write_duplicates, write_violations};
use crate::schema::plan::{ColumnAction, IndexAction, Plan};

pub fn write_plan(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
    let target = format!("{} schema {}", plan.dialect.name(), plan.schema);
    if !plan.blockers.is_empty() {
        writeln!(
            w,
            "plan for {target}: migrate would REFUSE (nothing would change):"
        )?;
        for b in &plan.blockers {
            writeln!(w, "  ✗ [{}] {}", b.kind, b.message)?;
        }
        write_violations(&plan.violations, w)?;
        write_duplicates(&plan.duplicates, w)?;
        writeln!(w)?;
        writeln!(w, "if those were resolved, migrate would:")?;
    } else if plan.is_converged() {
        writeln!(
            w,
            "plan for {target}: nothing to do, the schema is canonical"
        )?;
    } else {
        writeln!(w, "plan for {target}: migrate would:")?;
    }
    if plan.create_schema {
        writeln!(w, "  + create schema {}", plan.schema)?;
    }
    if plan.adopting {
        writeln!(
            w,
            "  adopt the existing operation_runs (~{} rows) in place, without a table rewrite",
            plan.row_estimate
        )?;
    }
    for c in &plan.columns {
        let mark = match c.action {
            ColumnAction::Add => "+ add column",
            ColumnAction::Convert => "~ convert column",
            ColumnAction::Keep => "= keep column",
            ColumnAction::Refuse => "✗ column",
        };
        writeln!(w, "  {mark} {}: {}", c.column, c.note)?;
        if let Some(sql) = &c.sql {
            writeln!(w, "      {sql};")?;
        }
    }
    if !plan.app_columns.is_empty() {
        writeln!(
            w,
            "  = leave application columns alone: {}",
            plan.app_columns.join(", ")
        )?;
    }
    if !plan.register_types.is_empty() {
        writeln!(
            w,
            "  + register operation types in use (label = id): {}",
            plan.register_types.join(", ")
        )?;
    }
    for m in &plan.pending {
        writeln!(
            w,
            "  + apply migration V{}__{} (checksum {})",
            m.version, m.name, m.checksum
        )?;
        for line in m.sql.lines() {
            writeln!(w, "      {line}")?;
        }
    }
    if plan.validate_after_migrations {
        writeln!(
            w,
            "  ✓ validate the constraints the migrations add NOT VALID (no write lock)"
        )?;
    }
    for c in &plan.validate {
        writeln!(w, "  ✓ validate constraint {c} (no write lock)")?;
    }
    for i in &plan.indexes {
        match i.action {
            IndexAction::Present => writeln!(w, "  = index {} is present and valid", i.name)?,
            IndexAction::Build => writeln!(w, "  + build index {} ({}):\n      {};", i.name, i.purpose, i.sql)?,
            IndexAction::RebuildInvalid => writeln!(
                w,
                "  ! rebuild index {}: an INVALID leftover of an interrupted build is dropped and built again:\n      {};",
                i.name, i.sql
            )?,
        }
    }
    if let Some(family) = &plan.legacy {
        super::guard::write_family(family, w)?;
    }
    Ok(())
}
