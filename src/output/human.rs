//! Human text: readable at a glance, most important line first.

use std::io::{self, Write};

use super::Report;
use crate::commands::migrate::MigrateReport;
use crate::commands::status::StatusReport;
use crate::error::Error;
use crate::schema::inspect::{Duplicates, Violation};
use crate::schema::plan::{ColumnAction, IndexAction, Plan};

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    match report {
        Report::Plan(plan) => write_plan(plan, w),
        Report::Migrate(report) => write_migrate(report, w),
        Report::Status(report) => write_status(report, w),
    }
}

fn write_plan(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
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
    Ok(())
}

fn write_violations(violations: &[Violation], w: &mut dyn Write) -> io::Result<()> {
    for v in violations {
        let ids: Vec<String> = v.sample_ids.iter().map(i64::to_string).collect();
        writeln!(
            w,
            "      rule {}: {} rows, e.g. ids {}",
            v.rule,
            v.rows,
            ids.join(", ")
        )?;
    }
    Ok(())
}

fn write_duplicates(duplicates: &Duplicates, w: &mut dyn Write) -> io::Result<()> {
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

fn write_migrate(r: &MigrateReport, w: &mut dyn Write) -> io::Result<()> {
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
        writeln!(w, "  {:?} column {}: {}", c.action, c.column, c.note)?;
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

fn write_status(r: &StatusReport, w: &mut dyn Write) -> io::Result<()> {
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
