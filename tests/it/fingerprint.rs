//! `fingerprint` prints exactly the published vectors, through every input form.

use serde_json::Value;

use crate::harness::Cmd;

fn vectors() -> Vec<Value> {
    serde_json::from_str(include_str!("../fixtures/identity_vectors.json")).unwrap()
}

/// The command-line arguments that give a vector's scope.
fn scope_args(case: &Value) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(g) = case["scope"]["entra_tenant_id"].as_str() {
        args.extend(["--entra-tenant-id".to_string(), g.to_string()]);
    }
    if let Some(d) = case["scope"]["directory_context_id"].as_str() {
        args.extend(["--directory-context-id".to_string(), d.to_string()]);
    }
    args
}

#[test]
fn every_vector_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    for (i, case) in vectors().iter().enumerate() {
        let expected = &case["expected"];
        let mut args = vec![
            "--format".to_string(),
            "json".to_string(),
            "fingerprint".to_string(),
        ];
        args.extend([
            "--type".to_string(),
            case["type"].as_str().unwrap().to_string(),
        ]);
        args.extend(scope_args(case));
        if let Some(ids) = case["ids"].as_array() {
            // Through a file: ids may hold commas, which the --ids form cannot carry.
            let path = dir.path().join(format!("ids-{i}.txt"));
            let lines: Vec<&str> = ids.iter().map(|v| v.as_str().unwrap()).collect();
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
            args.extend(["--ids-file".to_string(), path.display().to_string()]);
        } else {
            let text = match case.get("query_text") {
                Some(t) => t.as_str().unwrap().to_string(),
                None => case["query"].to_string(),
            };
            args.extend(["--query".to_string(), text]);
        }
        let run = Cmd::new().args(&args).run().expect_code(0);
        let data = run.json()["data"].clone();
        assert_eq!(
            data["run_identity_hash"], expected["run_identity_hash"],
            "{}",
            case["name"]
        );
        assert_eq!(data["canonical"], expected["canonical"], "{}", case["name"]);
        for key in ["ids_hash", "query_hash"] {
            if !expected[key].is_null() {
                assert_eq!(data[key], expected[key], "{} {key}", case["name"]);
            }
        }
    }
}

#[test]
fn ids_given_inline_match_the_file_form() {
    let inline = Cmd::new()
        .args([
            "--format",
            "json",
            "fingerprint",
            "--type",
            "backup_set.delete",
            "--directory-context-id",
            "dc-1",
            "--ids",
            "3,1,2,002",
        ])
        .run()
        .expect_code(0)
        .json();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.txt");
    std::fs::write(&path, "2\n3\n1\n").unwrap();
    let file = Cmd::new()
        .args([
            "--format",
            "json",
            "fingerprint",
            "--type",
            "backup_set.delete",
            "--directory-context-id",
            "dc-1",
        ])
        .args(["--ids-file", path.to_str().unwrap()])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(
        inline["data"]["run_identity_hash"],
        file["data"]["run_identity_hash"]
    );
    assert_eq!(inline["data"]["ids_count"], 3);
}

#[test]
fn bad_input_exits_2_with_a_precise_message() {
    let base = ["fingerprint", "--type", "policy_version.prune"];
    let cases: [(&[&str], &str); 6] = [
        (&["--ids", "1,2"], "no target scope"),
        (
            &["--entra-tenant-id", "{not-a-guid}", "--ids", "1"],
            "{not-a-guid}",
        ),
        (
            &["--directory-context-id", "d", "--query", "{\"a\": "],
            "line 1",
        ),
        (
            &["--directory-context-id", "d", "--query", "[1, 2]"],
            "object",
        ),
        (
            &["--directory-context-id", "d", "--ids", "1,,2"],
            "position 2",
        ),
        (&["--directory-context-id", "d", "--ids", ""], "no ids"),
    ];
    for (extra, needle) in cases {
        let run = Cmd::new().args(base).args(extra).run().expect_code(2);
        assert!(run.stderr().contains(needle), "{extra:?}: {}", run.stderr());
        assert!(run.stdout().is_empty());
    }
    let no_selection = Cmd::new()
        .args(base)
        .args(["--directory-context-id", "d"])
        .run()
        .expect_code(2);
    assert!(
        no_selection.stderr().contains("--ids"),
        "{}",
        no_selection.stderr()
    );
}

#[test]
fn needs_no_database() {
    Cmd::new()
        .args([
            "fingerprint",
            "--type",
            "report.export",
            "--directory-context-id",
            "d",
            "--query",
            "{}",
        ])
        .run()
        .expect_code(0);
}
