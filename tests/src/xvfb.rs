//! A virtual X display (Xvfb) for the tests of real capture, injection and the viewer window,
//! on a display number the server picks itself, with helpers to draw on it, run X tools
//! against it, and read its pixels independently of tether (ImageMagick's `import`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::wait_until;

/// A running Xvfb. Killed (with whatever runs on it) on drop.
#[derive(Debug)]
pub struct Xvfb {
    server: Child,
    clients: Vec<Child>,
    /// `:N`.
    pub display: String,
}

impl Xvfb {
    /// Starts a `width`×`height` 24-bit display (which keeps what is set on it when a client
    /// leaves: `-noreset`).
    pub fn start(width: u32, height: u32) -> Xvfb {
        crate::require::programs(&[
            ("Xvfb", "xvfb"),
            ("xdotool", "xdotool"),
            ("import", "imagemagick"),
            ("xterm", "xterm"),
            ("xclip", "xclip"),
            ("xsetroot", "x11-xserver-utils"),
        ]);
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-noreset", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb (install xvfb)");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("Xvfb stdout"))
            .read_line(&mut line)
            .expect("Xvfb's display number");
        let display = format!(":{}", line.trim());
        assert!(display.len() > 1, "Xvfb did not say its display");
        Xvfb { server, clients: Vec::new(), display }
    }

    /// A command that talks to this display.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display).env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// Runs an X tool to completion.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self.command(program).args(args).output().unwrap_or_else(|e| {
            panic!("running {program}: {e}");
        });
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts an X client that lives as long as the display.
    pub fn spawn(&mut self, program: &str, args: &[&str]) {
        let child = self
            .command(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        self.clients.push(child);
    }

    /// Waits until a window whose name is `name` is mapped; returns its id.
    pub fn wait_window(&self, name: &str) -> String {
        let mut id = String::new();
        wait_until(&format!("the window {name:?} is mapped"), || {
            let out =
                self.command("xdotool").args(["search", "--onlyvisible", "--name", name]).output();
            match out {
                Ok(o) if o.status.success() => {
                    id =
                        String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string();
                    !id.is_empty()
                }
                _ => false,
            }
        });
        id
    }

    /// Writes the whole screen (or one window) to `path` as a PNG, by ImageMagick.
    pub fn screenshot(&self, window: &str, path: &Path) {
        let out = self
            .command("import")
            .args(["-window", window])
            .arg(path)
            .output()
            .expect("running import (install imagemagick)");
        assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        for c in &mut self.clients {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// An RGB picture read from a PNG file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Pixels.
    pub width: usize,
    /// Pixels.
    pub height: usize,
    /// RGB, rows top to bottom.
    pub rgb: Vec<u8>,
}

impl Picture {
    /// Reads any 8-bit PNG.
    pub fn read(path: &Path) -> Picture {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a PNG small enough to decode")];
        let info = reader.next_frame(&mut buf).expect("PNG data");
        let channels = info.color_type.samples();
        let rgb = buf[..info.buffer_size()]
            .chunks_exact(channels)
            .flat_map(|p| if channels >= 3 { [p[0], p[1], p[2]] } else { [p[0], p[0], p[0]] })
            .collect();
        Picture { width: info.width as usize, height: info.height as usize, rgb }
    }

    /// The pixel at `x`, `y`.
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many pixels `colour` covers (each channel within `tolerance`).
    pub fn count(&self, colour: [u8; 3], tolerance: u8) -> usize {
        self.rgb
            .chunks_exact(3)
            .filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= tolerance))
            .count()
    }
}
