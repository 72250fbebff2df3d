//! Lock timeouts and deadlocks are expected during a cutover on a busy database: each DDL
//! statement waits at most `--lock-timeout`, then backs off (with jitter) and tries again until
//! `--deadline`. Giving up names the sessions in the way.

use std::time::{Duration, Instant};

use backon::BackoffBuilder;

use super::Conn;
use crate::error::{Blocker, Error, Result};
use crate::settings::Timeouts;

/// SQLSTATEs worth another try: lock_not_available (lock_timeout), deadlock_detected.
pub const RETRYABLE: [&str; 2] = ["55P03", "40P01"];

/// The retry budget of one command run: shared by every step so the whole run honours
/// `--deadline`, not each statement separately.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub lock_timeout: Duration,
    pub deadline: Duration,
    started: Instant,
}

impl RetryPolicy {
    pub fn new(timeouts: &Timeouts) -> RetryPolicy {
        RetryPolicy {
            lock_timeout: timeouts.lock,
            deadline: timeouts.deadline,
            started: Instant::now(),
        }
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.started.elapsed())
    }

    pub fn attempts<'a>(&'a self, step: &str, relations: &'a [&'a str]) -> Attempts<'a> {
        Attempts {
            policy: self,
            step: step.to_string(),
            relations,
            count: 0,
            backoff: backon::ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(50))
                .with_max_delay(Duration::from_secs(2))
                .with_jitter()
                .without_max_times()
                .build(),
        }
    }
}

/// One step's attempts. Call [`Attempts::retry_after`] with each failure: it sleeps and returns
/// `Ok` when another try fits in the deadline, or the error to report.
pub struct Attempts<'a> {
    policy: &'a RetryPolicy,
    step: String,
    relations: &'a [&'a str],
    count: u32,
    backoff: backon::ExponentialBackoff,
}

impl Attempts<'_> {
    pub async fn retry_after(&mut self, err: sqlx::Error, conn: &mut Conn) -> Result<()> {
        self.retry_after_error(Error::database(&self.step, &err), conn)
            .await
    }

    /// As [`Attempts::retry_after`], for a step whose failure is already one of ours.
    pub async fn retry_after_error(&mut self, err: Error, conn: &mut Conn) -> Result<()> {
        self.count += 1;
        if !err.is_lock_conflict() {
            return Err(err);
        }
        let delay = self.backoff.next().unwrap_or(Duration::from_secs(1));
        if delay + self.policy.lock_timeout > self.policy.remaining() {
            return Err(Error::LockDeadline {
                step: self.step.clone(),
                attempts: self.count,
                deadline: humantime::format_duration(self.policy.deadline).to_string(),
                blockers: blockers(conn, self.relations).await,
            });
        }
        tracing::info!(step = %self.step, attempt = self.count, ?delay, "lock not available; retrying");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// Sessions holding a lock on any of `relations` (names in the pinned schema), oldest
/// transaction first. Best effort: an empty list if the catalog cannot be read.
pub async fn blockers(conn: &mut Conn, relations: &[&str]) -> Vec<Blocker> {
    let Conn::Postgres(_) = conn else {
        return Vec::new();
    };
    let names = serde_json::to_string(relations).unwrap_or_else(|_| "[]".to_string());
    conn.fetch_json::<Vec<Blocker>>(include_str!("../../sql/postgres/blockers.sql"), &[&names])
        .await
        .unwrap_or_default()
}

/// Run one DDL statement under `lock_timeout`, retrying lock timeouts and deadlocks until the
/// deadline. Holding the run lock is part of the signature: only a run that owns the target
/// may change it. PostgreSQL: outside any transaction (the session's `lock_timeout` applies).
pub async fn ddl(
    _lock: &super::lock::RunLock,
    conn: &mut Conn,
    policy: &RetryPolicy,
    step: &str,
    sql: &str,
    relations: &[&str],
) -> Result<()> {
    let mut attempts = policy.attempts(step, relations);
    loop {
        match conn.execute_script(sql).await {
            Ok(()) => return Ok(()),
            Err(err) => attempts.retry_after(err, conn).await?,
        }
    }
}
