//! The browser harness: chromedriver on a free port (killed with everything it started
//! when the test ends), one Chromium session per simulated user, and polling helpers
//! that wait for the page instead of sleeping.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::future::Future;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(20);
/// How often waits look again.
const POLL: Duration = Duration::from_millis(50);

const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--password-store=basic",
    "--window-size=1280,900",
];

fn chromium_bin() -> String {
    std::env::var("CONVENE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver_bin() -> String {
    std::env::var("CONVENE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// `target/` of this build (respects `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

pub fn screenshot_dir() -> PathBuf {
    target_dir().join("browser-screenshots")
}

/// Browser tests run only when asked to; otherwise they say so and pass.
pub fn enabled(test: &str) -> bool {
    if std::env::var("CONVENE_BROWSER_TESTS").as_deref() == Ok("1") {
        return true;
    }
    // Straight to stderr, past the test harness's output capture, so the skip shows in
    // a plain `cargo test` run.
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: set CONVENE_BROWSER_TESTS=1 (needs chromium + chromedriver)"
    );
    false
}

/// Runs a browser test: starts chromedriver, runs `body`, then closes every browser it
/// opened. If `body` panics, each open browser is screenshotted (`…-FAILED-….png`)
/// before the panic is passed on.
pub async fn browser_test<F, Fut>(test: &'static str, body: F)
where
    F: FnOnce(Arc<Harness>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !enabled(test) {
        return;
    }
    let started = Instant::now();
    let harness = Arc::new(Harness::start(test).await);
    let outcome = tokio::spawn(body(harness.clone())).await;
    let browsers: Vec<Browser> = harness
        .browsers
        .lock()
        .map(|mut b| b.drain(..).collect())
        .unwrap_or_default();
    for b in &browsers {
        if outcome.is_err() {
            b.screenshot("FAILED").await;
            eprintln!(
                "{test}: browser '{}' was at {}",
                b.label,
                b.client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default()
            );
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), b.client.clone().close()).await;
    }
    drop(harness);
    println!(
        "{test}: {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshot_dir().display()
    );
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("{test}: {e}"),
        }
    }
}

/// A test's chromedriver and the browsers opened through it.
pub struct Harness {
    test: &'static str,
    // Field order matters: the driver (and the Chromiums it started) goes before the
    // profile folders are removed.
    driver: ChromeDriver,
    profiles: Profiles,
    browsers: Mutex<Vec<Browser>>,
    shots: Arc<AtomicUsize>,
}

impl Harness {
    async fn start(test: &'static str) -> Harness {
        std::fs::create_dir_all(screenshot_dir()).expect("create target/browser-screenshots");
        let log = screenshot_dir().join(format!("{test}-chromedriver.log"));
        let driver = ChromeDriver::start(&log).await;
        // Old screenshots of this test would only confuse.
        if let Ok(entries) = std::fs::read_dir(screenshot_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(&format!("{test}-")) && name.ends_with(".png") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Harness {
            test,
            driver,
            profiles: Profiles(Mutex::new(Vec::new())),
            browsers: Mutex::new(Vec::new()),
            shots: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Opens a new browser (its own Chromium with a fresh profile, so its own cookies)
    /// pointed at `base_url`.
    pub async fn browser(&self, label: &str, base_url: &str) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "convene-browser-{}-{}-{label}-{}",
            std::process::id(),
            self.test,
            self.driver.port
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create Chromium profile folder");
        if let Ok(mut p) = self.profiles.0.lock() {
            p.push(profile.clone());
        }
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_bin(),
                "args": args,
                "prefs": {
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                    "profile.password_manager_leak_detection": false,
                },
            },
        });
        let caps = caps.as_object().cloned().expect("capabilities object");
        // chromedriver is plain HTTP on 127.0.0.1: no TLS (whose rustls would also need a
        // process-wide crypto provider chosen).
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.driver.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "starting Chromium ({}) through chromedriver failed: {e}",
                    chromium_bin()
                )
            });
        let browser = Browser {
            client,
            base: base_url.trim_end_matches('/').to_string(),
            label: label.to_string(),
            test: self.test,
            shots: self.shots.clone(),
        };
        if let Ok(mut b) = self.browsers.lock() {
            b.push(browser.clone());
        }
        browser
    }
}

struct Profiles(Mutex<Vec<PathBuf>>);

impl Drop for Profiles {
    fn drop(&mut self) {
        if let Ok(dirs) = self.0.lock() {
            for d in dirs.iter() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A chromedriver process in a process group of its own, so that ending the group also
/// ends the Chromiums it started (they outlive chromedriver otherwise).
struct ChromeDriver {
    child: Child,
    port: u16,
    url: String,
}

impl ChromeDriver {
    async fn start(log: &Path) -> ChromeDriver {
        let bin = chromedriver_bin();
        assert!(
            Path::new(&bin).exists(),
            "CONVENE_BROWSER_TESTS=1 but there is no chromedriver at {bin}: install the Debian packages chromium and chromium-driver (or set CONVENE_CHROMEDRIVER)"
        );
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(log).expect("chromedriver log file");
            let err = out.try_clone().expect("chromedriver log file");
            let child = Command::new(&bin)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
            let mut driver = ChromeDriver {
                child,
                port,
                url: format!("http://127.0.0.1:{port}"),
            };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(e) => last_error = e,
            }
        }
        panic!(
            "chromedriver did not start: {last_error}; log: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Waits until `GET /status` says ready.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited with {status}"));
            }
            if let Ok(r) = http.get(format!("{}/status", self.url)).send().await {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if v["value"]["ready"] == true {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no ready answer from {}/status within {TIMEOUT:?}",
                    self.url
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |sig: &str| {
            let _ = Command::new("kill")
                .args([sig, "--", &group])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(POLL);
        }
        // Whatever is left of the group (a Chromium that ignored TERM) goes too.
        signal("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `//…` or `(//…)…` is XPath, anything else CSS.
fn locator(selector: &str) -> Locator<'_> {
    if selector.starts_with('/') || selector.starts_with("(/") {
        Locator::XPath(selector)
    } else {
        Locator::Css(selector)
    }
}

/// One simulated user's browser.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    base: String,
    pub label: String,
    test: &'static str,
    shots: Arc<AtomicUsize>,
}

impl Browser {
    fn url_for(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Fails the test with where the browser is and what it shows.
    async fn fail(&self, what: &str) -> ! {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().take(1500).collect();
        panic!(
            "[{}] {what} (after {TIMEOUT:?})\n  at: {url}\n  page text:\n{text}",
            self.label
        );
    }

    /// Opens a path of the app (or a full URL) and waits for it to load.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url_for(path))
            .await
            .unwrap_or_else(|e| panic!("[{}] goto {path}: {e}", self.label));
        self.wait_loaded().await;
    }

    /// Reloads `path` until `selector` shows up on it (for things a background worker
    /// produces); returns the element.
    pub async fn goto_until(&self, path: &str, selector: &str) -> Element {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.goto(path).await;
            if let Ok(e) = self.client.find(locator(selector)).await {
                return e;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{selector} never appeared on {path}"))
                    .await;
            }
            tokio::time::sleep(POLL * 4).await;
        }
    }

    async fn wait_loaded(&self) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(v) = self
                .client
                .execute("return document.readyState", vec![])
                .await
            {
                if v == "complete" {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.fail("the page never finished loading").await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element to exist.
    pub async fn find(&self, selector: &str) -> Element {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(e) = self.client.find(locator(selector)).await {
                return e;
            }
            if Instant::now() > deadline {
                self.fail(&format!("no element matches {selector}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// How many elements match now.
    pub async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(locator(selector))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// Waits for an element to be visible.
    pub async fn wait_displayed(&self, selector: &str) -> Element {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(e) = self.client.find(locator(selector)).await {
                if e.is_displayed().await.unwrap_or(false) {
                    return e;
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!("{selector} is not visible")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until nothing matches `selector`.
    pub async fn wait_absent(&self, selector: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if self
                .client
                .find_all(locator(selector))
                .await
                .map(|v| v.is_empty())
                .unwrap_or(false)
            {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{selector} is still there")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element whose text contains `needle`; returns the text.
    pub async fn wait_text(&self, selector: &str, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        loop {
            if let Ok(all) = self.client.find_all(locator(selector)).await {
                seen.clear();
                for e in all {
                    let text = e.text().await.unwrap_or_default();
                    if text.contains(needle) {
                        return text;
                    }
                    seen.push(text);
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!("no {selector} contains {needle:?}; seen {seen:?}"))
                    .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The (trimmed) text of the first match, once it exists.
    pub async fn text(&self, selector: &str) -> String {
        let e = self.find(selector).await;
        e.text()
            .await
            .unwrap_or_else(|err| panic!("[{}] text of {selector}: {err}", self.label))
            .trim()
            .to_string()
    }

    pub async fn attr(&self, selector: &str, name: &str) -> String {
        let e = self.find(selector).await;
        e.attr(name)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("[{}] {selector} has no {name}", self.label))
    }

    pub async fn is_enabled(&self, selector: &str) -> bool {
        self.find(selector)
            .await
            .is_enabled()
            .await
            .unwrap_or_else(|e| panic!("[{}] {selector}: {e}", self.label))
    }

    /// Types into a field (after clearing it).
    pub async fn fill(&self, selector: &str, text: &str) {
        let e = self.wait_displayed(selector).await;
        e.clear()
            .await
            .unwrap_or_else(|err| panic!("[{}] clear {selector}: {err}", self.label));
        e.send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("[{}] type into {selector}: {err}", self.label));
    }

    /// Picks an option of a `<select>` by value.
    pub async fn select(&self, selector: &str, value: &str) {
        let e = self.wait_displayed(selector).await;
        e.select_by_value(value)
            .await
            .unwrap_or_else(|err| panic!("[{}] select {value} in {selector}: {err}", self.label));
        let chosen = e.prop("value").await.ok().flatten().unwrap_or_default();
        assert_eq!(
            chosen, value,
            "[{}] {selector} did not take the value",
            self.label
        );
    }

    /// Clicks something that does not navigate.
    pub async fn click(&self, selector: &str) {
        let e = self.wait_displayed(selector).await;
        e.click()
            .await
            .unwrap_or_else(|err| panic!("[{}] click {selector}: {err}", self.label));
    }

    /// Clicks a link or submit button and waits for the next page to load: the old
    /// document's root must go stale, then the new one finish loading.
    pub async fn click_and_wait(&self, selector: &str) {
        let old_root = self
            .client
            .find(Locator::Css("html"))
            .await
            .unwrap_or_else(|e| panic!("[{}] no page: {e}", self.label));
        self.click(selector).await;
        let deadline = Instant::now() + TIMEOUT;
        // Any error asking the old root for its name means it is gone (stale).
        while old_root.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                self.fail(&format!("clicking {selector} did not lead to a new page"))
                    .await;
            }
            tokio::time::sleep(POLL).await;
        }
        self.wait_loaded().await;
    }

    /// Waits until the current URL's path is `path`.
    pub async fn assert_path(&self, path: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(u) = self.client.current_url().await {
                if u.path() == path {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!("expected to be at {path}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Scrolls an element to the middle of the viewport (so a screenshot shows it).
    pub async fn scroll_to(&self, selector: &str) {
        let e = self.find(selector).await;
        let arg = serde_json::to_value(&e)
            .unwrap_or_else(|err| panic!("[{}] {selector}: {err}", self.label));
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
            .await
            .unwrap_or_else(|err| panic!("[{}] scroll to {selector}: {err}", self.label));
    }

    /// Saves `target/browser-screenshots/<test>-<nn>-<browser>-<step>.png`. Never fails
    /// the test.
    pub async fn screenshot(&self, step: &str) {
        let n = self.shots.fetch_add(1, Ordering::SeqCst) + 1;
        let path = screenshot_dir().join(format!("{}-{n:02}-{}-{step}.png", self.test, self.label));
        match self.client.screenshot().await {
            Ok(png) => {
                if let Err(e) = std::fs::write(&path, png) {
                    eprintln!("could not save {}: {e}", path.display());
                }
            }
            Err(e) => eprintln!("[{}] screenshot {step} failed: {e}", self.label),
        }
    }
}
