//! End-to-end tests in a real window: the app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver. They need a display (`scripts/test.sh` runs the tests under xvfb-run),
//! `tauri-driver` on the PATH and `WebKitWebDriver` (webkit2gtk-driver); without them they
//! fail with a message saying what is missing. Screenshots of every screen, in English and
//! Japanese, go to docs/screenshots/ (the README shows them).
#![allow(clippy::unwrap_used)] // a panic is the failure report

#[path = "support/procs.rs"]
mod procs;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use procs::process_tree;
use sqlexam_core::crypto::SigningKey;
use sqlexam_core::pack::{BuildOptions, build};
use sqlexam_core::problem::{ExamRules, WhileClosed, load_problem, read_pack_source};
use time::macros::datetime;

const START_CODE: &str = "DEMO-2026-START";
const PASSPHRASE: &str = "proctor-demo";
const WRONG: &str = "SELECT d.dept_id, d.name, COUNT(*) FROM departments d JOIN employees e ON e.dept_id = d.dept_id WHERE e.salary >= 300000 GROUP BY d.dept_id";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sample pack, signed by the DEMO key, as the demo build offers it.
fn demo_pack(dir: &Path) -> PathBuf {
    demo_pack_lasting(dir, 90)
}

/// The sample pack with an exam of `minutes`.
fn demo_pack_lasting(dir: &Path, minutes: u64) -> PathBuf {
    demo_pack_with(dir, minutes, None)
}

/// The sample pack with an exam of `minutes` and, if given, a roster with admission codes.
fn demo_pack_with(
    dir: &Path,
    minutes: u64,
    roster: Option<(Vec<sqlexam_core::pack::Listed>, Vec<String>)>,
) -> PathBuf {
    let source = read_pack_source(&repo().join("problems/sql-basics")).unwrap();
    let problems: Vec<_> = source
        .problem_dirs
        .iter()
        .map(|d| load_problem(d, &source.defaults).unwrap())
        .collect();
    let key = SigningKey::from_pem(
        &std::fs::read_to_string(repo().join("keys/demo/demo-organizer.key")).unwrap(),
    )
    .unwrap();
    let options = BuildOptions {
        key: &key,
        endorsements: Vec::new(),
        start_code: Some(START_CODE.into()),
        exam: ExamRules {
            duration_ms: minutes * 60_000,
            while_closed: WhileClosed::Paused,
        },
        proctor_passphrase: Some(PASSPHRASE.into()),
        roster,
        created: datetime!(2026-01-01 0:00 UTC),
        not_before: datetime!(2026-01-01 0:00 UTC),
        not_after: datetime!(2030-01-01 0:00 UTC),
    };
    let bytes = build(
        &source.id,
        &source.version,
        &source.title,
        &problems,
        &options,
    )
    .unwrap();
    let path = dir.join("sql-basics.sqlexam");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// CodeMirror ignores a key that would take a completion for its `interactionDelay`
/// (75 ms) after the list opens, so a test of Enter must press it later than that — a time
/// the library sets, not an event to wait for.
async fn past_interaction_delay() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

/// One app at a time: the app is single-instance, and the tests share one display.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One run of the app: tauri-driver (which starts WebKitWebDriver, which starts the app).
struct App {
    client: Client,
    _driver: Driver,
}

/// tauri-driver, stopped when dropped — also when a test panics: SIGTERM first, which lets
/// it stop WebKitWebDriver and the app, then SIGKILL if it lingers.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // The app must not outlive a failed test: it is single-instance, and a leftover
        // would make the next launch exit at once.
        // The app runs under WebKitWebDriver under tauri-driver.
        let below = process_tree(self.0.id()).split_off(1);
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        // SIGTERM lets tauri-driver stop its WebDriver and the app; give it until it exits
        // (at most 3 s) before killing what is left below it.
        for _ in 0..150 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in below.iter().rev() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for _ in 0..30 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl App {
    async fn launch(home: &Path, pack: &Path, clock_speed: u64) -> App {
        let port = free_port();
        let driver = Driver(
            Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &free_port().to_string()])
            .env("SQLEXAM_HOME", home)
            .env("SQLEXAM_DEMO_PACK", pack)
            .env("SQLEXAM_TEST_CLOCK_SPEED", clock_speed.to_string())
            .env("LANG", "en_US.UTF-8")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
                .spawn()
                .expect("tauri-driver is not installed (cargo install tauri-driver --version '^2' --locked)"),
        );
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": env!("CARGO_BIN_EXE_sqlexam-app") }),
        );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(client) = ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                let app = App {
                    client,
                    _driver: driver,
                };
                app.wait_for("[data-testid=lang-en]").await;
                // WebKit keeps localStorage per app, across homes: start at the default size.
                // The old page is marked, so the wait sees the reloaded one.
                let reset = app
                    .eval("if (!localStorage.getItem('sqlexam.fontScale')) return 'kept'; localStorage.removeItem('sqlexam.fontScale'); window.__sqlexamOldPage = true; location.reload(); return 'reset';")
                    .await;
                if reset == "reset" {
                    app.until(
                        "the page reloaded",
                        "return !window.__sqlexamOldPage && !!document.querySelector('[data-testid=lang-en]');",
                    )
                    .await;
                }
                return app;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "could not start a WebDriver session with the app (is there a display? WebKitWebDriver?)"
        );
    }

    /// Waits until `script` returns true (at most 30 s); `what` names the event.
    async fn until(&self, what: &str, script: &str) {
        for _ in 0..600 {
            if self
                .client
                .execute(script, vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                == Some(true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("waited 30 s for {what}");
    }

    /// Returns once the page has laid out and painted what its last change rendered: two
    /// animation frames, and no CSS animation or transition still running.
    async fn painted(&self) {
        self.until(
            "animations to end",
            "return document.getAnimations().every(a => a.playState !== 'running');",
        )
        .await;
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .unwrap();
    }

    /// Calls the app's own command `name` (as the UI does) and returns its answer as JSON.
    async fn invoke(&self, name: &str, args: serde_json::Value) -> serde_json::Value {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(done, (e) => done({ error: e }));",
                vec![name.into(), args],
            )
            .await
            .unwrap()
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Clicks like a user: scrolled into view; retried while the UI re-renders the element.
    async fn click(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..30 {
            let el = self.wait_for(css).await;
            let arg = serde_json::to_value(&el).unwrap();
            let _ = self
                .client
                .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
                .await;
            match el.click().await {
                Ok(()) => return,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot click {css}: {last}");
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        // Empty it the way a user would see it emptied (WebKitWebDriver's clear() refuses
        // some inputs), then type.
        let arg = serde_json::to_value(&field).unwrap();
        self.client
            .execute("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', {bubbles: true})); arguments[0].focus();", vec![arg])
            .await
            .unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Waits until the element's text contains `needle`.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        for _ in 0..300 {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
                && text.contains(needle)
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css} never showed {needle:?}; it shows {:?}",
            self.text(css).await
        );
    }

    /// Whether the element is shown (present, not `hidden`, not inside something hidden).
    async fn shown(&self, css: &str) -> bool {
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0;",
                vec![css.into()],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap_or(false)
    }

    async fn wait_hidden(&self, css: &str) {
        for _ in 0..300 {
            if !self.shown(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} is still shown");
    }

    /// Runs `script` and returns its value as a string (JSON for non-strings).
    async fn eval(&self, script: &str) -> String {
        let v = self.client.execute(script, vec![]).await.unwrap();
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    }

    /// Types into the editor as a user does, key by key (not through the test hook).
    async fn type_in_editor(&self, keys: &str) {
        let editor = self.wait_for("[data-testid=editor]").await;
        editor.send_keys(keys).await.unwrap();
    }

    async fn remaining_ms(&self) -> i64 {
        let clock = self.wait_for("[data-testid=clock]").await;
        let value = clock
            .attr("data-remaining-ms")
            .await
            .unwrap()
            .unwrap_or_default();
        value
            .parse()
            .unwrap_or_else(|_| panic!("data-remaining-ms = {value:?}"))
    }

    async fn set_editor(&self, sql: &str) {
        self.client
            .execute(
                "window.__sqlexamEditor.set(arguments[0]); return true;",
                vec![sql.into()],
            )
            .await
            .unwrap();
    }

    async fn editor(&self) -> String {
        let v = self
            .client
            .execute("return window.__sqlexamEditor.get();", vec![])
            .await
            .unwrap();
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Opens the demo pack, checks `id` in with the start code and answers the first
    /// problem correctly.
    async fn check_in_and_answer(&self, id: &str, name: &str) {
        self.click("[data-testid=open-demo]").await;
        self.wait_for("[data-testid=pack-verified]").await;
        self.fill("[data-testid=candidate-id]", id).await;
        self.fill("[data-testid=candidate-name]", name).await;
        self.fill("[data-testid=start-code]", START_CODE).await;
        self.click("[data-testid=check-in]").await;
        self.wait_text("[data-testid=statement]", "employees").await;
        let correct = std::fs::read_to_string(repo().join(
            "problems/sql-basics/p01-high-earners/submissions/accepted/year-and-between.sql",
        ))
        .unwrap();
        self.set_editor(&correct).await;
        self.click("[data-testid=submit]").await;
        self.wait_text("[data-testid=verdict]", "Accepted").await;
    }

    async fn screenshot(&self, name: &str) {
        // The DOM is settled by the caller's waits; let it be painted.
        self.painted().await;
        let png = self.client.screenshot().await.unwrap();
        let dir = repo().join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Screenshots in both languages, with `focus` (if any) scrolled into view.
    async fn both_languages(&self, name: &str) {
        self.both_languages_at(name, None).await;
    }

    async fn both_languages_at(&self, name: &str, focus: Option<&str>) {
        eprintln!("e2e: screen {name}");
        for lang in ["ja", "en"] {
            self.click(&format!("[data-testid=lang-{lang}]")).await;
            // Switching language re-renders the page: bring the subject back into view.
            self.until(
                "the language switch",
                &format!("return document.documentElement.lang === '{lang}';"),
            )
            .await;
            if let Some(css) = focus {
                self.painted().await;
                let el = self.wait_for(css).await;
                let arg = serde_json::to_value(&el).unwrap();
                let _ = self
                    .client
                    .execute("arguments[0].scrollIntoView({block: 'start'});", vec![arg])
                    .await;
            }
            self.screenshot(&format!("{name}-{lang}")).await;
        }
    }

    async fn quit(self) {
        // Closing the session closes the window, and the app exits.
        let _ = tokio::time::timeout(Duration::from_secs(15), self.client.clone().close()).await;
        drop(self);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_sits_an_exam_that_survives_a_restart_and_ends_on_time() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    // A three-minute exam, so that after the restart (with exam time running 20 times
    // faster) the time runs out within seconds.
    let pack = demo_pack_lasting(tmp.path(), 3);

    let app = App::launch(&home, &pack, 1).await;
    // Open the pack.
    app.click("[data-testid=open-demo]").await;
    app.wait_text("[data-testid=pack-title]", "SQL basics")
        .await;
    app.wait_for("[data-testid=pack-verified]").await;
    app.both_languages("1-open-pack").await;
    // Check in.
    app.fill("[data-testid=candidate-id]", "C-0042").await;
    app.fill("[data-testid=candidate-name]", "Aoki Hana").await;
    // A mistyped start code is named as such, and the candidate can correct it.
    app.fill("[data-testid=start-code]", "demo 2026 stark")
        .await;
    app.click("[data-testid=check-in]").await;
    app.wait_for("[data-testid=checkin-error][data-code=wrong_start_code]")
        .await;
    app.fill("[data-testid=start-code]", "demo 2026 start")
        .await;
    app.click("[data-testid=check-in]").await;
    // The first problem. An empty submission (only a comment) is refused here, with a
    // message: no attempt is recorded and the problem is not marked wrong.
    app.wait_text("[data-testid=statement]", "employees").await;
    app.set_editor("-- my answer:\n  ;  /* later */\n").await;
    app.click("[data-testid=submit]").await;
    app.wait_for("[data-testid=result-error][data-code=empty_query]")
        .await;
    app.wait_text("[data-testid=history]", "No submissions yet")
        .await;
    // Refused in the UI: the engine holds no submission of it either.
    assert_eq!(
        app.invoke(
            "submissions",
            serde_json::json!({ "problem": "p01-high-earners" })
        )
        .await,
        serde_json::json!([])
    );
    app.wait_for("[data-testid=problem-p01-high-earners][data-status=not_tried]")
        .await;
    // A REAL shows as SQLite shows it (2.0), an INTEGER without a fraction (2).
    app.set_editor("SELECT emp_id, 2.0, 2 FROM employees").await;
    app.click("[data-testid=run-sample]").await;
    app.wait_for("[data-testid=result] [data-testid=produced]")
        .await;
    let cells = app
        .eval("return JSON.stringify([...document.querySelectorAll('[data-testid=result] [data-testid=produced] tbody tr:first-child td')].map(td => td.textContent));")
        .await;
    let cells: Vec<String> = serde_json::from_str(&cells).unwrap();
    assert_eq!(&cells[1..], ["2.0", "2"], "{cells:?}");
    // One real attempt here, so that the next problem's numbering shows it is per problem.
    app.click("[data-testid=submit]").await;
    app.wait_for("[data-testid=history] tr[data-no='1'] [data-verdict=wrong_answer]")
        .await;

    app.click("[data-testid=problem-p04-department-headcount]")
        .await;
    app.wait_text("[data-testid=statement]", "department").await;
    // Typing: Enter after a word the completion list shows (a column, a misspelt table)
    // starts a new line; it neither takes the completion nor glues the lines together.
    app.set_editor("").await;
    app.type_in_editor("SELECT name").await;
    app.wait_for(".cm-tooltip-autocomplete").await;
    past_interaction_delay().await;
    app.type_in_editor("\u{e007}FROM employes").await;
    app.wait_for(".cm-tooltip-autocomplete").await;
    past_interaction_delay().await;
    app.type_in_editor("\u{e007}").await;
    let typed = app.editor().await;
    let lines: Vec<&str> = typed.lines().map(str::trim).collect();
    assert_eq!(lines, ["SELECT name", "FROM employes"], "{typed:?}");
    assert!(typed.ends_with('\n') || typed.ends_with(' '), "{typed:?}");
    // Run on the sample.
    app.set_editor(WRONG).await;
    app.click("[data-testid=run-sample]").await;
    app.wait_for("[data-testid=result] table").await;
    app.both_languages_at("2-exam-run-sample", Some("[data-testid=result]"))
        .await;
    // A wrong submission gets row-level feedback on the sample.
    app.click("[data-testid=submit]").await;
    app.wait_text("[data-testid=verdict]", "Wrong Answer").await;
    // Numbered per problem: the first attempt here is #1, whatever came before elsewhere.
    app.wait_text("[data-testid=result] .verdict-line", "#1")
        .await;
    app.wait_for("[data-testid=history] tr[data-no='1'] [data-verdict=wrong_answer]")
        .await;
    let feedback = app.text("[data-testid=feedback]").await;
    assert!(
        feedback.contains("Legal") || feedback.to_lowercase().contains("missing"),
        "{feedback}"
    );
    app.both_languages_at("3-wrong-answer", Some("[data-testid=result]"))
        .await;
    // A correct one is accepted.
    let correct = std::fs::read_to_string(repo().join(
        "problems/sql-basics/p04-department-headcount/submissions/accepted/correlated-count.sql",
    ))
    .unwrap();
    app.set_editor(&correct).await;
    app.click("[data-testid=submit]").await;
    app.wait_text("[data-testid=verdict]", "Accepted").await;
    app.wait_text("[data-testid=history]", "Accepted").await;
    app.wait_text("[data-testid=result] .verdict-line", "#2")
        .await;
    app.both_languages_at("4-accepted", Some("[data-testid=result]"))
        .await;
    // A draft, then the app is closed mid-exam.
    app.set_editor("SELECT 'unfinished draft'").await;
    // Autosaved (after its 1 s debounce): the engine holds the draft.
    for _ in 0..100 {
        let drafts = app.invoke("drafts", serde_json::json!({})).await;
        if drafts.to_string().contains("unfinished draft") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let remaining_before = app.remaining_ms().await;
    app.quit().await;

    // Restarted, with exam time running 20 times faster from now on, to reach the end.
    let app = App::launch(&home, &pack, 20).await;
    app.wait_for("[data-testid=paused-panel]").await;
    // Paused is private: until a proctor resumes, no statement, data, query or result of
    // the exam can be read — only the waiting panel shows.
    assert!(app.shown("[data-testid=paused-panel]").await);
    // The panel is the app's answer to the restored state; once that is painted, nothing
    // else is coming.
    app.painted().await;
    for css in [
        "[data-testid=statement]",
        "[data-testid=problem-list]",
        "[data-testid=editor]",
        "[data-testid=history]",
        "[data-testid=result]",
    ] {
        assert!(!app.shown(css).await, "{css} is readable while paused");
    }
    let visible = app.text("body").await;
    assert!(!visible.contains("employees"), "{visible}");
    // Closed for seconds, yet no exam time passed: nothing is lost beyond the UI's
    // countdown lag (1.5 s). Ending the WebDriver session kills the app without its exit
    // checkpoint, so up to one checkpoint interval (5 s, docs/record-format.md) may come
    // back in the candidate's favour — as after a real crash.
    let remaining_after = app.remaining_ms().await;
    assert!(
        remaining_after + 1_500 >= remaining_before && remaining_after <= remaining_before + 5_500,
        "remaining {remaining_before} ms before closing, {remaining_after} ms after"
    );
    app.both_languages("5-resumed-paused").await;
    // The proctor resumes and extends the time; then the (fast) clock runs out. (The
    // proctor dialog is modal, so each language gets its own visit.)
    for lang in ["ja", "en"] {
        app.click(&format!("[data-testid=lang-{lang}]")).await;
        app.click("[data-testid=proctor-open]").await;
        app.fill("[data-testid=proctor-passphrase]", PASSPHRASE)
            .await;
        app.click("[data-testid=proctor-unlock]").await;
        app.wait_for("[data-testid=proctor-records]").await;
        app.screenshot(&format!("6-proctor-{lang}")).await;
        if lang == "ja" {
            app.click("[data-testid=proctor-close]").await;
        }
    }
    app.click("[data-testid=proctor-resume]").await;
    app.wait_hidden("[data-testid=paused-panel]").await;
    app.wait_for("[data-testid=proctor-extend]:not([disabled])")
        .await;
    let before = app.remaining_ms().await;
    app.fill("[data-testid=proctor-extend-minutes]", "5").await;
    app.click("[data-testid=proctor-extend]:not([disabled])")
        .await;
    for _ in 0..100 {
        if app.remaining_ms().await > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.click("[data-testid=proctor-close]").await;
    // Resumed: the exam shows again, with the draft the candidate left.
    app.click("[data-testid=problem-p04-department-headcount]")
        .await;
    for _ in 0..50 {
        if app.editor().await == "SELECT 'unfinished draft'" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.editor().await,
        "SELECT 'unfinished draft'",
        "the draft survived"
    );
    app.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("[data-testid=end-screen]"))
        .await
        .expect("the exam ends when its (extended) time is up");
    assert!(
        app.client
            .find(Locator::Css("[data-testid=submit]"))
            .await
            .is_err(),
        "no submit after time is up"
    );
    app.both_languages("7-end").await;
    app.quit().await;

    // Behind the UI: the chain verifies and the resume and extension are recorded.
    let records =
        sqlexam_core::session::read_store_records(&sqlexam_core::session::store_path(&home))
            .unwrap();
    // The store's own pack copy gives the proctor key: the app signed each proctor action.
    let expect = sqlexam_core::session::store_expectations(&home, &records, None);
    let report = sqlexam_core::session::verify_report(&records, &expect);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let text: String = records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
        .collect();
    assert!(
        text.contains("\"action\":\"resume\"") && text.contains("\"action\":\"extend\""),
        "{text}"
    );
    assert!(text.contains("\"reason\":\"time_up\""));
}

/// After the exam the proctor writes the machine's results onto a USB stick from the
/// proctor panel, in the app's language: the signed bundle (which verifies against the
/// pack, records as the store holds them) and the spreadsheets. Exporting again replaces the
/// files; a missing folder is said before anything runs.
#[tokio::test(flavor = "multi_thread")]
async fn the_proctor_exports_the_results_onto_a_stick() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let pack = demo_pack(tmp.path());
    let stick = tmp.path().join("USB STICK");
    let app = App::launch(&home, &pack, 1).await;
    app.check_in_and_answer("0042", "Tanaka Yui").await;

    for lang in ["en", "ja"] {
        app.click(&format!("[data-testid=lang-{lang}]")).await;
        app.click("[data-testid=proctor-open]").await;
        app.fill("[data-testid=proctor-passphrase]", PASSPHRASE)
            .await;
        app.click("[data-testid=proctor-unlock]").await;
        app.wait_for("[data-testid=export-folder]").await;
        if lang == "en" {
            // No folder yet: said, and nothing runs.
            app.click("[data-testid=export-results]").await;
            app.wait_for("[data-testid=export-folder][aria-invalid=true]")
                .await;
        }
        app.fill("[data-testid=export-folder]", &stick.to_string_lossy())
            .await;
        app.fill("[data-testid=export-venue]", "Room 3").await;
        app.click("[data-testid=export-results]").await;
        let done = app
            .wait_text("[data-testid=export-done]", ".sqlexam-bundle")
            .await;
        assert!(done.contains("-results.xlsx"), "{done}");
        app.screenshot(&format!("12-proctor-export-{lang}")).await;
        app.click("[data-testid=proctor-close]").await;
    }
    app.quit().await;

    // Five files (six with the PDF report, where a browser printed it), written twice under
    // the same names; the second time in Japanese.
    let names: Vec<String> = std::fs::read_dir(&stick)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let printed = names.iter().any(|n| n.ends_with("-report.pdf"));
    // The session report as printed, for the README (where a browser can draw it).
    if let Some(browser) = sqlexam_export::report::find_browser() {
        let report = names.iter().find(|n| n.ends_with("-report.html")).unwrap();
        let profile = tempfile::tempdir().unwrap();
        let shot = repo().join("docs/screenshots/14-report-ja.png");
        let status = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=900,1100")
            .arg(format!("file://{}", stick.join(report).display()).replace(' ', "%20"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert_eq!(names.len(), if printed { 6 } else { 5 }, "{names:?}");
    assert_eq!(printed, sqlexam_export::report::find_browser().is_some());
    let csv_name = names.iter().find(|n| n.ends_with(".csv")).unwrap();
    let csv = std::fs::read_to_string(stick.join(csv_name)).unwrap();
    assert!(csv.starts_with("\u{feff}受験者ID,氏名,会場"), "{csv}");
    assert!(
        csv.contains("\"=\"\"0042\"\"\",Tanaka Yui,Room 3,p01-high-earners"),
        "{csv}"
    );
    let bundle_name = names
        .iter()
        .find(|n| n.ends_with(".sqlexam-bundle"))
        .unwrap();
    let bundle =
        sqlexam_export::bundle::parse(&std::fs::read(stick.join(bundle_name)).unwrap()).unwrap();
    let (manifest, hash) =
        sqlexam_core::pack::signed_manifest(&std::fs::read(&pack).unwrap()[..]).unwrap();
    let report = sqlexam_export::bundle::verify(
        &bundle,
        &sqlexam_export::bundle::Known {
            pack: Some((hash, manifest.proctor_public_key())),
            server_keys: Vec::new(),
        },
    );
    assert!(report.ok(), "{:?}", report.problems);
    let records =
        sqlexam_core::session::read_store_records(&sqlexam_core::session::store_path(&home))
            .unwrap();
    assert_eq!(bundle.records, records);
}

/// A server for the app to sync with, in this process: its storage and tokens are made
/// first; it listens on its port only once `listen` is called (a venue's server that is not
/// up yet).
struct Prepared {
    url: String,
    venue: String,
    organizer: String,
    port: u16,
    data: PathBuf,
    trust: sqlexam_core::pack::Trust,
    store: std::sync::Arc<dyn sqlexam_server::Store>,
}

struct LocalServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), sqlexam_server::ServerError>>,
}

impl Prepared {
    async fn new(data: &Path, trust: sqlexam_core::pack::Trust) -> Prepared {
        let store = sqlexam_server::open_sqlite(data).unwrap();
        let mut tokens = Vec::new();
        for role in [
            sqlexam_server::model::Role::Venue,
            sqlexam_server::model::Role::Organizer,
        ] {
            let (token, hash) = sqlexam_server::new_token().unwrap();
            store
                .add_token(&hash, role, "e2e", "2026-01-01T00:00:00Z")
                .await
                .unwrap();
            tokens.push(token);
        }
        let port = free_port();
        Prepared {
            url: format!("http://127.0.0.1:{port}"),
            venue: tokens[0].clone(),
            organizer: tokens[1].clone(),
            port,
            data: data.to_owned(),
            trust,
            store,
        }
    }

    async fn listen(&self) -> LocalServer {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let settings = sqlexam_server::Settings {
            data_dir: self.data.clone(),
            trust: self.trust.clone(),
            grader: sqlexam_server::GraderCommand {
                program: "unused".into(),
                args: Vec::new(),
            },
            workers: 0,
            uplink: None,
            witnesses: Vec::new(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sqlexam_server::launch(
            settings,
            self.store.clone(),
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        LocalServer { stop, task }
    }
}

impl LocalServer {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Sets the sync server in the app's dialog.
async fn set_server(app: &App, url: &str, token: &str) {
    app.click("[data-testid=sync-status]").await;
    app.fill("[data-testid=sync-address]", url).await;
    app.fill("[data-testid=sync-token]", token).await;
    app.click("[data-testid=sync-save]").await;
    app.wait_for("[data-testid=sync-saved]").await;
    app.click("[data-testid=sync-close]").await;
}

/// The demo organizer's key, trusted: what a server needs to take the demo pack.
fn demo_trust() -> sqlexam_core::pack::Trust {
    let demo = sqlexam_core::crypto::PublicKey::from_pem(
        &std::fs::read_to_string(repo().join("keys/demo/demo-organizer.pub.pem")).unwrap(),
    )
    .unwrap();
    sqlexam_core::pack::Trust {
        anchors: vec![sqlexam_core::pack::Anchor::new(&demo, "demo")],
        revoked: Vec::new(),
    }
}

/// The organizer uploads the demo pack (with its start code, so the server can re-grade).
async fn upload_demo_pack(server: &Prepared, pack: &std::path::Path) {
    sqlexam_sync::tls_provider();
    let uploaded = reqwest::Client::new()
        .put(format!("{}/v1/exams/sql-basics/pack", server.url))
        .bearer_auth(&server.organizer)
        .header("x-sqlexam-start-code", START_CODE)
        .body(std::fs::read(pack).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        uploaded.status().is_success(),
        "{:?}",
        uploaded.text().await
    );
}

/// An exam with a roster: the check-in asks for the candidate's admission code, says so
/// when it is missing or wrong, and starts with the right one (the roster's name shown).
#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_on_the_roster_checks_in_with_their_admission_code() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let code = sqlexam_core::pack::generate_admission_code().unwrap();
    let listed = vec![sqlexam_core::pack::Listed {
        candidate: "R-0042".into(),
        name: "Tanaka Yui".into(),
        settings: Default::default(),
    }];
    let pack = demo_pack_with(tmp.path(), 90, Some((listed, vec![code.clone()])));
    let app = App::launch(&home, &pack, 1).await;
    app.click("[data-testid=open-demo]").await;
    app.wait_for("[data-testid=pack-verified]").await;
    app.fill("[data-testid=candidate-id]", "R-0042").await;
    app.fill("[data-testid=start-code]", START_CODE).await;
    app.click("[data-testid=check-in]").await;
    app.wait_for("[data-testid=checkin-error][data-code=admission_needed]")
        .await;
    app.fill("[data-testid=admission-code]", "00000-00000-0000")
        .await;
    app.click("[data-testid=check-in]").await;
    app.wait_for("[data-testid=checkin-error][data-code=wrong_admission_code]")
        .await;
    app.screenshot("2-check-in-admission-en").await;
    app.fill("[data-testid=admission-code]", &code).await;
    app.click("[data-testid=check-in]").await;
    app.wait_text("[data-testid=statement]", "employees").await;
    app.quit().await;
}

/// Before the exam, with the network up: the exam's pack is downloaded from the server,
/// verified like a file and saved; a missing server and a wrong exam id are named; the
/// check-in works from the download.
#[tokio::test(flavor = "multi_thread")]
async fn the_pack_is_downloaded_from_the_server_ahead_of_the_exam() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let pack = demo_pack(tmp.path());
    let prepared = Prepared::new(&tmp.path().join("server"), demo_trust()).await;
    let server = prepared.listen().await;
    upload_demo_pack(&prepared, &pack).await;

    let app = App::launch(&home, &pack, 1).await;
    // Without a server set, the app says so.
    app.fill("[data-testid=exam-id]", "sql-basics").await;
    app.click("[data-testid=download-pack]").await;
    app.wait_for("[data-testid=pack-error][data-code=no_server]")
        .await;
    set_server(&app, &prepared.url, &prepared.venue).await;
    app.fill("[data-testid=exam-id]", "no-such-exam").await;
    app.click("[data-testid=download-pack]").await;
    app.wait_for("[data-testid=pack-error][data-code=not_found]")
        .await;
    app.fill("[data-testid=exam-id]", "sql-basics").await;
    app.click("[data-testid=download-pack]").await;
    app.wait_for("[data-testid=pack-verified]").await;
    let saved = app.text("[data-testid=pack-saved]").await;
    assert!(saved.contains("sql-basics-1.0.0.sqlexam"), "{saved}");
    app.both_languages("11-pack-downloaded").await;
    assert_eq!(
        std::fs::read(home.join("downloads/sql-basics-1.0.0.sqlexam")).unwrap(),
        std::fs::read(&pack).unwrap()
    );
    app.fill("[data-testid=candidate-id]", "C-0900").await;
    app.fill("[data-testid=start-code]", START_CODE).await;
    app.click("[data-testid=check-in]").await;
    app.wait_text("[data-testid=statement]", "employees").await;
    app.quit().await;
    server.stop().await;
}

/// A venue offline during the exam: the indicator counts the records waiting; once the
/// server is reachable it reaches "All synced", and the organizer's results show the
/// candidate's answer. Nothing of the exam waits for the network.
#[tokio::test(flavor = "multi_thread")]
async fn an_offline_exam_syncs_by_itself_once_the_server_is_up() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let pack = demo_pack(tmp.path());
    // The server's storage and tokens exist; it does not listen yet.
    let prepared = Prepared::new(&tmp.path().join("server"), demo_trust()).await;
    let (url, venue, organizer) = (
        prepared.url.clone(),
        prepared.venue.clone(),
        prepared.organizer.clone(),
    );

    let app = App::launch(&home, &pack, 1).await;
    app.wait_for("[data-testid=sync-status][data-state=off]")
        .await;
    app.check_in_and_answer("C-0777", "Sato Ren").await;

    // The proctor sets the venue's server; it is not reachable yet.
    app.click("[data-testid=sync-status]").await;
    app.fill("[data-testid=sync-address]", "exam.example.org")
        .await;
    app.click("[data-testid=sync-save]").await;
    app.wait_for("[data-testid=sync-error][data-code=bad_server]")
        .await;
    app.fill("[data-testid=sync-address]", &url).await;
    app.fill("[data-testid=sync-token]", &venue).await;
    app.click("[data-testid=sync-save]").await;
    app.wait_for("[data-testid=sync-saved]").await;
    app.screenshot("8-sync-settings-en").await;
    app.click("[data-testid=sync-close]").await;
    app.wait_for("[data-testid=sync-status][data-state=offline]")
        .await;
    let long = "return document.querySelector('[data-testid=sync-status] .sync-long').textContent;";
    let waiting = app.eval(long).await;
    assert_eq!(waiting, "Offline — 2 records waiting to send");
    app.both_languages("9-sync-offline").await;

    // The network comes back: the server is up (the organizer uploaded the pack).
    let server = prepared.listen().await;
    upload_demo_pack(&prepared, &pack).await;
    app.wait_for("[data-testid=sync-status][data-state=synced]")
        .await;
    let synced = app.eval(long).await;
    assert!(synced.starts_with("All synced at "), "{synced}");
    assert_eq!(
        app.wait_for("[data-testid=sync-status]")
            .await
            .attr("data-unsent")
            .await
            .unwrap()
            .as_deref(),
        Some("0"),
        "{synced}"
    );
    app.both_languages("10-sync-synced").await;

    // The organizer sees the candidate's result on the server.
    sqlexam_sync::tls_provider();
    let results: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v1/exams/sql-basics/results"))
        .bearer_auth(&organizer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = results.to_string();
    assert!(
        text.contains("C-0777") && text.contains("p01-high-earners"),
        "{text}"
    );
    app.quit().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_pack_is_refused_with_its_reason() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let pack = demo_pack(tmp.path());
    let mut bytes = std::fs::read(&pack).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let tampered = tmp.path().join("tampered.sqlexam");
    std::fs::write(&tampered, bytes).unwrap();

    let app = App::launch(&tmp.path().join("home"), &pack, 1).await;
    app.fill("[data-testid=pack-path]", tampered.to_str().unwrap())
        .await;
    app.click("[data-testid=open-path]").await;
    let error = app.wait_text("[data-testid=pack-error]", " ").await;
    assert!(
        error.contains("changed") || error.contains("damaged") || error.contains("altered"),
        "{error}"
    );
    app.both_languages("0-tampered-pack").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_language_switch_changes_every_visible_string() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let pack = demo_pack(tmp.path());
    let app = App::launch(&tmp.path().join("home"), &pack, 1).await;
    app.click("[data-testid=open-demo]").await;
    app.wait_for("[data-testid=pack-verified]").await;
    let english = app.text("body").await;
    app.click("[data-testid=lang-ja]").await;
    // Wait for the switch, then compare every visible string.
    app.wait_text("body", "日本語").await;
    app.until(
        "the language switch",
        "return document.documentElement.lang === 'ja';",
    )
    .await;
    app.painted().await;
    let japanese = app.text("body").await;
    // Data (titles in both languages, ids, key ids, dates) may stay; UI words may not.
    for word in [
        "Open",
        "Candidate",
        "Start code",
        "Check in",
        "Verified",
        "Signed",
        "Valid",
        "Sealed",
        "Font",
    ] {
        if english.contains(word) {
            assert!(
                !japanese.contains(word),
                "{word:?} is still English after switching:\n{japanese}"
            );
        }
    }
    assert!(
        japanese
            .chars()
            .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
        "{japanese}"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn large_text_in_a_small_window_keeps_the_work_and_the_buttons_in_reach() {
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let pack = demo_pack(tmp.path());
    let app = App::launch(&tmp.path().join("home"), &pack, 1).await;
    app.client.set_window_size(1024, 700).await.unwrap();
    app.click("[data-testid=open-demo]").await;
    app.fill("[data-testid=candidate-id]", "C-0100").await;
    app.fill("[data-testid=start-code]", START_CODE).await;
    app.click("[data-testid=check-in]").await;
    app.wait_text("[data-testid=statement]", "employees").await;

    // Each A+ leaves the button where it was: the next click at the same spot is A+ again.
    let spot = "const r = document.getElementById('font-larger').getBoundingClientRect(); return JSON.stringify([r.left + r.width / 2, r.top + r.height / 2]);";
    for _ in 0..3 {
        let at: Vec<f64> = serde_json::from_str(&app.eval(spot).await).unwrap();
        let scale = app
            .eval("return String(localStorage.getItem('sqlexam.fontScale'));")
            .await;
        app.click("[data-testid=font-larger]").await;
        app.until(
            "the text to grow",
            &format!("return String(localStorage.getItem('sqlexam.fontScale')) !== '{scale}';"),
        )
        .await;
        app.painted().await;
        let hit = app
            .eval(&format!(
                "const e = document.elementFromPoint({}, {}); return e ? (e.closest('button') || e).id : '';",
                at[0], at[1]
            ))
            .await;
        assert_eq!(hit, "font-larger", "A+ moved away from {at:?}");
    }
    // At 150 % in 1024×700: the bar keeps to two rows, the problem list folds into one bar,
    // and the editor and results get the window's width.
    let rem: f64 = app
        .eval("return String(parseFloat(getComputedStyle(document.documentElement).fontSize));")
        .await
        .parse()
        .unwrap();
    assert!(rem >= 23.0, "text size {rem}px");
    let header: f64 = app
        .eval("return String(document.querySelector('header').offsetHeight);")
        .await
        .parse()
        .unwrap();
    assert!(header <= 6.0 * rem, "the top bar is {header}px high");
    assert!(app.shown("[data-testid=problems-toggle]").await);
    assert!(!app.shown("[data-testid=problem-list]").await);
    let editor: f64 = app
        .eval("return String(document.querySelector('.editor-host').getBoundingClientRect().width / window.innerWidth);")
        .await
        .parse()
        .unwrap();
    assert!(editor > 0.8, "the editor takes {editor} of the width");
    // The folded list opens, and folds again once a problem is chosen.
    app.click("[data-testid=problems-toggle]").await;
    app.click("[data-testid=problem-p03-shipped-order-lines]")
        .await;
    app.wait_text("[data-testid=statement]", "order_items")
        .await;
    app.wait_hidden("[data-testid=problem-list]").await;
    // A wide result stays inside the window: its grid scrolls instead of being cut off.
    app.set_editor("SELECT order_id, product_id, quantity, unit_price, 'a long text column to make the grid wide', 'and one more, wider still, to be sure' FROM order_items").await;
    app.click("[data-testid=run-sample]").await;
    app.wait_for("[data-testid=result] [data-testid=produced]")
        .await;
    let outside = app
        .eval("return JSON.stringify([...document.querySelectorAll('[data-testid=result] .grid-wrap')].filter(w => w.getBoundingClientRect().right > window.innerWidth + 1 || (w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX !== 'auto')).length);")
        .await;
    assert_eq!(outside, "0", "a result grid is cut off");

    // At the largest size A+ is inert but keeps the focus: Enter does not reach the editor.
    for _ in 0..6 {
        if app
            .wait_for("[data-testid=font-larger]")
            .await
            .attr("aria-disabled")
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        app.click("[data-testid=font-larger]").await;
    }
    app.click("[data-testid=font-larger]").await;
    assert_eq!(
        app.eval("return document.activeElement ? document.activeElement.id : '';")
            .await,
        "font-larger"
    );
    let before = app.editor().await;
    app.client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{e007}\u{e007}")
        .await
        .unwrap();
    app.painted().await;
    assert_eq!(app.editor().await, before);
    app.eval("localStorage.removeItem('sqlexam.fontScale'); return '';")
        .await;
    app.quit().await;
}
