//! The viewer window (eframe and egui, drawn with glow): `tether-console join` opens it when
//! there is a display, unless `--batch` or `--no-window`. The window runs on the main thread;
//! the session runs beside it and they share [`state`]. [`app`] draws; [`keys`] turns window
//! events into the customer's input.

pub mod app;
pub mod keys;
pub mod state;

use eframe::egui;

pub use state::{ViewerLink, ViewerMsg, WindowLink, link};

/// Whether there is a display to open a window on.
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// Opens the window titled `title` and runs it until it is closed (by the technician or
/// because the session ended). Blocks; call on the main thread.
pub fn run(title: &str, link: WindowLink) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([480.0, 320.0]),
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    };
    let closing = link.tx.clone();
    let result = eframe::run_native(
        "tether-console",
        options,
        Box::new(move |cc| {
            link.shared.attach(cc.egui_ctx.clone());
            Ok(Box::new(app::ViewerApp::new(link)))
        }),
    );
    match result {
        Ok(()) => {
            let _ = closing.send(ViewerMsg::Closed);
            Ok(())
        }
        Err(e) => {
            let _ = closing.send(ViewerMsg::Failed(e.to_string()));
            Err(e.to_string())
        }
    }
}
