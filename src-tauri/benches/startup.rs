//! Start-up and memory benchmark (BENCHMARKS.md): sqlexam-app against an empty Tauri app
//! built the same way (bench/empty-app), launched alternately under the same display.
//! Start-up: from spawning the process to "interactive" (our app: the UI has its initial
//! state; the empty app: its page has loaded), each printing `ready`. Memory: resident set
//! of the app and its WebKit processes, summed, one second after ready.
//! Last line: `startup_ratio=… rss_ratio=…`. Needs a display (scripts/bench.sh uses Xvfb).
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

#[path = "../tests/support/procs.rs"]
mod procs;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procs::process_tree;

/// Release binaries live next to the bench's own directory (target/release/deps/..).
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: build it first (scripts/bench.sh does)",
        path.display()
    );
    path
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
            })
        })
        .unwrap_or(0)
}

/// (milliseconds to ready, KiB resident in the process tree)
fn launch(bin: &Path, home: &Path) -> (f64, u64) {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("SQLEXAM_HOME", home)
        .env("SQLEXAM_PRINT_READY", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.trim() == "ready" => break,
            Some(_) => {}
            None => panic!("{} exited before it was ready", bin.display()),
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_secs(1));
    let pids = process_tree(child.id());
    let rss: u64 = pids.iter().map(|p| rss_kib(*p)).sum();
    for p in pids.iter().rev() {
        let _ = Command::new("kill").arg("-9").arg(p.to_string()).status();
    }
    let _ = child.wait();
    (ms, rss)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "needs a display: run under xvfb-run (scripts/bench.sh)"
    );
    let (ours, empty) = (binary("sqlexam-app"), binary("sqlexam-empty-app"));
    let (mut t_ours, mut t_empty, mut m_ours, mut m_empty) = (vec![], vec![], vec![], vec![]);
    launch(&empty, Path::new("/tmp")); // warm the page cache for both
    launch(&ours, &tempfile::tempdir().unwrap().path().join("home"));
    for _ in 0..7 {
        let home = tempfile::tempdir().unwrap();
        let (t, m) = launch(&ours, &home.path().join("home"));
        t_ours.push(t);
        m_ours.push(m as f64);
        let (t, m) = launch(&empty, home.path());
        t_empty.push(t);
        m_empty.push(m as f64);
    }
    let (to, te, mo, me) = (
        median(t_ours),
        median(t_empty),
        median(m_ours),
        median(m_empty),
    );
    println!("start-up to interactive, median of 7 (warm cache):");
    println!(
        "  sqlexam-app        {to:8.0} ms   resident {:6.0} MiB (app + WebKit processes)",
        mo / 1024.0
    );
    println!(
        "  empty Tauri app    {te:8.0} ms   resident {:6.0} MiB",
        me / 1024.0
    );
    let size = std::fs::metadata(&ours).unwrap().len() as f64 / 1e6;
    println!("  release binary sqlexam-app: {size:.1} MB");
    println!("startup_ratio={:.3} rss_ratio={:.3}", to / te, mo / me);
}
