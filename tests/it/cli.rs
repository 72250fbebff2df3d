//! The command-line contract: usage errors, redaction, the documented exit-code table.

use crate::harness::Cmd;

const CANARY: &str = "Canary-pw-7731";

#[test]
fn no_database_is_a_usage_error_with_the_remedy() {
    let run = Cmd::new().args(["status"]).run().expect_code(2);
    assert!(
        run.stderr().contains("--database-url or set DATABASE_URL"),
        "{}",
        run.stderr()
    );
}

#[test]
fn mysql_is_not_supported_yet() {
    let run = Cmd::new()
        .args(["--database-url", "mysql://root@127.0.0.1/test", "status"])
        .run()
        .expect_code(2);
    assert!(
        run.stderr().contains("not supported yet"),
        "{}",
        run.stderr()
    );
}

#[test]
fn json_errors_are_one_document_on_stdout() {
    let run = Cmd::new()
        .args([
            "--format",
            "json",
            "--database-url",
            "mysql://x@h/d",
            "status",
        ])
        .run()
        .expect_code(2);
    let doc = run.json();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "status");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "usage");
    assert!(run.stderr().is_empty(), "{}", run.stderr());
}

#[test]
fn bad_schema_name_is_refused_before_connecting() {
    let run = Cmd::new()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/x",
            "--schema",
            "Bad;Name",
            "status",
        ])
        .run()
        .expect_code(2);
    assert!(
        run.stderr().contains("not a plain identifier"),
        "{}",
        run.stderr()
    );
}

#[test]
fn refused_connection_exits_3_without_the_password() {
    for url in [
        format!("postgres://app:{CANARY}@127.0.0.1:1/db"),
        format!("postgres://app@127.0.0.1:1/db?password={CANARY}"),
        format!("postgresql://app@127.0.0.1:1/db?sslmode=disable&sslpassword={CANARY}"),
    ] {
        for format in ["human", "json"] {
            let run = Cmd::new()
                .args(["--format", format, "--database-url", &url, "status"])
                .run()
                .expect_code(3);
            let all = format!("{}{}", run.stdout(), run.stderr());
            assert!(!all.contains(CANARY), "password leaked for {url}: {all}");
            assert!(all.contains("connection refused"), "{all}");
        }
    }
}

#[test]
fn help_never_shows_the_database_url_value() {
    let url = format!("postgres://app:{CANARY}@db/x");
    let run = Cmd::new()
        .env("DATABASE_URL", &url)
        .args(["--help"])
        .run()
        .expect_code(0);
    assert!(!run.stdout().contains(CANARY));
    assert!(run.stdout().contains("--database-url"));
}

#[test]
fn bad_duration_is_a_usage_error() {
    let run = Cmd::new()
        .args([
            "--database-url",
            "sqlite::memory:",
            "--lock-timeout",
            "soon",
            "status",
        ])
        .run()
        .expect_code(2);
    assert!(run.stderr().contains("500ms"), "{}", run.stderr());
}

/// README.md and RUNBOOK.md carry the exit-code table of src/exit.rs, row for row.
#[test]
fn exit_code_table_is_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["README.md", "RUNBOOK.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for status in oprun_cutover::exit::ExitStatus::ALL {
            let row = format!("| `{}` | {} |", status.code(), status.meaning());
            assert!(text.contains(&row), "{doc} lacks the row {row}");
        }
    }
}
