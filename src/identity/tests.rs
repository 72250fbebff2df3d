//! The identity module against its published vectors, its documented examples, and
//! properties (proptest).

use super::canonical::{increment_digits, sha256_hex, write_float};
use super::ids::NormalizedIds;
use super::run::check_type;
use super::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;
use serde_json::{Number, Value};

// -----------------------------------------------------------------------------------------
// Published vectors (computed by an independent implementation, not by this module)
// -----------------------------------------------------------------------------------------

const VECTORS: &str = include_str!("../../tests/fixtures/identity_vectors.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    name: String,
    #[serde(rename = "type")]
    op_type: String,
    scope: VectorScope,
    ids: Option<Vec<String>>,
    query: Option<Value>,
    query_text: Option<String>,
    expected: Expected,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorScope {
    entra_tenant_id: Option<String>,
    directory_context_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    selection_kind: String,
    ids_numeric: Option<bool>,
    ids_count: Option<usize>,
    ids_bytes: Option<String>,
    ids_hash: Option<String>,
    query_canonical: Option<String>,
    query_hash: Option<String>,
    canonical: String,
    run_identity_hash: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(VECTORS).expect("identity_vectors.json parses")
}

/// The exact bytes `ids_hash` feeds to sha256, for comparing against `ids_bytes`.
fn hashed_ids_bytes<S: AsRef<str>>(ids: &[S]) -> String {
    let normalized = NormalizedIds::new(ids).expect("valid ids");
    let mut bytes = Vec::new();
    normalized.write(|piece| bytes.extend_from_slice(piece));
    String::from_utf8(bytes).expect("ids are UTF-8")
}

fn vector_selection(vector: &Vector) -> Selection {
    let name = &vector.name;
    let expected = &vector.expected;
    match (&vector.ids, &vector.query, &vector.query_text) {
        (Some(ids), None, None) => {
            let digest = ids_hash(ids).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                Some(&digest.hash),
                expected.ids_hash.as_ref(),
                "{name}: ids_hash"
            );
            assert_eq!(Some(digest.count), expected.ids_count, "{name}: ids_count");
            assert_eq!(
                Some(digest.numeric),
                expected.ids_numeric,
                "{name}: ids_numeric"
            );
            let bytes = hashed_ids_bytes(ids);
            assert_eq!(
                Some(&bytes),
                expected.ids_bytes.as_ref(),
                "{name}: ids_bytes"
            );
            Selection::Ids(digest)
        }
        (None, query, text) => {
            let payload = match (query, text) {
                (Some(query), None) => query.clone(),
                (None, Some(text)) => parse_query(text).unwrap_or_else(|e| panic!("{name}: {e}")),
                _ => panic!("{name}: give exactly one of query and query_text"),
            };
            let canonical = canonical_json(&payload);
            assert_eq!(
                Some(&canonical),
                expected.query_canonical.as_ref(),
                "{name}: canonical"
            );
            let hash = query_hash(&payload).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                Some(&hash),
                expected.query_hash.as_ref(),
                "{name}: query_hash"
            );
            Selection::Query(hash)
        }
        _ => panic!("{name}: give either ids or a query"),
    }
}

#[test]
fn every_published_vector_holds() {
    let vectors = vectors();
    assert!(vectors.len() >= 20, "the vectors file lost cases");
    for vector in &vectors {
        let name = &vector.name;
        let scope = Scope {
            entra_tenant_id: vector.scope.entra_tenant_id.clone(),
            directory_context_id: vector.scope.directory_context_id.clone(),
        };
        let selection = vector_selection(vector);
        let identity = run_identity(&vector.op_type, &scope, &selection)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            identity.selection_kind, vector.expected.selection_kind,
            "{name}"
        );
        assert_eq!(
            identity.canonical, vector.expected.canonical,
            "{name}: canonical"
        );
        assert_eq!(
            identity.run_identity_hash, vector.expected.run_identity_hash,
            "{name}: run_identity_hash"
        );
    }
}

#[test]
fn vector_names_are_unique() {
    let mut names: Vec<String> = vectors().into_iter().map(|v| v.name).collect();
    let total = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total);
}

#[test]
fn the_worked_examples_in_the_docs_are_vectors() {
    let docs = include_str!("../../docs/identity.md");
    let worked = [
        "negative numbers sort numerically",
        "query with whitespace and key order in the source text",
        "both scope keys, guid given in upper case",
    ];
    let vectors = vectors();
    for name in worked {
        assert!(
            docs.contains(&format!("\"{name}\"")),
            "{name}: not a heading in the docs"
        );
        let vector = vectors.iter().find(|v| v.name == name).expect(name);
        let expected = &vector.expected;
        let selection_text = match (&expected.ids_bytes, &expected.query_canonical) {
            (Some(bytes), _) => bytes.replace('\n', "⏎"),
            (None, Some(canonical)) => canonical.clone(),
            (None, None) => panic!("{name}: no selection text"),
        };
        let selection_hash = expected.ids_hash.as_ref().or(expected.query_hash.as_ref());
        for needle in [
            &selection_text,
            selection_hash.expect(name),
            &expected.canonical,
            &expected.run_identity_hash,
        ] {
            assert!(docs.contains(needle.as_str()), "{name}: docs lack {needle}");
        }
    }
}

// -----------------------------------------------------------------------------------------
// Ids
// -----------------------------------------------------------------------------------------

fn bytes_of(ids: &[&str]) -> String {
    hashed_ids_bytes(ids)
}

#[test]
fn ids_hash_is_sha256_of_the_joined_ids() {
    let digest = ids_hash(["2", "1"]).unwrap();
    assert_eq!(digest.hash, sha256_hex(b"1\n2"));
    assert_eq!((digest.count, digest.numeric), (2, true));
}

#[test]
fn integers_normalize_textually() {
    assert_eq!(bytes_of(&["007", "-0", "-000", "0", "-012"]), "-12\n0\n7");
    let huge = "340282366920938463463374607431768211456"; // 2^128
    assert_eq!(
        bytes_of(&[huge, "18446744073709551616", "-1"]),
        format!("-1\n18446744073709551616\n{huge}")
    );
}

#[test]
fn integers_order_by_sign_then_length_then_digits() {
    let ids = [
        "-100", "-99", "-9", "-10", "0", "9", "10", "99", "100", "-1",
    ];
    assert_eq!(bytes_of(&ids), "-100\n-99\n-10\n-9\n-1\n0\n9\n10\n99\n100");
}

#[test]
fn anything_but_plain_ascii_integers_makes_every_id_a_string() {
    for odd in [
        "+1", "1.0", "1e3", "0x1", "--1", "-", "\u{663}", "1 2", "１",
    ] {
        let digest = ids_hash(["2", odd, "10"]).unwrap();
        assert!(!digest.numeric, "{odd:?} counted as an integer");
    }
    // As strings, "10" sorts before "2" and leading zeros matter.
    assert_eq!(bytes_of(&["2", "10", "007", "7", "a"]), "007\n10\n2\n7\na");
}

#[test]
fn strings_sort_by_utf8_bytes_and_keep_their_case() {
    assert_eq!(bytes_of(&["é", "z", "Z", "a"]), "Z\na\nz\né");
}

#[test]
fn ids_are_trimmed_of_unicode_whitespace() {
    assert_eq!(bytes_of(&[" 7\t", "\u{a0}8\u{3000}", "7\r"]), "7\n8");
    assert_eq!(bytes_of(&[" a b ", "a b"]), "a b");
}

#[test]
fn an_empty_selection_is_an_error() {
    let none: [&str; 0] = [];
    assert!(matches!(ids_hash(none), Err(IdentityError::EmptySelection)));
    assert!(matches!(
        ids_hash(split_ids("")),
        Err(IdentityError::EmptySelection)
    ));
    assert!(matches!(
        ids_hash(split_ids("  ")),
        Err(IdentityError::EmptySelection)
    ));
}

#[test]
fn an_empty_id_names_its_position() {
    let error = ids_hash(split_ids("1,,3")).unwrap_err();
    assert!(
        matches!(error, IdentityError::EmptyId { position: 2 }),
        "{error:?}"
    );
    assert!(error.to_string().contains("position 2"));
    let trailing = ids_hash(split_ids("1,2, ")).unwrap_err();
    assert!(
        matches!(trailing, IdentityError::EmptyId { position: 3 }),
        "{trailing:?}"
    );
}

#[test]
fn an_id_with_a_line_break_is_refused() {
    // Otherwise ["a\nb"] and ["a", "b"] would share a hash.
    let error = ids_hash(["x", "a\nb"]).unwrap_err();
    assert!(
        matches!(error, IdentityError::IdContainsNewline { position: 2 }),
        "{error:?}"
    );
}

#[test]
fn split_ids_keeps_entries_as_given() {
    assert_eq!(split_ids("1, 2,3"), ["1", " 2", "3"]);
    assert_eq!(split_ids("1,"), ["1", ""]);
}

#[test]
fn owned_and_borrowed_ids_hash_alike() {
    let owned: Vec<String> = vec!["b".into(), "a".into()];
    assert_eq!(ids_hash(&owned).unwrap(), ids_hash(["a", "b"]).unwrap());
    assert_eq!(
        ids_hash(owned.clone()).unwrap(),
        ids_hash(owned.iter()).unwrap()
    );
}

#[test]
fn many_ids_hash_without_trouble() {
    let ids: Vec<String> = (0..100_000u32)
        .rev()
        .map(|i| (i * 7 % 100_000).to_string())
        .collect();
    let digest = ids_hash(&ids).unwrap();
    assert_eq!((digest.count, digest.numeric), (100_000, true));
}

// -----------------------------------------------------------------------------------------
// Ids file
// -----------------------------------------------------------------------------------------

fn read(text: &[u8]) -> Result<Vec<String>, IdentityError> {
    read_ids(text)
}

#[test]
fn ids_file_accepts_lf_crlf_and_an_optional_final_newline() {
    assert_eq!(read(b"1\n2\n").unwrap(), ["1", "2"]);
    assert_eq!(read(b"1\r\n2\r\n").unwrap(), ["1", "2"]);
    assert_eq!(read(b"1\n2").unwrap(), ["1", "2"]);
    assert_eq!(read(b"").unwrap(), Vec::<String>::new());
}

#[test]
fn ids_file_ignores_a_leading_bom() {
    let ids = read("\u{feff}7\n8\n".as_bytes()).unwrap();
    assert!(ids_hash(&ids).unwrap().numeric);
}

#[test]
fn ids_file_blank_lines_name_the_line() {
    for (text, line) in [
        (&b"1\n\n2\n"[..], 2),
        (b"1\n2\n\n", 3),
        (b"\n1\n", 1),
        (b"1\r\n \t\r\n2", 2),
        (b"1\n2\n   ", 3),
    ] {
        let error = read(text).unwrap_err();
        assert!(
            matches!(error, IdentityError::BlankLine { line: l } if l == line),
            "{text:?}: {error:?}"
        );
        assert!(error.to_string().contains(&format!("line {line}")));
    }
}

#[test]
fn ids_file_must_be_utf8() {
    let error = read(b"1\n\xff\n").unwrap_err();
    assert!(
        matches!(error, IdentityError::NotUtf8 { line: 2 }),
        "{error:?}"
    );
}

#[test]
fn ids_file_read_errors_pass_through() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let error = read_ids(std::io::BufReader::new(Broken)).unwrap_err();
    assert!(matches!(error, IdentityError::Io(_)), "{error:?}");
}

// -----------------------------------------------------------------------------------------
// Canonical JSON and query_hash
// -----------------------------------------------------------------------------------------

fn canonical_number(text: &str) -> String {
    canonical_json(&parse_query(text).unwrap())
}

#[test]
fn numbers_print_as_ecmascript_does() {
    let cases = [
        ("0", "0"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1.0", "1"),
        ("1.5", "1.5"),
        ("-1.5", "-1.5"),
        ("0.1", "0.1"),
        ("1e2", "100"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("1.5e300", "1.5e+300"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("1.25e-7", "1.25e-7"),
        ("5e-324", "5e-324"),
        ("2.2250738585072014e-308", "2.2250738585072014e-308"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("9007199254740993", "9007199254740993"),
        ("9007199254740993.0", "9007199254740992"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551616", "18446744073709552000"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("123456789012.5", "123456789012.5"),
        ("0.30000000000000004", "0.30000000000000004"),
        // Exactly halfway between two 17-digit forms that both round-trip: the even one wins.
        ("2249082146819912.25", "2249082146819912.2"),
        ("2249082146819912.75", "2249082146819912.8"),
        ("-2886254405724.53125", "-2886254405724.5312"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical_number(input), expected, "{input}");
    }
}

#[test]
fn incrementing_digits_carries_and_drops_trailing_zeros() {
    assert_eq!(increment_digits("129", 4), ("13".to_owned(), 4));
    assert_eq!(increment_digits("99", 4), ("1".to_owned(), 5));
    assert_eq!(increment_digits("5", -3), ("6".to_owned(), -3));
}

#[test]
fn non_finite_floats_cannot_reach_the_writer_but_would_print_null() {
    let mut out = String::new();
    write_float(&mut out, f64::NAN);
    assert_eq!(out, "null");
}

#[test]
fn strings_escape_only_what_json_requires() {
    let value = json!("\"\\/\u{0}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1b}\u{1f}\u{7f}é😀\u{2028}");
    assert_eq!(
        canonical_json(&value),
        "\"\\\"\\\\/\\u0000\\b\\t\\n\\f\\r\\u001b\\u001f\u{7f}é😀\u{2028}\""
    );
}

#[test]
fn keys_sort_by_code_point() {
    // U+FB01 (3 UTF-8 bytes) sorts before U+1F600 (4 bytes) by code point; RFC 8785's UTF-16
    // order would put the surrogate pair (0xD83D..) first.
    let value = json!({"😀": 1, "ﬁ": 2, "é": 3, "z": 4, "Z": 5, "": 6});
    assert_eq!(
        canonical_json(&value),
        r#"{"":6,"Z":5,"z":4,"é":3,"ﬁ":2,"😀":1}"#
    );
}

#[test]
fn canonical_json_has_no_whitespace_and_keeps_array_order() {
    let value =
        parse_query("{ \"b\" : [ 3 , 1 , { \"y\" : null , \"x\" : true } ] , \"a\" : false }")
            .unwrap();
    assert_eq!(
        canonical_json(&value),
        r#"{"a":false,"b":[3,1,{"x":true,"y":null}]}"#
    );
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    let repeated = parse_query(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(
        query_hash(&repeated).unwrap(),
        query_hash(&json!({"a": 2})).unwrap()
    );
}

#[test]
fn query_hash_is_sha256_of_the_canonical_json() {
    let payload = json!({"status": "failed", "age": 1.0});
    assert_eq!(
        query_hash(&payload).unwrap(),
        sha256_hex(br#"{"age":1,"status":"failed"}"#)
    );
}

#[test]
fn the_payload_must_be_an_object() {
    for (payload, found) in [
        (json!([1]), "an array"),
        (json!("x"), "a string"),
        (json!(1), "a number"),
        (json!(null), "null"),
        (json!(true), "a boolean"),
    ] {
        let error = query_hash(&payload).unwrap_err();
        assert!(
            matches!(error, IdentityError::PayloadNotObject { found: f } if f == found),
            "{error:?}"
        );
    }
}

#[test]
fn invalid_json_says_where() {
    let error = parse_query("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
    assert!(
        matches!(
            error,
            IdentityError::InvalidJson {
                line: 3,
                column: 7,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message
            .starts_with("the query payload is not valid JSON at line 3, column 7 (expected `:`)"),
        "{message}"
    );
    // serde_json refuses very deep nesting instead of overflowing the stack.
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(
        parse_query(&deep),
        Err(IdentityError::InvalidJson { .. })
    ));
    // Numbers an f64 cannot hold are refused too, not turned into infinity.
    assert!(matches!(
        parse_query(r#"{"a":1e400}"#),
        Err(IdentityError::InvalidJson { .. })
    ));
}

// -----------------------------------------------------------------------------------------
// Run identity
// -----------------------------------------------------------------------------------------

const TENANT: &str = "11111111-2222-3333-4444-555555555555";

fn tenant(guid: &str) -> Scope {
    Scope {
        entra_tenant_id: Some(guid.into()),
        directory_context_id: None,
    }
}

fn some_ids() -> Selection {
    Selection::Ids(ids_hash(["1", "2"]).unwrap())
}

#[test]
fn run_identity_hashes_the_canonical_document() {
    let identity = run_identity("policy_version.prune", &tenant(TENANT), &some_ids()).unwrap();
    let ids = sha256_hex(b"1\n2");
    let expected = format!(
        r#"{{"scope":{{"entra_tenant_id":"{TENANT}"}},"selection":{{"hash":"{ids}","kind":"ids"}},"type":"policy_version.prune"}}"#
    );
    assert_eq!(identity.canonical, expected);
    assert_eq!(identity.run_identity_hash, sha256_hex(expected.as_bytes()));
    assert_eq!(
        (identity.selection_kind, identity.selection_hash.as_str()),
        ("ids", ids.as_str())
    );
}

#[test]
fn run_identity_serializes_for_reports() {
    let identity = run_identity("backup_set.delete", &tenant(TENANT), &some_ids()).unwrap();
    let json = serde_json::to_value(&identity).unwrap();
    assert_eq!(json["selection_kind"], "ids");
    assert_eq!(
        json["run_identity_hash"],
        identity.run_identity_hash.as_str()
    );
}

#[test]
fn operation_types_must_be_registry_ids() {
    for good in [
        "policy_version.prune",
        "backup_set.delete",
        "a.b",
        "a1_.b_2.c",
        "a_.z9",
    ] {
        assert!(check_type(good).is_ok(), "{good}");
    }
    for bad in [
        "", "prune", ".a", "a.", "a..b", "A.b", "a.B", "1a.b", "a._b", "a-b.c", " a.b", "a.b ",
        "é.b",
    ] {
        let error = check_type(bad).unwrap_err();
        assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
    }
}

#[test]
fn guids_normalize_to_lower_case() {
    assert_eq!(
        normalize_guid(" ABCDEF01-2345-6789-abcd-EF0123456789 ").unwrap(),
        "abcdef01-2345-6789-abcd-ef0123456789"
    );
    let upper = run_identity(
        "a.b",
        &tenant(&TENANT.to_uppercase().replace('1', "A")),
        &some_ids(),
    )
    .unwrap();
    let lower = run_identity("a.b", &tenant(&TENANT.replace('1', "a")), &some_ids()).unwrap();
    assert_eq!(upper, lower);
}

#[test]
fn other_guid_forms_are_refused_with_the_expected_form() {
    for bad in [
        "{11111111-2222-3333-4444-555555555555}",
        "urn:uuid:11111111-2222-3333-4444-555555555555",
        "11111111222233334444555555555555",
        "11111111-2222-3333-4444-55555555555g",
        "11111111-2222-3333-4444-5555555555555",
        "1111111-12222-3333-4444-555555555555",
        "",
    ] {
        let error = run_identity("a.b", &tenant(bad), &some_ids()).unwrap_err();
        assert!(
            matches!(&error, IdentityError::MalformedGuid { value } if value == bad),
            "{error:?}"
        );
        assert!(error
            .to_string()
            .contains("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
    }
}

#[test]
fn a_scope_is_required_and_a_directory_context_must_not_be_blank() {
    let none = Scope::default();
    assert!(matches!(
        run_identity("a.b", &none, &some_ids()),
        Err(IdentityError::NoScope)
    ));
    let blank = Scope {
        entra_tenant_id: Some(TENANT.into()),
        directory_context_id: Some(" ".into()),
    };
    assert!(matches!(
        run_identity("a.b", &blank, &some_ids()),
        Err(IdentityError::EmptyDirectoryContext)
    ));
}

#[test]
fn a_hand_built_selection_must_carry_a_real_hash() {
    let hash = sha256_hex(b"x");
    for bad in [
        String::new(),
        hash.to_uppercase(),
        format!("{hash}0"),
        hash[1..].to_owned(),
    ] {
        let error =
            run_identity("a.b", &tenant(TENANT), &Selection::Query(bad.clone())).unwrap_err();
        assert!(
            matches!(&error, IdentityError::BadSelectionHash { value } if *value == bad),
            "{error:?}"
        );
    }
    assert!(run_identity("a.b", &tenant(TENANT), &Selection::Query(hash)).is_ok());
}

#[test]
fn error_messages_read_after_failed_to() {
    let errors = [
        IdentityError::EmptySelection,
        IdentityError::EmptyId { position: 1 },
        IdentityError::IdContainsNewline { position: 1 },
        IdentityError::BlankLine { line: 1 },
        IdentityError::NotUtf8 { line: 1 },
        IdentityError::Io(std::io::Error::other("x")),
        parse_query("{").unwrap_err(),
        IdentityError::PayloadNotObject { found: "an array" },
        IdentityError::BadSelectionHash { value: "x".into() },
        IdentityError::NoScope,
        IdentityError::MalformedGuid { value: "x".into() },
        IdentityError::EmptyDirectoryContext,
        IdentityError::BadType { value: "x".into() },
    ];
    for error in errors {
        let message = error.to_string();
        let first = message.chars().next().unwrap_or(' ');
        assert!(first.is_lowercase() && !message.ends_with('.'), "{message}");
    }
}

// -----------------------------------------------------------------------------------------
// Properties
// -----------------------------------------------------------------------------------------

/// A tiny deterministic generator so one proptest seed drives shuffles and whitespace.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    fn whitespace(&mut self, out: &mut String) {
        out.push_str(["", "", " ", "\n", "\t", "\r\n  "][self.below(6)]);
    }
}

/// Serializes `value` as valid but non-canonical JSON: shuffled keys, random whitespace,
/// sometimes every string character as a `\u` escape.
fn scramble(value: &Value, rng: &mut SplitMix, out: &mut String) {
    rng.whitespace(out);
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            rng.shuffle(&mut entries);
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                scramble_string(key, rng, out);
                rng.whitespace(out);
                out.push(':');
                scramble(value, rng, out);
            }
            rng.whitespace(out);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                scramble(item, rng, out);
            }
            rng.whitespace(out);
            out.push(']');
        }
        Value::String(string) => scramble_string(string, rng, out),
        // serde_json's own number form ("1e21", "1.0"), not the canonical one.
        other => out.push_str(&other.to_string()),
    }
    rng.whitespace(out);
}

fn scramble_string(string: &str, rng: &mut SplitMix, out: &mut String) {
    rng.whitespace(out);
    if rng.below(2) == 0 {
        out.push_str(&Value::from(string).to_string());
        return;
    }
    out.push('"');
    for unit in string.encode_utf16() {
        out.push_str(&format!("\\u{unit:04X}"));
    }
    out.push('"');
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,6}".prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/a-z\u{7f}\u{2028}😀]{0,5}".prop_map(Value::String),
    ]
}

fn json_key() -> impl Strategy<Value = String> {
    "[a-cA-Z_é\u{fb01}😀\\x00\"]{0,3}"
}

fn json_object_of(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(json_key(), inner, 0..5)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            json_object_of(inner),
        ]
    })
}

fn json_payload() -> impl Strategy<Value = Value> {
    json_object_of(json_value())
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof!["-?[0-9]{1,25}", "[a-z0-9é😀_.-]{1,6}"]
}

/// Ids plus a shuffled copy of them with some ids repeated.
fn ids_and_permutation() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    (
        prop::collection::vec(id(), 1..30),
        prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    )
        .prop_flat_map(|(ids, repeats)| {
            let mut extended = ids.clone();
            extended.extend(repeats.iter().map(|index| index.get(&ids).clone()));
            (Just(ids), Just(extended).prop_shuffle())
        })
}

fn op_type() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,5}(\\.[a-z][a-z0-9_]{0,5}){1,2}"
}

fn scope() -> impl Strategy<Value = Scope> {
    let guid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    (prop::option::of(guid), prop::option::of("[a-z0-9-]{1,10}"))
        .prop_filter("a scope needs a key", |(t, d)| t.is_some() || d.is_some())
        .prop_map(|(entra_tenant_id, directory_context_id)| Scope {
            entra_tenant_id,
            directory_context_id,
        })
}

fn run_hash(op_type: &str, scope: &Scope, selection: &Selection) -> String {
    run_identity(op_type, scope, selection)
        .unwrap()
        .run_identity_hash
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn permuting_and_repeating_ids_keeps_ids_hash((ids, shuffled) in ids_and_permutation()) {
        prop_assert_eq!(ids_hash(&ids).unwrap(), ids_hash(&shuffled).unwrap());
    }

    #[test]
    fn padding_integers_keeps_ids_hash(
        ids in prop::collection::vec(-1_000_000i64..1_000_000, 1..20),
        zeros in 0usize..4,
    ) {
        let plain: Vec<String> = ids.iter().map(i64::to_string).collect();
        let padded: Vec<String> = ids
            .iter()
            .map(|id| {
                let sign = if *id < 0 { "-" } else { "" };
                format!(" {sign}{}{}\t", "0".repeat(zeros), id.unsigned_abs())
            })
            .collect();
        prop_assert_eq!(ids_hash(&plain).unwrap(), ids_hash(&padded).unwrap());
    }

    #[test]
    fn integer_ids_sort_like_big_integers(ids in prop::collection::vec(any::<i128>(), 1..20)) {
        let mut expected = ids.clone();
        expected.sort_unstable();
        expected.dedup();
        let joined: Vec<String> = expected.iter().map(i128::to_string).collect();
        let strings: Vec<String> = ids.iter().map(i128::to_string).collect();
        prop_assert_eq!(hashed_ids_bytes(&strings), joined.join("\n"));
    }

    #[test]
    fn integer_ids_sharing_long_prefixes_sort_like_big_integers(
        base in any::<i128>(),
        deltas in prop::collection::vec(-1000i128..1000, 1..20),
    ) {
        let ids: Vec<i128> = deltas.iter().map(|delta| base.saturating_add(*delta)).collect();
        let mut expected = ids.clone();
        expected.sort_unstable();
        expected.dedup();
        let joined: Vec<String> = expected.iter().map(i128::to_string).collect();
        let strings: Vec<String> = ids.iter().map(i128::to_string).collect();
        prop_assert_eq!(hashed_ids_bytes(&strings), joined.join("\n"));
    }

    #[test]
    fn string_ids_sort_by_utf8_bytes(
        ids in prop::collection::vec("x(abcdefgh|abcdef\\x00|é){0,2}[\\x00ab\u{e9}\u{ff}]{0,3}", 1..20),
    ) {
        let mut expected = ids.clone();
        expected.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        expected.dedup();
        prop_assert_eq!(hashed_ids_bytes(&ids), expected.join("\n"));
    }

    #[test]
    fn reordering_keys_and_whitespace_keeps_query_hash(payload in json_payload(), seed in any::<u64>()) {
        let mut text = String::new();
        scramble(&payload, &mut SplitMix(seed), &mut text);
        let reparsed = parse_query(&text).unwrap();
        prop_assert_eq!(query_hash(&payload).unwrap(), query_hash(&reparsed).unwrap());
    }

    #[test]
    fn canonical_json_is_a_fixed_point(payload in json_payload()) {
        let canonical = canonical_json(&payload);
        prop_assert_eq!(canonical_json(&parse_query(&canonical).unwrap()), canonical);
    }

    #[test]
    fn changing_the_type_changes_run_identity(
        (a, b) in (op_type(), op_type()),
        scope in scope(),
        ids in prop::collection::vec(id(), 1..5),
    ) {
        prop_assume!(a != b);
        let selection = Selection::Ids(ids_hash(&ids).unwrap());
        prop_assert_ne!(run_hash(&a, &scope, &selection), run_hash(&b, &scope, &selection));
    }

    #[test]
    fn changing_the_scope_changes_run_identity(
        (a, b) in (scope(), scope()),
        op_type in op_type(),
        ids in prop::collection::vec(id(), 1..5),
    ) {
        prop_assume!(a.to_json().unwrap() != b.to_json().unwrap());
        let selection = Selection::Ids(ids_hash(&ids).unwrap());
        prop_assert_ne!(run_hash(&op_type, &a, &selection), run_hash(&op_type, &b, &selection));
    }

    #[test]
    fn one_more_id_changes_run_identity(
        op_type in op_type(),
        scope in scope(),
        ids in prop::collection::vec(id(), 1..10),
        extra in id(),
    ) {
        let before = ids_hash(&ids).unwrap();
        let mut more = ids.clone();
        more.push(extra);
        let after = ids_hash(&more).unwrap();
        prop_assume!(after.count > before.count);
        prop_assert_ne!(
            run_hash(&op_type, &scope, &Selection::Ids(before)),
            run_hash(&op_type, &scope, &Selection::Ids(after))
        );
    }

    #[test]
    fn a_different_query_changes_run_identity(
        op_type in op_type(),
        scope in scope(),
        (a, b) in (json_payload(), json_payload()),
    ) {
        prop_assume!(canonical_json(&a) != canonical_json(&b));
        let a = Selection::Query(query_hash(&a).unwrap());
        let b = Selection::Query(query_hash(&b).unwrap());
        prop_assert_ne!(run_hash(&op_type, &scope, &a), run_hash(&op_type, &scope, &b));
    }

    #[test]
    fn the_selection_kind_is_part_of_run_identity(op_type in op_type(), scope in scope(), ids in prop::collection::vec(id(), 1..5)) {
        let digest = ids_hash(&ids).unwrap();
        let as_query = Selection::Query(digest.hash.clone());
        prop_assert_ne!(run_hash(&op_type, &scope, &Selection::Ids(digest)), run_hash(&op_type, &scope, &as_query));
    }
}
