//! Progress reporting for long stages: a spinner per stage on a terminal, nothing
//! otherwise, and the time each stage took for the report.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long one stage took.
#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
}

/// Shows stages as they run and records their durations.
pub struct Reporter {
    visible: bool,
    times: Vec<StageTime>,
}

impl Reporter {
    /// A reporter that draws only when `visible` and stderr is a terminal.
    pub fn new(visible: bool) -> Self {
        Reporter {
            visible: visible && std::io::stderr().is_terminal(),
            times: Vec::new(),
        }
    }

    /// Run `work` as stage `name`.
    pub fn stage<T>(&mut self, name: &str, work: impl FnOnce() -> T) -> T {
        let bar = self.visible.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
            );
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        if let Some(bar) = bar {
            bar.finish_and_clear();
            eprintln!("  {name:<16} {seconds:>6.2}s");
        }
        self.times.push(StageTime {
            stage: name.to_string(),
            seconds,
        });
        result
    }

    /// Stage durations so far.
    pub fn times(&self) -> &[StageTime] {
        &self.times
    }
}
