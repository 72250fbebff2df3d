//! The database URL: which dialect it names, and how it prints (never with a secret in it).

use std::fmt;

use crate::error::{Error, Result};

/// Query parameters whose values are secrets in libpq and sqlx URLs.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "passfile"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }
}

/// A database URL whose secret parts never leave this type: `Display` and `Debug` redact the
/// password in every form, and [`DatabaseUrl::scrub`] removes it from any other text.
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    dialect: Dialect,
    secrets: Vec<String>,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        let raw = raw.trim();
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        let dialect = match scheme.as_deref() {
            Some("postgres" | "postgresql") => Dialect::Postgres,
            Some("sqlite") => Dialect::Sqlite,
            Some("mysql" | "mariadb") => {
                return Err(Error::usage(
                    "MySQL/MariaDB is not supported yet; use a postgres:// or sqlite: URL",
                ))
            }
            _ if raw.contains('=') && !raw.contains("://") => {
                return Err(Error::usage(
                    "key=value connection strings are not supported; write it as a URL, e.g. postgres://user@host:5432/dbname?sslmode=require",
                ))
            }
            _ => {
                return Err(Error::usage(format!(
                    "cannot tell the database from the URL {}; use postgres://…, postgresql://… or sqlite:PATH",
                    redact(raw)
                )))
            }
        };
        Ok(DatabaseUrl {
            raw: raw.to_string(),
            dialect,
            secrets: secrets_of(raw),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its secrets: only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// Remove every secret this URL carries from `text` (driver messages can echo parts of it).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "***");
        }
        out
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.raw))
    }
}

/// The URL as it may be shown: password and secret query parameters replaced by `***`.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if !url.cannot_be_a_base() || url.scheme() == "sqlite" => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            if url.query().is_some() {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let secret = SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str());
                        (
                            k.into_owned(),
                            if secret {
                                "***".to_string()
                            } else {
                                v.into_owned()
                            },
                        )
                    })
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            url.to_string()
        }
        _ => "<unparseable database URL>".to_string(),
    }
}

/// Every secret value in the URL, raw and percent-decoded, longest first so scrubbing one
/// never leaves a tail of another.
fn secrets_of(raw: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Ok(url) = url::Url::parse(raw) {
        if let Some(password) = url.password() {
            secrets.push(password.to_string());
            if let Ok(decoded) = percent_decode(password) {
                secrets.push(decoded);
            }
        }
        for (k, v) in url.query_pairs() {
            if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_empty() {
                secrets.push(v.into_owned());
            }
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

fn percent_decode(text: &str) -> std::result::Result<String, ()> {
    // url's form decoding also maps '+' to space, which passwords do not mean; decode by hand.
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "Canary-s3cr3t";

    #[test]
    fn every_password_form_is_redacted() {
        for raw in [
            format!("postgres://app:{CANARY}@db.internal:5432/prod"),
            format!("postgresql://app@db/prod?password={CANARY}&sslmode=require"),
            format!("postgres://app@db/prod?sslmode=verify-full&sslpassword={CANARY}"),
            format!("postgres://app:{}@db/prod", CANARY.replace('-', "%2D")),
        ] {
            let url = DatabaseUrl::parse(&raw).unwrap();
            for shown in [
                url.to_string(),
                format!("{url:?}"),
                url.scrub(&format!("driver said {raw}")),
            ] {
                assert!(!shown.contains(CANARY), "{shown}");
                assert!(!shown.contains("s3cr3t"), "{shown}");
            }
            assert_eq!(url.dialect(), Dialect::Postgres);
        }
    }

    #[test]
    fn dialect_comes_from_the_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:demo.db").unwrap().dialect(),
            Dialect::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().dialect(),
            Dialect::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("POSTGRES://h/d").unwrap().dialect(),
            Dialect::Postgres
        );
        let mysql = DatabaseUrl::parse("mysql://root@127.0.0.1/test").unwrap_err();
        assert!(mysql.to_string().contains("not supported yet"));
        let kv = DatabaseUrl::parse(&format!("host=db password={CANARY}")).unwrap_err();
        assert!(!kv.to_string().contains(CANARY));
        let junk = DatabaseUrl::parse(&format!("oracle:{CANARY}")).unwrap_err();
        assert!(!junk.to_string().contains(CANARY), "{junk}");
    }
}
