//! The sqlexam desktop app: a thin Tauri 2 shell. Commands (commands.rs) are a few lines
//! each over sqlexam-core's session engine; grading, storage and signing live there. The
//! engine opens off the main thread; engine events are forwarded to the UI as Tauri events.
#![forbid(unsafe_code)]

mod cells;
mod commands;
mod export;
mod state;
mod sync;

use std::sync::Arc;

use tauri::{Emitter, Manager, Runtime, WindowEvent};

pub use state::{AppError, AppState};

/// Registers plugins, state and commands on a builder (the real one, or the test mock).
pub fn setup<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(Arc::new(AppState::new()))
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::set_language,
            commands::open_pack,
            commands::open_demo_pack,
            commands::check_in,
            commands::session_view,
            commands::problem,
            commands::drafts,
            commands::save_draft,
            commands::run_sample,
            commands::submit,
            commands::submissions,
            commands::finish,
            commands::proctor,
            commands::proctor_records,
            export::export_results,
            commands::confirm_close,
            sync::sync_status,
            sync::set_sync_server,
            sync::fetch_pack,
        ])
        .setup(|app| {
            let state = app.state::<Arc<AppState>>().inner().clone();
            let handle = app.handle().clone();
            sync::start(state.clone());
            // The engine verifies the whole store on open: never on the main thread.
            std::thread::spawn(move || {
                if let Ok(events) = state.start() {
                    for event in events {
                        let ui = cells::ForUi(&event);
                        let _ = match &event {
                            sqlexam_core::session::EngineEvent::Graded { .. } => {
                                handle.emit("graded", &ui)
                            }
                            sqlexam_core::session::EngineEvent::SampleRun { .. } => {
                                handle.emit("sample-run", &ui)
                            }
                            sqlexam_core::session::EngineEvent::SessionEnded { .. } => {
                                handle.emit("session-ended", &ui)
                            }
                        };
                    }
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let state = window.state::<Arc<AppState>>();
                if state.exam_running() && !state.close_confirmed() {
                    api.prevent_close();
                    let _ = window.emit("close-requested", ());
                }
            }
        })
}

/// Runs the app.
pub fn run() {
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_dialog::init());
    let app = match setup(builder).build(tauri::generate_context!("../tauri.conf.json")) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("sqlexam: the app could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        // The exam clock is written every few seconds; write it once more on the way out.
        if let tauri::RunEvent::Exit = event
            && let Some(engine) = handle.state::<Arc<AppState>>().engine_if_open()
        {
            engine.checkpoint();
        }
    });
}

#[cfg(test)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
    use tauri::webview::InvokeRequest;

    fn invoke(
        app: &tauri::App<tauri::test::MockRuntime>,
        cmd: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let webview = tauri::WebviewWindowBuilder::new(app, "main", Default::default())
            .build()
            .unwrap();
        get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().unwrap())
    }

    #[test]
    fn errors_cross_to_the_ui_as_code_and_message() {
        let app = super::setup(mock_builder())
            .build(mock_context(noop_assets()))
            .unwrap();
        let err = invoke(&app, "set_language", serde_json::json!({ "lang": "fr" })).unwrap_err();
        assert_eq!(err["code"], "invalid");
        assert!(err["message"].as_str().unwrap().contains("fr"));
    }

    /// The editor offers the functions ui/src/sqlite.ts lists; each must be one the grader
    /// allows, or completion would suggest a query that is refused.
    #[test]
    fn the_editor_offers_only_functions_the_grader_allows() {
        let ts = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/sqlite.ts"),
        )
        .unwrap();
        let list = ts
            .split("export const FUNCTIONS = [")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .unwrap();
        let offered: Vec<&str> = list
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .flat_map(|l| l.split(','))
            .map(|f| f.trim().trim_matches('"'))
            .filter(|f| !f.is_empty())
            .collect();
        assert!(offered.len() > 50, "{offered:?}");
        let allowed = sqlexam_core::grade::allowed_functions();
        for f in offered {
            assert!(
                allowed.iter().any(|a| a.eq_ignore_ascii_case(f)),
                "the editor offers {f}(), which the grader refuses"
            );
        }
    }
}
