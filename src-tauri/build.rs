// The config lives at the repository root (tauri.conf.json). App commands get generated
// allow-/deny- permissions, so only what capabilities/default.json grants is callable.
fn main() {
    let commands: &[&str] = &[
        "app_state",
        "set_language",
        "open_pack",
        "open_demo_pack",
        "check_in",
        "session_view",
        "problem",
        "drafts",
        "save_draft",
        "run_sample",
        "submit",
        "submissions",
        "finish",
        "proctor",
        "proctor_records",
        "export_results",
        "confirm_close",
        "sync_status",
        "set_sync_server",
        "fetch_pack",
    ];
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
