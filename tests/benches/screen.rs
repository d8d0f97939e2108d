//! Screen encoding and end-to-end frame latency, against a PNG baseline measured in the same
//! run:
//! - encode time and bytes of a 1920×1080 desktop-like frame, whole and with about 5 % of its
//!   tiles changed, for each compression tried on the changed tiles (zstd at levels 1 and 3,
//!   lz4, QOI) and for a whole PNG frame (what the agent sent before tiles);
//! - frame latency, capture to drawn at the console, through a local broker, pulled as the
//!   console does it: tile updates against whole PNG frames.
//!
//! Run with `cargo bench -p tether-e2e --bench screen`; prints two tables.

use std::time::{Duration, Instant};

use tether_client::{Connection, Incoming};
use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tether_protocol::tiles::{
    Framebuffer, TILE, TileIndex, all_tiles, decode_update, encode_update,
};
use tether_protocol::{
    Capability, Channel, ClientMessage, Frame, HEADER_LEN, MAX_MESSAGE_BYTES, ScreenFrame,
    ScreenRequest, ServerMessage, screen_flags,
};

const W: u16 = 1920;
const H: u16 = 1080;
/// Frames sent per latency run.
const FRAMES: usize = 60;

fn main() {
    let desktop = Desktop::new();
    let first = desktop.frame(0);
    let second = desktop.frame(1);
    let model = Framebuffer { width: W, height: H, rgba: first.clone(), seq: 0 };
    let changed = model.changed_tiles(&second, W, H);
    let all = all_tiles(TILE, W, H);
    println!("screen benchmark (2 cores, release build)\n");
    println!(
        "1920x1080 desktop-like frame: {} tiles; {} changed in the next frame ({:.1} %)\n",
        all.len(),
        changed.len(),
        changed.len() as f64 * 100.0 / all.len() as f64
    );

    let png_full = measure(|| png_frame(&first, W, H));
    let rows = [
        ("PNG, whole frame (baseline)", png_full, measure(|| png_tiles(&second, &changed))),
        ("zstd level 1 (chosen)", zstd(&first, &all, 1), zstd(&second, &changed, 1)),
        ("zstd level 3", zstd(&first, &all, 3), zstd(&second, &changed, 3)),
        (
            "lz4",
            measure(|| lz4_flex::compress_prepend_size(&tile_rgb(&first, &all))),
            measure(|| lz4_flex::compress_prepend_size(&tile_rgb(&second, &changed))),
        ),
        ("QOI", measure(|| qoi_tiles(&first, &all)), measure(|| qoi_tiles(&second, &changed))),
    ];
    println!(
        "| encoding | whole frame ms | whole frame KB | next frame (changed tiles) ms | next frame KB | whole frame size vs PNG | whole frame time vs PNG |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, (full_ms, full_b), (delta_ms, delta_b)) in rows {
        println!(
            "| {name} | {full_ms:.2} | {:.1} | {delta_ms:.2} | {:.1} | {:.3} | {:.2} |",
            full_b as f64 / 1024.0,
            delta_b as f64 / 1024.0,
            full_b as f64 / png_full.1 as f64,
            full_ms / png_full.0
        );
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = Broker::start();
    let token = broker.technician("alice").token();
    let png = rt.block_on(latency(&broker, &token, &desktop, Codec::Png));
    let tiles = rt.block_on(latency(&broker, &token, &desktop, Codec::Tiles));
    println!(
        "\nframe latency through a local broker, capture to drawn, {FRAMES} frames pulled one at a time\n"
    );
    println!("| measurement | PNG whole frames (baseline) | tiles + zstd | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for (what, base, with) in [
        ("median latency, ms", png.median, tiles.median),
        ("p95 latency, ms", png.p95, tiles.p95),
        ("frames a second", png.fps, tiles.fps),
        ("KB a frame", png.kb, tiles.kb),
    ] {
        println!("| {what} | {base:.2} | {with:.2} | {:.3} |", with / base);
    }
}

/// Median time (ms) of encoding, and the bytes it made.
fn measure(mut encode: impl FnMut() -> Vec<u8>) -> (f64, usize) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..7 {
        let start = Instant::now();
        bytes = encode().len();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], bytes)
}

fn zstd(rgba: &[u8], tiles: &[TileIndex], level: i32) -> (f64, usize) {
    measure(|| encode_update(1, W, H, rgba, false, 0, tiles, level, usize::MAX).unwrap())
}

/// The tiles' RGB pixels, in the order the update carries them.
fn tile_rgb(rgba: &[u8], tiles: &[TileIndex]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tiles.len() * 64 * 64 * 3);
    let stride = usize::from(W) * 4;
    for &(c, r) in tiles {
        let (x, y) = (usize::from(c) * 64, usize::from(r) * 64);
        let (w, h) = (64.min(usize::from(W) - x), 64.min(usize::from(H) - y));
        for row in y..y + h {
            for px in rgba[row * stride + x * 4..row * stride + (x + w) * 4].chunks_exact(4) {
                out.extend_from_slice(&px[..3]);
            }
        }
    }
    out
}

/// The tiles stacked into one 64-wide RGB image (clipped tiles padded), for the image codecs.
fn stacked(rgba: &[u8], tiles: &[TileIndex]) -> Vec<u8> {
    let stride = usize::from(W) * 4;
    let mut out = vec![0u8; tiles.len() * 64 * 64 * 3];
    for (i, &(c, r)) in tiles.iter().enumerate() {
        let (x, y) = (usize::from(c) * 64, usize::from(r) * 64);
        let (w, h) = (64.min(usize::from(W) - x), 64.min(usize::from(H) - y));
        for row in 0..h {
            let src = &rgba[(y + row) * stride + x * 4..(y + row) * stride + (x + w) * 4];
            let dst = &mut out[(i * 64 + row) * 64 * 3..];
            for (k, px) in src.chunks_exact(4).enumerate() {
                dst[k * 3..k * 3 + 3].copy_from_slice(&px[..3]);
            }
        }
    }
    out
}

fn qoi_tiles(rgba: &[u8], tiles: &[TileIndex]) -> Vec<u8> {
    let rgb = stacked(rgba, tiles);
    qoi::encode_to_vec(&rgb, 64, (tiles.len() * 64) as u32).unwrap()
}

fn png_tiles(rgba: &[u8], tiles: &[TileIndex]) -> Vec<u8> {
    let rgb = stacked(rgba, tiles);
    png_rgb(&rgb, 64, (tiles.len() * 64) as u32)
}

/// A whole frame as PNG, as the agent encoded it before tiles (fast compression).
fn png_frame(rgba: &[u8], width: u16, height: u16) -> Vec<u8> {
    let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    png_rgb(&rgb, u32::from(width), u32::from(height))
}

fn png_rgb(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(rgb).unwrap();
    writer.finish().unwrap();
    out
}

/// A synthetic desktop: a gradient wallpaper, a photo, and windows of text, one of which gets
/// new lines each frame (about 5 % of the tiles).
struct Desktop {
    base: Vec<u8>,
}

impl Desktop {
    fn new() -> Desktop {
        let (w, h) = (usize::from(W), usize::from(H));
        let mut rgba = vec![255u8; w * h * 4];
        let mut noise: u32 = 7;
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) * 4;
                rgba[i..i + 3].copy_from_slice(&[20, (60 + y * 80 / h) as u8, 120]);
            }
        }
        // A photo: smooth colour with a little noise.
        for y in 120..320 {
            for x in 1300..1620 {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                let n = (noise % 3) as i32 - 1;
                let v = |base: f64| (base + f64::from(n)).clamp(0.0, 255.0) as u8;
                let fx = x as f64 / 90.0;
                let fy = y as f64 / 70.0;
                let i = (y * w + x) * 4;
                rgba[i..i + 3].copy_from_slice(&[
                    v(128.0 + 100.0 * fx.sin()),
                    v(128.0 + 100.0 * fy.cos()),
                    v(128.0 + 90.0 * (fx + fy).sin()),
                ]);
            }
        }
        let mut desktop = Desktop { base: rgba };
        desktop.window(80, 80, 1000, 700);
        desktop.window(300, 600, 1400, 420);
        for line in 0..30 {
            desktop.text(100, 130 + line * 18, 110, line as u32);
        }
        for line in 0..18 {
            desktop.text(320, 650 + line * 18, 150, 1000 + line as u32);
        }
        desktop
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
        let stride = usize::from(W);
        for row in y..(y + h).min(usize::from(H)) {
            for col in x..(x + w).min(usize::from(W)) {
                let i = (row * stride + col) * 4;
                self.base[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    fn window(&mut self, x: usize, y: usize, w: usize, h: usize) {
        self.fill(x, y, w, h, [250, 250, 250]);
        self.fill(x, y, w, 28, [60, 70, 90]);
    }

    /// A line of `chars` text-like glyphs (8×14 cells, from a set of 64 as a font has) seeded
    /// by `seed`.
    fn text(&mut self, x: usize, y: usize, chars: usize, seed: u32) {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for c in 0..chars {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let glyph = s % 64;
            if glyph < 9 {
                continue; // a space
            }
            // Strokes, as letters have: up to three bars across and three down.
            let (gx, gy) = (x + c * 8, y);
            for (k, row) in [1, 6, 11].into_iter().enumerate() {
                if glyph >> k & 1 == 1 {
                    self.fill(gx, gy + row, 6, 1, [30, 30, 30]);
                }
            }
            for (k, col) in [0, 3, 5].into_iter().enumerate() {
                if glyph >> (k + 3) & 1 == 1 {
                    self.fill(gx + col, gy + 1, 1, 11, [30, 30, 30]);
                }
            }
        }
    }

    /// Frame `n`: the base with a terminal-like area scrolled by `n` new lines.
    fn frame(&self, n: u32) -> Vec<u8> {
        let mut d = Desktop { base: self.base.clone() };
        if n > 0 {
            // Four new lines in a terminal: about 5 % of the screen's tiles.
            d.fill(320, 650, 640, 18 * 4, [250, 250, 250]);
            for line in 0..4 {
                d.text(320, 650 + line * 18, 80, 5000 + n * 31 + line as u32);
            }
        }
        d.base
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Codec {
    Png,
    Tiles,
}

struct Latency {
    median: f64,
    p95: f64,
    fps: f64,
    kb: f64,
}

/// Frames pulled one at a time from a library agent to a library console through the broker;
/// the agent "captures" (renders) each frame when asked, encodes it, and the console decodes
/// and draws it before asking again.
async fn latency(broker: &Broker, token: &str, desktop: &Desktop, codec: Codec) -> Latency {
    let (mut agent, mut console) = raw::paired(&broker.url(), &broker.ca(), token).await;
    agent
        .send(&ClientMessage::Consent { capability: Capability::View, granted: true })
        .await
        .unwrap();
    wait_view(&mut console).await;
    let frames: Vec<Vec<u8>> = (0..FRAMES as u32).map(|n| desktop.frame(n)).collect();
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    let mut model: Option<Framebuffer> = None;
    let mut picture: Option<Framebuffer> = None;
    for (seq, rgba) in frames.iter().enumerate() {
        let captured = Instant::now();
        let payload = match (codec, &model) {
            (Codec::Png, _) => {
                // The old whole-frame PNG, in the same frame header (the broker reads only
                // the channel and flags; this console decodes it as PNG).
                let png = png_frame(rgba, W, H);
                ScreenFrame {
                    seq: seq as u32,
                    width: W,
                    height: H,
                    encoding: tether_protocol::ScreenEncoding::Tiles,
                    data: &png,
                }
                .encode()
            }
            (Codec::Tiles, m) => {
                let tiles = match m {
                    Some(m) => m.changed_tiles(rgba, W, H),
                    None => all_tiles(TILE, W, H),
                };
                let base = m.as_ref().map_or(0, |m| m.seq);
                let budget = MAX_MESSAGE_BYTES - HEADER_LEN;
                let p = encode_update(seq as u32, W, H, rgba, m.is_none(), base, &tiles, 1, budget)
                    .expect("fits");
                let mut after = model.take().unwrap_or_else(|| Framebuffer::blank(W, H, 0));
                after.copy_tiles(rgba, &tiles);
                after.seq = seq as u32;
                model = Some(after);
                p
            }
        };
        bytes += payload.len();
        let frame = Frame::encode(Channel::Screen, screen_flags::UPDATE, &payload).unwrap();
        agent.send_frame(frame).await.unwrap();
        // The console: receive, decode, draw, ask for the next.
        let message = loop {
            match console.recv().await.unwrap() {
                Incoming::Frame(h, b) if h.channel == Channel::Screen => break b,
                _ => {}
            }
        };
        let frame = ScreenFrame::decode(&message[HEADER_LEN..]).unwrap();
        match codec {
            Codec::Png => {
                let decoder = png::Decoder::new(std::io::Cursor::new(frame.data));
                let mut reader = decoder.read_info().unwrap();
                let mut buf =
                    vec![0; reader.output_buffer_size().expect("a PNG small enough to decode")];
                reader.next_frame(&mut buf).unwrap();
            }
            Codec::Tiles => {
                let update = decode_update(&frame).unwrap();
                Framebuffer::apply(&mut picture, &frame, &update).unwrap();
            }
        }
        latencies.push(captured.elapsed().as_secs_f64() * 1e3);
        let request = ScreenRequest { have: Some(seq as u32), keyframe: false }.encode();
        console
            .send_frame(Frame::encode(Channel::Screen, screen_flags::REQUEST, &request).unwrap())
            .await
            .unwrap();
        // The request reaches the agent before it sends the next.
        loop {
            match tokio::time::timeout(Duration::from_secs(5), agent.recv()).await.unwrap().unwrap()
            {
                Incoming::Frame(h, _) if h.channel == Channel::Screen => break,
                _ => {}
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Latency {
        median: latencies[latencies.len() / 2],
        p95: latencies[latencies.len() * 95 / 100],
        fps: FRAMES as f64 / elapsed,
        kb: bytes as f64 / FRAMES as f64 / 1024.0,
    }
}

async fn wait_view(console: &mut Connection) {
    loop {
        if let ServerMessage::ConsentChanged { capability: Capability::View, granted: true } =
            console.recv_control().await.unwrap()
        {
            return;
        }
    }
}
