//! Run identity: the exact bytes behind `ids_hash`, `query_hash` and `run_identity_hash` (SPEC §6).
//!
//! `docs/identity.md` is the contract and `tests/fixtures/identity_vectors.json` publishes vectors
//! for it. The `fingerprint` command (and the coming `verify` duplicate check) call into this module,
//! so there is exactly one implementation of the definitions. Everything here is pure: the only
//! input/output is reading an ids file from a `BufRead` the caller opened.

mod canonical;
mod ids;
mod run;

pub use canonical::canonical_json;
pub use ids::{ids_hash, read_ids, split_ids, IdsDigest};
pub use run::{
    normalize_guid, parse_query, query_hash, run_identity, RunIdentity, Scope, Selection,
};

/// An input that has no fingerprint. Messages read after "failed to compute the fingerprint: ".
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the selection has no ids; give at least one id, or select by query instead")]
    EmptySelection,

    #[error(
        "the id at position {position} is empty (or only whitespace); remove the stray separator \
         or blank entry"
    )]
    EmptyId { position: usize },

    #[error(
        "the id at position {position} contains a line break; ids are joined with newlines, so \
         each id must fit on one line"
    )]
    IdContainsNewline { position: usize },

    #[error(
        "line {line} of the ids file is blank; remove it (only a single newline may end the file)"
    )]
    BlankLine { line: usize },

    #[error("line {line} of the ids file is not valid UTF-8; save the file as UTF-8")]
    NotUtf8 { line: usize },

    #[error("could not read the ids")]
    Io(#[from] std::io::Error),

    #[error(
        "the query payload is not valid JSON at line {line}, column {column} ({}); pass one JSON \
         object, e.g. {{\"status\":\"failed\"}}",
        json_reason(.error)
    )]
    InvalidJson {
        line: usize,
        column: usize,
        error: serde_json::Error,
    },

    #[error(
        "the query payload is {found}, not a JSON object; wrap the filter in an object, e.g. \
         {{\"status\":\"failed\"}}"
    )]
    PayloadNotObject { found: &'static str },

    #[error(
        "the selection hash {value:?} is not a sha256; expected 64 lowercase hex digits as \
         produced by ids_hash or query_hash"
    )]
    BadSelectionHash { value: String },

    #[error("no target scope was given; give an entra tenant id, a directory context id, or both")]
    NoScope,

    #[error(
        "the entra tenant id {value:?} is not a GUID; use the form \
         xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits, no braces)"
    )]
    MalformedGuid { value: String },

    #[error("the directory context id is empty; give a non-empty id or leave it out")]
    EmptyDirectoryContext,

    #[error(
        "the operation type {value:?} is not a registry id; use lowercase dotted words such as \
         `policy_version.prune` (two or more words, each starting with a-z and continuing with \
         a-z, 0-9 or _)"
    )]
    BadType { value: String },
}

/// serde_json's message without its " at line L column C" suffix, which our message already says.
fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(reason) => reason.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests;
