//! A real browser for the web desk's tests: Debian's Chromium, headless, driven over WebDriver
//! (Debian's chromedriver, through fantoccini), trusting one broker's certificate by its public
//! key for the test only. Every page a test looks at is kept as a screenshot under
//! `target/tmp/web-screens/`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::runtime::Runtime;

use crate::PATIENCE;
use crate::broker::Broker;

/// A headless Chromium at a broker's web desk.
#[derive(Debug)]
pub struct Browser {
    rt: Runtime,
    client: Option<Client>,
    driver: Child,
    profile: tempfile::TempDir,
    /// The broker's web address, `https://127.0.0.1:PORT`.
    pub origin: String,
    shots: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a 1366×768 Chromium trusting `broker`'s server certificate.
    pub fn start(broker: &Broker) -> Browser {
        crate::require::programs(&[("chromium", "chromium"), ("chromedriver", "chromium-driver")]);
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let spki = spki_hash(&broker.data_dir().join("server.pem"));
        let downloads = profile.path().join("downloads");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--window-size=1366,768".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--ignore-certificate-errors-spki-list={spki}"),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let url = format!("http://127.0.0.1:{port}");
        let client = rt.block_on(async {
            let deadline = tokio::time::Instant::now() + PATIENCE;
            loop {
                let attempt = ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
                match attempt {
                    Ok(client) => break client,
                    Err(err) if tokio::time::Instant::now() > deadline => {
                        panic!("chromedriver did not start a browser: {err}")
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Browser {
            rt,
            client: Some(client),
            driver,
            profile,
            origin: format!("https://127.0.0.1:{}", broker.port),
            shots,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("browser open")
    }

    /// Opens `path` on the broker.
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.origin);
        self.rt.block_on(self.client().goto(&url)).unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The text of the file the page downloaded as `name`, once it is complete.
    pub fn downloaded(&self, name: &str) -> String {
        let path = self.profile.path().join("downloads").join(name);
        crate::wait_until(&format!("{name} is downloaded"), || path.exists());
        std::fs::read_to_string(&path).expect("the downloaded file")
    }

    /// Loads the page again.
    pub fn reload(&self) {
        self.rt.block_on(self.client().refresh()).expect("reload");
    }

    /// Waits until an element matching `css` exists.
    pub fn wait_for(&self, css: &str) {
        self.rt
            .block_on(self.client().wait().at_most(PATIENCE).for_element(Locator::Css(css)))
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
    }

    /// Waits until the first element matching `css` shows `text` (as text).
    pub fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let shown = self.texts(css);
            if shown.iter().any(|t| t.contains(text)) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{css} never showed {text:?}: {shown:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The text of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.rt.block_on(async {
            let mut out = Vec::new();
            for e in self.client().find_all(Locator::Css(css)).await.unwrap_or_default() {
                if let Ok(text) = e.text().await {
                    out.push(text);
                }
            }
            out
        })
    }

    /// Whether the first element matching `css` is shown (exists and is displayed).
    pub fn displayed(&self, css: &str) -> bool {
        self.rt.block_on(async {
            match self.client().find(Locator::Css(css)).await {
                Ok(e) => e.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            }
        })
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.rt.block_on(self.client().find_all(Locator::Css(css))).map_or(0, |v| v.len())
    }

    /// Types `text` into the field matching `css` (after clearing it).
    pub fn fill(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.expect("field");
            field.clear().await.expect("clear");
            field.send_keys(text).await.expect("type");
        });
    }

    /// Sets the value of the field matching `css` as a script would (date and time fields,
    /// whose typing depends on the locale).
    pub fn set_value(&self, css: &str, value: &str) {
        let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                      e.dispatchEvent(new Event('input', { bubbles: true }));";
        let args = vec![serde_json::json!(css), serde_json::json!(value)];
        self.rt.block_on(self.client().execute(script, args)).expect("set value");
    }

    /// Chooses the file at `path` in the file field matching `css`.
    pub fn attach(&self, css: &str, path: &Path) {
        self.rt.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.expect("file field");
            field.send_keys(&path.display().to_string()).await.expect("choose file");
        });
    }

    /// Chooses `value` in the select matching `css`.
    pub fn choose(&self, css: &str, value: &str) {
        self.rt.block_on(async {
            let select = self.client().find(Locator::Css(css)).await.expect("select");
            select.select_by_value(value).await.expect("choose");
        });
    }

    /// Clicks the element matching `css`.
    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            let e = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            e.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        });
    }

    /// Whether a JavaScript alert is open (a script ran that should not have).
    pub fn alert_open(&self) -> bool {
        self.rt.block_on(self.client().get_alert_text()).is_ok()
    }

    /// The names of the cookies the page holds.
    pub fn cookie_names(&self) -> Vec<String> {
        self.rt
            .block_on(self.client().get_all_cookies())
            .unwrap_or_default()
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    /// Runs `script` in the page and returns its value.
    pub fn run(&self, script: &str) -> serde_json::Value {
        self.rt.block_on(self.client().execute(script, vec![])).expect("script")
    }

    /// Resizes the window to `width` × `height` pixels (a phone's, say).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt.block_on(self.client().set_window_size(width, height)).expect("resize");
    }

    /// The value of the form field matching `css`.
    pub fn value(&self, css: &str) -> String {
        self.rt.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.expect("field");
            field.prop("value").await.expect("value").unwrap_or_default()
        })
    }

    /// Keeps a screenshot of the page as `name.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.rt.block_on(self.client().screenshot()).expect("screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/tmp/web-screens`: the test binary runs from `target/<profile>/deps/`.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
    target.join("tmp").join("web-screens")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// base64 of the SHA-256 of the certificate's public key: what Chromium's
/// `--ignore-certificate-errors-spki-list` names a trusted key by.
fn spki_hash(cert: &Path) -> String {
    let der = tether_certs::load_certs(cert).expect("server certificate").remove(0);
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref()).expect("certificate");
    let digest = ring::digest::digest(&ring::digest::SHA256, parsed.public_key().raw);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}
