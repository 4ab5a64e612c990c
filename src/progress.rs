//! Stage timing for long builds: the time each stage took, for the report, and an
//! observer the CLI gives to draw progress. Stages themselves never print.

use serde::Serialize;
use std::time::Instant;

/// How long one stage took.
#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    /// The stage's name.
    pub stage: String,
    /// Seconds it took.
    pub seconds: f64,
}

/// Told about each stage as it starts and ends (the CLI draws a spinner on a terminal).
pub trait StageObserver {
    /// Stage `stage` starts.
    fn started(&self, stage: &str);
    /// Stage `stage` ended after `seconds`.
    fn finished(&self, stage: &str, seconds: f64);
}

/// Runs stages, records their durations and tells the observer, if any.
pub struct Reporter<'a> {
    observer: Option<&'a dyn StageObserver>,
    times: Vec<StageTime>,
}

impl<'a> Reporter<'a> {
    /// A reporter telling `observer` about each stage.
    pub fn new(observer: Option<&'a dyn StageObserver>) -> Self {
        Reporter {
            observer,
            times: Vec::new(),
        }
    }

    /// Run `work` as stage `name`.
    pub fn stage<T>(&mut self, name: &str, work: impl FnOnce() -> T) -> T {
        if let Some(observer) = self.observer {
            observer.started(name);
        }
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        if let Some(observer) = self.observer {
            observer.finished(name, seconds);
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
