//! The real screen: one monitor of this machine's display, captured with xcap. The monitor is
//! chosen by number (`--monitor N`) or is the primary one, else the first; if it goes away or
//! changes size mid-session it is looked up again, and the stream sends a keyframe of the new
//! size. Its position on the desktop is shared with input injection, which works in desktop
//! coordinates.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use tether_protocol::{MAX_DIMENSION, MAX_PIXELS};
use xcap::Monitor;

use crate::screen::{CaptureError, Image, ScreenSource};

/// Where the captured monitor's top-left corner sits on the desktop.
#[derive(Debug, Clone, Default)]
pub struct Origin(Arc<(AtomicI32, AtomicI32)>);

impl Origin {
    /// The corner, in desktop pixels.
    pub fn get(&self) -> (i32, i32) {
        (self.0.0.load(Ordering::Relaxed), self.0.1.load(Ordering::Relaxed))
    }

    fn set(&self, x: i32, y: i32) {
        self.0.0.store(x, Ordering::Relaxed);
        self.0.1.store(y, Ordering::Relaxed);
    }
}

/// Whether this session has a display to capture (X11 or Wayland).
pub fn available() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// Captures one monitor.
#[derive(Debug)]
pub struct DisplayCapture {
    /// `--monitor N`, or `None` for the primary.
    choice: Option<usize>,
    monitor: Monitor,
    origin: Origin,
}

impl DisplayCapture {
    /// Opens monitor `choice` (numbered from 0 as `tether-agent monitors` lists them) or the
    /// primary one.
    pub fn open(choice: Option<usize>) -> Result<DisplayCapture, CaptureError> {
        let monitor = pick(choice)?;
        let capture = DisplayCapture { choice, monitor, origin: Origin::default() };
        capture.locate();
        Ok(capture)
    }

    /// Where the monitor sits, kept current.
    pub fn origin(&self) -> Origin {
        self.origin.clone()
    }

    fn locate(&self) {
        let x = self.monitor.x().unwrap_or(0);
        let y = self.monitor.y().unwrap_or(0);
        self.origin.set(x, y);
    }
}

/// The monitors, as `name WIDTHxHEIGHT at X,Y [primary]` lines.
pub fn list() -> Result<Vec<String>, CaptureError> {
    let monitors = Monitor::all().map_err(|e| CaptureError::Failed(e.to_string()))?;
    Ok(monitors
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "{i}: {} {}x{} at {},{}{}",
                m.name().unwrap_or_default(),
                m.width().unwrap_or(0),
                m.height().unwrap_or(0),
                m.x().unwrap_or(0),
                m.y().unwrap_or(0),
                if m.is_primary().unwrap_or(false) { " (primary)" } else { "" }
            )
        })
        .collect())
}

fn pick(choice: Option<usize>) -> Result<Monitor, CaptureError> {
    let failed = |e: xcap::XCapError| CaptureError::Failed(e.to_string());
    let mut monitors = Monitor::all().map_err(failed)?;
    if monitors.is_empty() {
        return Err(CaptureError::Failed("the display has no monitors".into()));
    }
    let index = match choice {
        Some(n) if n < monitors.len() => n,
        Some(n) => {
            return Err(CaptureError::Failed(format!(
                "no monitor {n}; this display has {} (numbered from 0)",
                monitors.len()
            )));
        }
        None => monitors.iter().position(|m| m.is_primary().unwrap_or(false)).unwrap_or(0),
    };
    Ok(monitors.swap_remove(index))
}

impl ScreenSource for DisplayCapture {
    fn capture(&mut self) -> Result<Image, CaptureError> {
        let image = match self.monitor.capture_image() {
            Ok(image) => image,
            Err(first) => {
                // The monitor may have been unplugged or reconfigured: look it up again.
                self.monitor =
                    pick(self.choice).map_err(|_| CaptureError::Failed(first.to_string()))?;
                self.locate();
                self.monitor.capture_image().map_err(|e| CaptureError::Failed(e.to_string()))?
            }
        };
        let (width, height) = image.dimensions();
        let fits = |v: u32| v > 0 && v <= u32::from(MAX_DIMENSION);
        if !fits(width) || !fits(height) || (width as usize) * (height as usize) > MAX_PIXELS {
            return Err(CaptureError::Failed(format!("a {width}x{height} screen is too large")));
        }
        // Position can change without a failure (a monitor moved in the layout).
        self.locate();
        Ok(Image { width: width as u16, height: height as u16, rgba: image.into_raw() })
    }
}
