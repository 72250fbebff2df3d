//! Logging to stderr through `tracing`, with every secret of the database URL scrubbed from
//! each line: drivers log their own messages (sqlx warns about URL parameters it ignores, with
//! their values), so redaction cannot rely on our own call sites alone.

use std::io::{self, Write};

use crate::db::url::DatabaseUrl;

/// Install the global subscriber. RUST_LOG overrides `-v`/`-q`.
pub fn init(verbose: u8, quiet: bool, url: Option<&str>) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("oprun_cutover={default},sqlx=error,warn"))
    });
    let url = url.and_then(|u| DatabaseUrl::parse(u).ok());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || ScrubbingStderr {
            url: url.clone(),
            line: Vec::new(),
        })
        .with_target(false)
        .try_init();
}

/// Buffers one event and writes it to stderr with the URL's secrets removed.
struct ScrubbingStderr {
    url: Option<DatabaseUrl>,
    line: Vec<u8>,
}

impl Write for ScrubbingStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbingStderr {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        let text = match &self.url {
            Some(url) => url.scrub(&text),
            None => text.into_owned(),
        };
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}
