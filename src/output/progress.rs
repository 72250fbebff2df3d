//! Progress on stderr for steps that can take more than a second (index builds, scans).
//! Hidden for JSON output, with --no-progress, and when stderr is not a terminal.

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::db::connect::{connect, Access};
use crate::settings::Settings;

/// Whether bars are drawn for this run.
pub fn enabled(settings: &Settings) -> bool {
    settings.progress && std::io::stderr().is_terminal()
}

/// A spinner for one step; a no-op when progress is disabled.
pub fn spinner(settings: &Settings, message: impl Into<String>) -> ProgressBar {
    if !enabled(settings) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[derive(Debug, serde::Deserialize)]
struct IndexProgress {
    phase: String,
    done: i64,
    total: i64,
}

/// Run `build` (a concurrent index build) while a second connection follows
/// `pg_stat_progress_create_index` and draws it. Without progress, just runs `build`.
pub async fn index_build<F: Future>(settings: &Settings, index: &str, build: F) -> F::Output {
    if !enabled(settings) {
        return build.await;
    }
    let bar = spinner(settings, format!("building index {index}"));
    let follow = async {
        if let Ok(mut conn) = connect(settings, Access::Read).await {
            loop {
                if let Ok(Some(p)) = conn
                    .fetch_json::<Option<IndexProgress>>(PROGRESS_SQL, &[])
                    .await
                {
                    if p.total > 0 {
                        bar.set_style(
                            ProgressStyle::with_template("{msg} [{bar:30}] {percent}% [{elapsed}]")
                                .expect("static template"),
                        );
                        bar.set_length(p.total as u64);
                        bar.set_position(p.done as u64);
                        bar.set_message(format!("index {index}: {}", p.phase));
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        // Progress is a nicety: without a second connection, just wait for the build.
        std::future::pending::<()>().await
    };
    let output = tokio::select! {
        output = build => output,
        () = follow => unreachable!("progress polling never ends"),
    };
    bar.finish_and_clear();
    output
}

const PROGRESS_SQL: &str = "SELECT coalesce((SELECT json_build_object('phase', phase, \
    'done', CASE WHEN blocks_total > 0 THEN blocks_done ELSE tuples_done END, \
    'total', CASE WHEN blocks_total > 0 THEN blocks_total ELSE tuples_total END) \
    FROM pg_stat_progress_create_index WHERE relid = to_regclass('operation_runs') LIMIT 1), 'null'::json)::text";
