//! The versioned migrations, embedded at compile time from `migrations/<dialect>/`.
//! Append-only once released: an edited applied migration is refused by checksum.

use refinery_core::Migration;

use crate::db::Dialect;

macro_rules! embed {
    ($dialect:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../migrations/", $dialect, "/", $name, ".sql")))),+]
    };
}

/// (file stem, SQL) in version order. A unit test keeps these lists equal to the folders.
const POSTGRES: &[(&str, &str)] = embed!("postgres":
    "V1__operation_type_registry",
    "V2__operation_runs",
    "V3__ledger_and_state",
    "V4__legacy_guard",
);

const SQLITE: &[(&str, &str)] = embed!("sqlite":
    "V1__operation_type_registry",
    "V2__operation_runs",
    "V3__ledger_and_state",
    "V4__legacy_guard",
);

fn files(dialect: Dialect) -> &'static [(&'static str, &'static str)] {
    match dialect {
        Dialect::Postgres => POSTGRES,
        Dialect::Sqlite => SQLITE,
    }
}

/// The migrations this binary knows, as refinery values (version, name, checksum, SQL).
pub fn embedded(dialect: Dialect) -> Vec<Migration> {
    files(dialect)
        .iter()
        .map(|(stem, sql)| {
            Migration::unapplied(stem, sql).expect("embedded migration names are valid")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(dialect: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dialect);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|n| n.strip_suffix(".sql").map(str::to_string))
            .collect();
        names.sort_by_key(|n| n[1..].split("__").next().unwrap().parse::<u32>().unwrap());
        names
    }

    #[test]
    fn embedded_lists_match_the_folders() {
        let pg: Vec<&str> = POSTGRES.iter().map(|(n, _)| *n).collect();
        let lite: Vec<&str> = SQLITE.iter().map(|(n, _)| *n).collect();
        assert_eq!(folder("postgres"), pg);
        assert_eq!(folder("sqlite"), lite);
    }

    #[test]
    fn both_dialects_have_the_same_versions_and_names() {
        let versions = |d| {
            embedded(d)
                .iter()
                .map(|m| (m.version(), m.name().to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(Dialect::Postgres), versions(Dialect::Sqlite));
        let numbers: Vec<i32> = embedded(Dialect::Postgres)
            .iter()
            .map(|m| m.version())
            .collect();
        assert_eq!(
            numbers,
            (1..=numbers.len() as i32).collect::<Vec<_>>(),
            "versions are 1..n with no gaps"
        );
    }
}
