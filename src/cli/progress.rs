//! Progress on a terminal: one line on stderr, redrawn in place (indicatif), for the steps
//! that take a while: a backup, a replay or a dry run, a `migrate` of more than a few
//! migrations. Nothing at all when stderr is not a terminal, with `-q`, or in CI (`CI`,
//! `GITHUB_ACTIONS`; `TERM=dumb` too): logs there keep their one line per step, as before.
//! Log lines written while a bar is shown go above it ([`Progress::suspend`]).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Context;
use crate::dryrun::{Applied, Executor, Failure};
use crate::migration::Migration;

/// Fewer steps than this are over before a bar would tell anything.
pub const MIN_STEPS: usize = 4;

/// Whether progress is drawn for this run.
pub fn enabled(ctx: &Context) -> bool {
    decide(ctx.quiet, std::io::stderr().is_terminal(), |key| {
        std::env::var(key).ok()
    })
}

fn decide(quiet: bool, terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |key: &str| env(key).is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    !quiet
        && terminal
        && !set("CI")
        && !set("GITHUB_ACTIONS")
        && env("TERM").as_deref() != Some("dumb")
}

/// A progress line, or nothing (see the module doc). Cleared when dropped.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Nothing drawn.
    pub fn none() -> Progress {
        Progress::default()
    }

    /// `message [=====>    ] 12/40 (elapsed)` for `len` steps, when there are at least
    /// [`MIN_STEPS`].
    pub fn steps(ctx: &Context, len: usize, message: impl Into<String>) -> Progress {
        if len < MIN_STEPS || !enabled(ctx) {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(message.into());
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar: Some(bar) }
    }

    /// A spinner with `message` for one long step (a backup).
    pub fn spinner(ctx: &Context, message: impl Into<String>) -> Progress {
        if !enabled(ctx) {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar: Some(bar) }
    }

    /// What the current step is (a file name).
    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        }
    }

    /// One step done.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Runs `f` (which writes to stderr) with the line cleared, then draws it again.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A dry-run executor that advances a progress line by one step per migration.
pub struct Stepping<'a> {
    inner: &'a dyn Executor,
    progress: Progress,
}

impl<'a> Stepping<'a> {
    /// `label` names the run ("dry run", "replay"); `steps` are the migrations it applies.
    /// Before the first step the line says that the scratch database is being made.
    pub fn new(ctx: &Context, inner: &'a dyn Executor, steps: usize, label: &str) -> Self {
        let progress = Progress::steps(ctx, steps, label);
        progress.set_message("preparing the scratch database");
        Stepping { inner, progress }
    }
}

impl Executor for Stepping<'_> {
    fn apply(
        &self,
        db: &std::path::Path,
        m: &Migration,
        file: &std::path::Path,
    ) -> Result<Applied, Failure> {
        self.progress.set_message(m.path.clone());
        let result = self.inner.apply(db, m, file);
        self.progress.inc();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn drawn_only_on_a_terminal_without_quiet_outside_ci() {
        assert!(decide(false, true, env(&[])));
        assert!(decide(
            false,
            true,
            env(&[("CI", "false"), ("TERM", "xterm")])
        ));
        assert!(!decide(false, false, env(&[])), "not a terminal");
        assert!(!decide(true, true, env(&[])), "-q");
        assert!(!decide(false, true, env(&[("CI", "true")])));
        assert!(!decide(false, true, env(&[("GITHUB_ACTIONS", "true")])));
        assert!(!decide(false, true, env(&[("TERM", "dumb")])));
    }
}
