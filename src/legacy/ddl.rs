//! The per-table guard SQL: the templates in `sql/<dialect>/guard_{enforce,observe,remove}.sql`
//! with one table's names filled in, and the REVOKE / GRANT statements of `--app-role`.
//!
//! Table names come from the catalog (foreign-key children) as well as from options, so they
//! can hold any character: every name is quoted as an identifier or a string literal, and the
//! templates are filled in one pass, so a value is never scanned for placeholders again.

use sha2::{Digest, Sha256};

use super::{Privilege, Revoked, REPLACEMENT, SQLSTATE};
use crate::db::{ident, Dialect};

/// PostgreSQL's identifier length limit, in bytes.
const MAX_NAME: usize = 63;

/// The write privileges `--app-role` revokes.
pub const WRITE_PRIVILEGES: [&str; 4] = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"];

/// A guard template filled in for one table of `schema`.
pub fn table_sql(
    template: &str,
    dialect: Dialect,
    schema: &str,
    table: &str,
    source: &str,
) -> String {
    let (blocked, last_hit) = sequence_names(table);
    let qualified = |name: &str| format!("{}.{}", ident::quote(schema), ident::quote(name));
    // SQLite trigger names are per database, so they carry the table's name.
    let trigger = |kind: &str| ident::quote(&format!("oprun_guard_{kind}__{table}"));
    let values = [
        ("schema", ident::quote(schema)),
        (
            "table",
            match dialect {
                Dialect::Postgres => qualified(table),
                Dialect::Sqlite => ident::quote(table),
            },
        ),
        ("table_name", literal(table)),
        ("source", literal(source)),
        ("blocked_seq", qualified(&blocked)),
        ("last_hit_seq", qualified(&last_hit)),
        ("blocked_seq_name", literal(&blocked)),
        ("last_hit_seq_name", literal(&last_hit)),
        ("blocked_seq_arg", literal(&qualified(&blocked))),
        ("last_hit_seq_arg", literal(&qualified(&last_hit))),
        ("enforce_insert", trigger("enforce_insert")),
        ("enforce_update", trigger("enforce_update")),
        ("enforce_delete", trigger("enforce_delete")),
        ("observe_insert", trigger("observe_insert")),
        ("observe_update", trigger("observe_update")),
        ("observe_delete", trigger("observe_delete")),
        ("blocked_insert", literal(&blocked_message(table, "INSERT"))),
        ("blocked_update", literal(&blocked_message(table, "UPDATE"))),
        ("blocked_delete", literal(&blocked_message(table, "DELETE"))),
    ];
    fill(template, &values)
}

/// The message a blocked write gets on SQLite, which has no SQLSTATE: it starts with the code.
/// PostgreSQL raises the same words from `oprun_guard_block()` (migration V4) with SQLSTATE OP001.
pub fn blocked_message(table: &str, operation: &str) -> String {
    format!(
        "{SQLSTATE}: legacy table {table} is retired: {operation} is blocked; write to {REPLACEMENT} instead"
    )
}

/// The blocked-write counter and the last-hit clock of `table`: `oprun_guard_blocked__<table>`
/// and `oprun_guard_last_hit__<table>`, the table's name shortened and suffixed with a hash
/// when the whole would pass PostgreSQL's 63-byte limit.
pub fn sequence_names(table: &str) -> (String, String) {
    let name = |kind: &str| {
        let prefix = format!("oprun_guard_{kind}__");
        if prefix.len() + table.len() <= MAX_NAME {
            return format!("{prefix}{table}");
        }
        let hash = hex::encode(&Sha256::digest(table.as_bytes())[..4]);
        let mut keep = MAX_NAME - prefix.len() - 1 - hash.len();
        while !table.is_char_boundary(keep) {
            keep -= 1;
        }
        format!("{prefix}{}_{hash}", &table[..keep])
    };
    (name("blocked"), name("last_hit"))
}

/// Revoke `privileges` (all on `table`) and remember them for `guard remove`. PostgreSQL only.
pub fn revoke_sql(schema: &str, table: &str, privileges: &[&Privilege]) -> String {
    let target = format!("{}.{}", ident::quote(schema), ident::quote(table));
    let mut sql = String::new();
    for p in privileges {
        let privilege = checked(&p.privilege);
        sql.push_str(&format!(
            "REVOKE {privilege} ON {target} FROM {};\n\
             INSERT INTO {}.oprun_guard_revoked (table_name, role_name, privilege, grantable) \
             VALUES ({}, {}, {}, {}) ON CONFLICT DO NOTHING;\n",
            ident::quote(&p.role),
            ident::quote(schema),
            literal(table),
            literal(&p.role),
            literal(privilege),
            p.grantable
        ));
    }
    sql
}

/// Grant back what was revoked on `table`, grant option included. PostgreSQL only.
pub fn restore_sql(schema: &str, table: &str, revoked: &[&Revoked]) -> String {
    let target = format!("{}.{}", ident::quote(schema), ident::quote(table));
    revoked
        .iter()
        .map(|r| {
            format!(
                "GRANT {} ON {target} TO {}{};\n",
                checked(&r.privilege),
                ident::quote(&r.role),
                if r.grantable {
                    " WITH GRANT OPTION"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// A privilege name from the catalog or our own table, spliced as a keyword: only the four.
fn checked(privilege: &str) -> &'static str {
    WRITE_PRIVILEGES
        .iter()
        .find(|p| **p == privilege)
        .copied()
        .unwrap_or_else(|| panic!("not a write privilege: {privilege}"))
}

/// A string literal for SQL text (standard conforming: only `'` is special).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Replace every `{key}` of the template in one pass. A key the values lack is a bug in a
/// template, caught by the unit tests.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .expect("a template placeholder is closed");
        let key = &rest[open + 1..close];
        let value = values
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("template placeholder {{{key}}} has no value"));
        out.push_str(&value.1);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATES: [(Dialect, &str); 6] = [
        (
            Dialect::Postgres,
            include_str!("../../sql/postgres/guard_enforce.sql"),
        ),
        (
            Dialect::Postgres,
            include_str!("../../sql/postgres/guard_observe.sql"),
        ),
        (
            Dialect::Postgres,
            include_str!("../../sql/postgres/guard_remove.sql"),
        ),
        (
            Dialect::Sqlite,
            include_str!("../../sql/sqlite/guard_enforce.sql"),
        ),
        (
            Dialect::Sqlite,
            include_str!("../../sql/sqlite/guard_observe.sql"),
        ),
        (
            Dialect::Sqlite,
            include_str!("../../sql/sqlite/guard_remove.sql"),
        ),
    ];

    #[test]
    fn every_template_fills_and_quotes_hostile_names() {
        let table = "it's {table} \"odd\"";
        for (dialect, template) in TEMPLATES {
            let sql = table_sql(template, dialect, "public", table, "foreign_key");
            assert!(sql.contains("'it''s {table} \"odd\"'"), "{sql}");
            // As an identifier: the table itself, or within a trigger's name.
            assert!(sql.contains("it's {table} \"\"odd\"\"\""), "{sql}");
            assert!(!sql.contains("{schema}") && !sql.contains("{table_name}"));
        }
    }

    #[test]
    fn sequence_names_fit_postgres_and_stay_distinct() {
        assert_eq!(
            sequence_names("bulk_operation_runs"),
            (
                "oprun_guard_blocked__bulk_operation_runs".to_string(),
                "oprun_guard_last_hit__bulk_operation_runs".to_string()
            )
        );
        let long_a = format!("{}a", "x".repeat(62));
        let long_b = format!("{}b", "x".repeat(62));
        let (a, a_hit) = sequence_names(&long_a);
        let (b, _) = sequence_names(&long_b);
        assert!(a.len() <= MAX_NAME && a_hit.len() <= MAX_NAME);
        assert_ne!(a, b);
        let (multibyte, _) = sequence_names(&"é".repeat(31));
        assert!(multibyte.len() <= MAX_NAME);
    }

    #[test]
    fn revoke_and_restore_round_trip() {
        let p = Privilege {
            table: "t".into(),
            role: "app".into(),
            privilege: "INSERT".into(),
            grantable: true,
        };
        let revoke = revoke_sql("public", "t", &[&p]);
        assert!(revoke.starts_with("REVOKE INSERT ON \"public\".\"t\" FROM \"app\";"));
        let r = Revoked {
            role: "app".into(),
            privilege: "INSERT".into(),
            grantable: true,
            role_exists: true,
            effective: false,
        };
        assert_eq!(
            restore_sql("public", "t", &[&r]),
            "GRANT INSERT ON \"public\".\"t\" TO \"app\" WITH GRANT OPTION;\n"
        );
    }

    #[test]
    fn the_sqlite_message_names_table_operation_and_replacement() {
        assert_eq!(
            blocked_message("bulk_operation_runs", "DELETE"),
            "OP001: legacy table bulk_operation_runs is retired: DELETE is blocked; write to operation_runs instead"
        );
    }
}
