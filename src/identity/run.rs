//! Query selections (`query_hash`) and the run identity that combines type, scope and
//! selection (`run_identity_hash`).

use serde::Serialize;
use serde_json::{Map, Value};

use super::canonical::{canonical_json, sha256_hex};
use super::ids::IdsDigest;
use super::IdentityError;

/// Parses a filter payload as the fingerprint reads it (serde_json, f64 round-trip exact). A key
/// given twice keeps its last value.
pub fn parse_query(text: &str) -> Result<Value, IdentityError> {
    serde_json::from_str(text).map_err(|error| IdentityError::InvalidJson {
        line: error.line(),
        column: error.column(),
        error,
    })
}

/// Lowercase hex sha256 of the canonical JSON of a filter payload, which must be an object.
pub fn query_hash(payload: &Value) -> Result<String, IdentityError> {
    let found = match payload {
        Value::Object(_) => return Ok(sha256_hex(canonical_json(payload).as_bytes())),
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
    };
    Err(IdentityError::PayloadNotObject { found })
}

/// The target scope of a run; at least one field must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// An Entra tenant GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, any case.
    pub entra_tenant_id: Option<String>,
    /// An internal directory context id, any non-empty string (trimmed).
    pub directory_context_id: Option<String>,
}

impl Scope {
    /// The scope object as it is hashed: given keys only, normalized.
    pub(super) fn to_json(&self) -> Result<Map<String, Value>, IdentityError> {
        let mut scope = Map::new();
        if let Some(tenant) = &self.entra_tenant_id {
            scope.insert("entra_tenant_id".into(), normalize_guid(tenant)?.into());
        }
        if let Some(context) = &self.directory_context_id {
            let context = context.trim();
            if context.is_empty() {
                return Err(IdentityError::EmptyDirectoryContext);
            }
            scope.insert("directory_context_id".into(), context.into());
        }
        if scope.is_empty() {
            return Err(IdentityError::NoScope);
        }
        Ok(scope)
    }
}

/// Checks the 8-4-4-4-12 hex form and lowercases it; braces, `urn:uuid:` or bare 32 hex digits
/// are refused rather than guessed at, so one tenant always has one spelling.
pub fn normalize_guid(value: &str) -> Result<String, IdentityError> {
    let guid = value.trim();
    let well_formed = guid.len() == 36
        && guid.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    if !well_formed {
        return Err(IdentityError::MalformedGuid {
            value: value.to_owned(),
        });
    }
    Ok(guid.to_ascii_lowercase())
}

/// How a run selects its targets, with the hash that stands for the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Ids(IdsDigest),
    /// The `query_hash` of the filter payload.
    Query(String),
}

impl Selection {
    /// `"ids"` or `"query"`, as written into the run identity.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ids(_) => "ids",
            Self::Query(_) => "query",
        }
    }

    /// The `ids_hash` or `query_hash` written into the run identity.
    pub fn hash(&self) -> &str {
        match self {
            Self::Ids(digest) => &digest.hash,
            Self::Query(hash) => hash,
        }
    }
}

/// A computed run identity, with the exact canonical JSON that was hashed so it can be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunIdentity {
    pub run_identity_hash: String,
    /// The exact canonical JSON whose sha256 is `run_identity_hash`.
    pub canonical: String,
    pub selection_kind: &'static str,
    pub selection_hash: String,
}

/// The fingerprint of a run: sha256 of the canonical JSON of
/// `{"scope": S, "selection": {"hash": H, "kind": K}, "type": T}`.
pub fn run_identity(
    op_type: &str,
    scope: &Scope,
    selection: &Selection,
) -> Result<RunIdentity, IdentityError> {
    check_type(op_type)?;
    let scope = scope.to_json()?;
    let hash = selection.hash();
    check_sha256(hash)?;

    let mut selection_json = Map::new();
    selection_json.insert("hash".into(), hash.into());
    selection_json.insert("kind".into(), selection.kind().into());
    let mut document = Map::new();
    document.insert("scope".into(), Value::Object(scope));
    document.insert("selection".into(), Value::Object(selection_json));
    document.insert("type".into(), op_type.into());

    let canonical = canonical_json(&Value::Object(document));
    Ok(RunIdentity {
        run_identity_hash: sha256_hex(canonical.as_bytes()),
        canonical,
        selection_kind: selection.kind(),
        selection_hash: hash.to_owned(),
    })
}

/// `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`, the shape of an operation-type registry id.
pub(super) fn check_type(op_type: &str) -> Result<(), IdentityError> {
    let is_word = |word: &str| {
        let mut bytes = word.bytes();
        bytes.next().is_some_and(|first| first.is_ascii_lowercase())
            && bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    };
    if op_type.contains('.') && op_type.split('.').all(is_word) {
        return Ok(());
    }
    Err(IdentityError::BadType {
        value: op_type.to_owned(),
    })
}

/// A selection built by hand (say, from a stored hash) must still look like one of our hashes,
/// or two spellings of the same hash would give two run identities.
fn check_sha256(hash: &str) -> Result<(), IdentityError> {
    let is_lower_hex = |byte: u8| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
    if hash.len() == 64 && hash.bytes().all(is_lower_hex) {
        return Ok(());
    }
    Err(IdentityError::BadSelectionHash {
        value: hash.to_owned(),
    })
}
