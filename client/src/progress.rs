//! Progress of one file transfer, as both sides show it: a progress bar (indicatif, on standard
//! error, hidden when that is not a terminal) for people, and a progress event at every
//! quarter for scripts.

use indicatif::{ProgressBar, ProgressStyle};

use crate::Printer;

/// One transfer's progress.
#[derive(Debug)]
pub struct TransferProgress {
    size: u64,
    bar: Option<ProgressBar>,
    /// The last quarter reported as an event.
    quarter: u8,
}

impl TransferProgress {
    /// Starts showing `name` (`size` bytes) from `done` bytes on.
    pub fn new(printer: Printer, name: &str, size: u64, done: u64) -> TransferProgress {
        let bar = (!printer.is_json()).then(|| {
            let bar = ProgressBar::new(size);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(name.chars().take(40).collect::<String>());
            bar.set_position(done);
            bar
        });
        TransferProgress { size, bar, quarter: quarter(done, size) }
    }

    /// `done` bytes have arrived. Returns true when a new quarter was reached (below 100 %),
    /// which scripts are told about.
    pub fn update(&mut self, done: u64) -> bool {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
        let q = quarter(done, self.size);
        if q > self.quarter && q < 4 {
            self.quarter = q;
            return true;
        }
        false
    }

    /// The transfer is over, either way.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn quarter(done: u64, size: u64) -> u8 {
    done.saturating_mul(4).checked_div(size).map_or(4, |q| q.min(4) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_quarter_once() {
        let mut p = TransferProgress::new(Printer::new(true), "f", 100, 0);
        let reported: Vec<u64> = (1..=100).filter(|&d| p.update(d)).collect();
        assert_eq!(reported, vec![25, 50, 75]);
        let mut resumed = TransferProgress::new(Printer::new(true), "f", 100, 60);
        let reported: Vec<u64> = (61..=100).filter(|&d| resumed.update(d)).collect();
        assert_eq!(reported, vec![75]);
    }
}
