//! Identifiers that come from options: validated once, then quoted by one function.

use crate::error::{Error, Result};

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
const MAX_LEN: usize = 63;

/// Accept a plain lowercase identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes): the form that
/// means the same quoted or not, so what the user typed is what the catalog holds.
pub fn validate(option: &str, name: &str) -> Result<String> {
    let mut chars = name.chars();
    let plain = matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= MAX_LEN;
    if plain {
        Ok(name.to_string())
    } else {
        Err(Error::usage(format!(
            "{option} {} is not a plain identifier: use lowercase letters, digits and _ (starting with a letter or _), at most {MAX_LEN} characters",
            shown(name)
        )))
    }
}

/// Quote an identifier for SQL text: the only way identifiers reach a statement.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An identifier as it may appear in a message: quoted, truncated, control characters escaped.
pub fn shown(name: &str) -> String {
    let cut: String = name
        .chars()
        .take(MAX_LEN + 1)
        .flat_map(char::escape_debug)
        .collect();
    format!("\"{cut}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers_pass_and_others_are_refused() {
        assert_eq!(validate("--schema", "tenant_ops2").unwrap(), "tenant_ops2");
        for bad in [
            "",
            "Public",
            "1abc",
            "a-b",
            "a\"b",
            "a;drop",
            &"x".repeat(64),
        ] {
            assert!(validate("--schema", bad).is_err(), "{bad}");
        }
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
