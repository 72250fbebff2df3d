//! `fingerprint`: compute `ids_hash` / `query_hash` and `run_identity_hash` exactly as the
//! application and the `verify` duplicate check do (SPEC §6, docs/identity.md). No database.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::cli::FingerprintArgs;
use crate::error::{Error, Result};
use crate::identity::{self, IdentityError, Scope, Selection};

#[derive(Debug, Serialize)]
pub struct FingerprintReport {
    #[serde(rename = "type")]
    pub op_type: String,
    pub selection_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids_hash: Option<String>,
    /// Distinct ids after normalization, and whether they were treated as numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids_numeric: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_hash: Option<String>,
    /// The canonical JSON of the filter payload, whose sha256 is `query_hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_canonical: Option<String>,
    pub run_identity_hash: String,
    /// The canonical JSON of the identity document, whose sha256 is `run_identity_hash`.
    pub canonical: String,
}

pub fn run(args: &FingerprintArgs) -> Result<FingerprintReport> {
    let scope = Scope {
        entra_tenant_id: args.entra_tenant_id.clone(),
        directory_context_id: args.directory_context_id.clone(),
    };
    let mut report = FingerprintReport {
        op_type: args.op_type.clone(),
        selection_kind: "",
        ids_hash: None,
        ids_count: None,
        ids_numeric: None,
        query_hash: None,
        query_canonical: None,
        run_identity_hash: String::new(),
        canonical: String::new(),
    };
    let selection = if let Some(ids) = selection_ids(args)? {
        let digest = identity::ids_hash(ids).map_err(invalid)?;
        report.ids_hash = Some(digest.hash.clone());
        report.ids_count = Some(digest.count);
        report.ids_numeric = Some(digest.numeric);
        Selection::Ids(digest)
    } else {
        let text = match (&args.query, &args.query_file) {
            (Some(text), _) => text.clone(),
            (None, Some(path)) => read_text(path)?,
            (None, None) => unreachable!("clap requires one selection"),
        };
        let payload = identity::parse_query(&text).map_err(invalid)?;
        let hash = identity::query_hash(&payload).map_err(invalid)?;
        report.query_canonical = Some(identity::canonical_json(&payload));
        report.query_hash = Some(hash.clone());
        Selection::Query(hash)
    };
    let identity = identity::run_identity(&args.op_type, &scope, &selection).map_err(invalid)?;
    report.selection_kind = identity.selection_kind;
    report.run_identity_hash = identity.run_identity_hash;
    report.canonical = identity.canonical;
    Ok(report)
}

/// The ids of an ids selection, or `None` for a query selection.
fn selection_ids(args: &FingerprintArgs) -> Result<Option<Vec<String>>> {
    if let Some(list) = &args.ids {
        return Ok(Some(identity::split_ids(list)));
    }
    let Some(path) = &args.ids_file else {
        return Ok(None);
    };
    let ids = if path == Path::new("-") {
        identity::read_ids(std::io::stdin().lock())
    } else {
        let file = File::open(path).map_err(|e| unreadable(path, &e))?;
        identity::read_ids(BufReader::with_capacity(1 << 16, file))
    };
    ids.map(Some).map_err(invalid)
}

fn read_text(path: &Path) -> Result<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)
    } else {
        File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| unreadable(path, &e))?;
    Ok(text)
}

fn unreadable(path: &Path, err: &std::io::Error) -> Error {
    Error::usage(format!("cannot read {}: {err}", path.display()))
}

fn invalid(err: IdentityError) -> Error {
    Error::usage(err.to_string())
}
