//! The viewer window itself: the remote screen scaled to fit, a side panel with the consent
//! state, the control toggle, the conversation, files and the end button, and a status line
//! (frames a second, round trip, rate). While control is held, the pointer, wheel and keys over
//! the picture go to the customer's machine.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText, Sense, TextureHandle, TextureOptions};
use tether_protocol::{Action, Capability, InputEvent};

use super::keys;
use super::state::{LineKind, ViewerMsg, WindowLink};
use crate::commands::Command;
use crate::screen::lock;

/// The window's state.
pub struct ViewerApp {
    link: WindowLink,
    texture: Option<TextureHandle>,
    /// The picture on screen: sequence number and size.
    shown: Option<(u32, u16, u16)>,
    /// When pictures were put on screen, for the frame rate.
    shown_at: VecDeque<Instant>,
    chat: String,
    send_path: String,
    get_path: String,
    last_pointer: Option<(u32, u32)>,
}

impl std::fmt::Debug for ViewerApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerApp").field("shown", &self.shown).finish()
    }
}

impl ViewerApp {
    /// A window on `link`.
    pub fn new(link: WindowLink) -> ViewerApp {
        ViewerApp {
            link,
            texture: None,
            shown: None,
            shown_at: VecDeque::new(),
            chat: String::new(),
            send_path: String::new(),
            get_path: String::new(),
            last_pointer: None,
        }
    }

    fn send(&self, cmd: Command) {
        let _ = self.link.tx.send(ViewerMsg::Command(cmd));
    }

    fn input(&self, events: Vec<InputEvent>) {
        if !events.is_empty() {
            self.send(Command::Input(events));
        }
    }

    /// Puts a new picture on the texture; returns its sequence number if there was one.
    fn upload(&mut self, ctx: &egui::Context) -> Option<u32> {
        let picture = lock(&self.link.shared.picture);
        let fb = picture.as_ref()?;
        if self.shown.is_some_and(|(seq, _, _)| seq == fb.seq) {
            return None;
        }
        let size = [usize::from(fb.width), usize::from(fb.height)];
        let image = egui::ColorImage::from_rgba_unmultiplied(size, &fb.rgba);
        let seq = fb.seq;
        let (w, h) = (fb.width, fb.height);
        drop(picture);
        match &mut self.texture {
            Some(t) => t.set(image, TextureOptions::LINEAR),
            None => self.texture = Some(ctx.load_texture("screen", image, TextureOptions::LINEAR)),
        }
        self.shown = Some((seq, w, h));
        let now = Instant::now();
        self.shown_at.push_back(now);
        while self.shown_at.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.shown_at.pop_front();
        }
        Some(seq)
    }

    fn side_panel(&mut self, ui: &mut egui::Ui) {
        let (customer, view, control, files, lines) = {
            let s = self.link.shared.state();
            (s.customer.clone(), s.view, s.control, s.files, s.lines.clone())
        };
        ui.heading(if customer.is_empty() { "Waiting for the customer" } else { &customer });
        ui.horizontal(|ui| {
            let held = |ui: &mut egui::Ui, name: &str, on: bool| {
                let colour = if on { Color32::from_rgb(20, 140, 60) } else { Color32::GRAY };
                ui.label(
                    RichText::new(format!("{name}: {}", if on { "yes" } else { "no" }))
                        .color(colour),
                );
            };
            held(ui, "view", view);
            held(ui, "control", control);
            held(ui, "files", files);
        });
        let toggle = if control { "Release control" } else { "Take control" };
        if ui.button(toggle).clicked() {
            self.send(if control {
                Command::Release(Capability::Control)
            } else {
                Command::Request(Capability::Control)
            });
        }
        ui.separator();
        let chat_height = (ui.available_height() - 170.0).max(80.0);
        egui::ScrollArea::vertical().max_height(chat_height).stick_to_bottom(true).show(ui, |ui| {
            for line in &lines {
                let colour = match line.kind {
                    LineKind::Customer => Color32::from_rgb(20, 110, 50),
                    LineKind::Me => Color32::from_rgb(30, 70, 160),
                    LineKind::Notice => ui.visuals().weak_text_color(),
                    LineKind::Error => Color32::from_rgb(180, 40, 40),
                };
                ui.label(RichText::new(&line.text).color(colour));
            }
        });
        let typed = ui.add(egui::TextEdit::singleline(&mut self.chat).hint_text("Message"));
        if typed.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            let text = std::mem::take(&mut self.chat);
            if !text.trim().is_empty() {
                self.link.shared.state().said(&text);
                self.send(Command::Chat(text));
            }
            typed.request_focus();
        }
        ui.separator();
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut self.send_path).hint_text("local file"));
            if ui.button("Send file").clicked() && !self.send_path.trim().is_empty() {
                self.send(Command::SendFile(PathBuf::from(self.send_path.trim())));
            }
        });
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut self.get_path).hint_text("customer's file"));
            if ui.button("Get file").clicked() && !self.get_path.trim().is_empty() {
                self.send(Command::GetFile(self.get_path.trim().to_string(), PathBuf::from(".")));
            }
        });
        ui.separator();
        if ui.button("End session").clicked() {
            self.send(Command::Quit);
        }
    }

    fn status(&self, ui: &mut egui::Ui) {
        let (rtt, rate, direct) = {
            let s = self.link.shared.state();
            (s.rtt_ms, s.received_kbps, s.direct)
        };
        let fps = self.shown_at.len();
        let rtt = rtt.map_or("-".into(), |r| format!("{r:.0} ms"));
        let rate = rate.map_or("-".into(), |r| format!("{:.0} kB/s", r / 8.0));
        let size = self.shown.map_or("no picture yet".into(), |(_, w, h)| format!("{w}x{h}"));
        let path = if direct { "direct" } else { "relayed" };
        ui.label(format!("{size}   {fps} fps   round trip {rtt}   {rate}   {path}"));
    }

    /// The picture, and the technician's input over it while control is held.
    fn screen(&mut self, ui: &mut egui::Ui) {
        let Some((texture, (_, width, height))) = self.texture.as_ref().zip(self.shown) else {
            ui.centered_and_justified(|ui| ui.label("Waiting for the customer's screen..."));
            return;
        };
        let rect = keys::fit(ui.available_rect_before_wrap(), width, height);
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
        let control = self.link.shared.state().control;
        if !control {
            return;
        }
        if response.clicked() || response.drag_started() {
            response.request_focus();
        }
        let typing_elsewhere = ui.ctx().egui_wants_keyboard_input() && !response.has_focus();
        let events = ui.input(|i| i.events.clone());
        let mut out = Vec::new();
        for event in events {
            match event {
                egui::Event::PointerMoved(pos) => {
                    if let Some(p) = keys::remote_point(pos, rect, width, height)
                        && self.last_pointer != Some(p)
                    {
                        self.last_pointer = Some(p);
                        out.push(InputEvent::MouseMove { x: p.0, y: p.1 });
                    }
                }
                egui::Event::PointerButton { pos, button, pressed, .. } => {
                    let (Some(p), Some(button)) =
                        (keys::remote_point(pos, rect, width, height), keys::button(button))
                    else {
                        continue;
                    };
                    if self.last_pointer != Some(p) {
                        self.last_pointer = Some(p);
                        out.push(InputEvent::MouseMove { x: p.0, y: p.1 });
                    }
                    let action = if pressed { Action::Press } else { Action::Release };
                    out.push(InputEvent::MouseButton { button, action });
                }
                egui::Event::MouseWheel { unit, delta, .. } if response.hovered() => {
                    let (dx, dy) = keys::notches(unit, delta);
                    if dx != 0 || dy != 0 {
                        out.push(InputEvent::Wheel { dx, dy });
                    }
                }
                egui::Event::Key { key, pressed, modifiers, .. } if !typing_elsewhere => {
                    if let Some(combo) = keys::key_combo(key, modifiers) {
                        let action = if pressed { Action::Press } else { Action::Release };
                        out.push(InputEvent::Key { combo, action });
                    }
                }
                egui::Event::Text(text) if !typing_elsewhere => out.extend(keys::text(&text)),
                _ => {}
            }
        }
        self.input(out);
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let drawn = self.upload(&ctx);
        let (clipboard, ended) = {
            let mut s = self.link.shared.state();
            (s.clipboard.take(), s.ended.is_some())
        };
        if let Some(text) = clipboard {
            ctx.copy_text(text);
        }
        egui::Panel::right("side").default_size(300.0).show(ui, |ui| self.side_panel(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| self.screen(ui));
        if let Some(seq) = drawn {
            let _ = self.link.tx.send(ViewerMsg::Drawn(seq));
        }
        if ended {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}
