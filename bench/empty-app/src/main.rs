//! An empty Tauri app, built like sqlexam-app: the reference that sqlexam-app's start-up time
//! and memory are divided by (BENCHMARKS.md). It prints `ready` when its page has loaded.
#![forbid(unsafe_code)]

use std::io::Write;

fn main() {
    let app = tauri::Builder::default()
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "ready");
                let _ = out.flush();
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = app {
        eprintln!("empty app: {e}");
        std::process::exit(1);
    }
}
