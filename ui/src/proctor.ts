// Screen 5: proctor mode, behind the pack's proctor passphrase. The passphrase is kept
// only while the dialog is open.
import { open } from "@tauri-apps/plugin-dialog";
import { backend, type AppError, type ExportView, type ProctorAction, type RecordsReport, type SessionView } from "./backend";
import { confirmDialog, openModal } from "./dialogs";
import { errorBox, h, replace, toAppError } from "./dom";
import { f, formatDuration, recordKind, recordSummary, t, type Key, findingText } from "./i18n";
import { state } from "./state";

let isOpen = false;

export function openProctor(setSession: (v: SessionView) => void): void {
  if (isOpen) return;
  isOpen = true;
  let passphrase = "";
  let unlocked = false;
  let busy = false;
  let minutes = "10";
  let report: RecordsReport | null = null;
  let error: AppError | null = null;
  let problem: Key | null = null;
  let done: (() => string) | null = null;
  let folder = "";
  let venue = "";
  let exported: ExportView | null = null;
  let exportError: AppError | null = null;
  let folderMissing = false;

  let dlg!: HTMLDialogElement;
  const focus = (sel: string) => dlg.querySelector<HTMLElement>(sel)?.focus();

  const loadRecords = async () => {
    report = await backend.proctorRecords(passphrase);
  };

  const unlock = async () => {
    problem = passphrase ? null : "passphrase_missing";
    error = null;
    if (problem) { render(); focus("#proctor-passphrase"); return; }
    busy = true;
    render();
    try {
      await loadRecords();
      unlocked = true;
    } catch (e) {
      error = toAppError(e);
    }
    busy = false;
    render();
    focus(unlocked ? "#proctor-extend-minutes" : "#proctor-passphrase");
  };

  const act = async (action: ProctorAction, message: () => string) => {
    error = null;
    problem = null;
    done = null;
    busy = true;
    render();
    try {
      const view = await backend.proctor(passphrase, action);
      done = message;
      setSession(view);
      try { await loadRecords(); } catch { /* the action itself succeeded */ }
    } catch (e) {
      error = toAppError(e);
    }
    busy = false;
    render();
  };

  const extend = () => {
    const n = Number(minutes);
    if (!Number.isInteger(n) || n < 1 || n > 600) {
      problem = "minutes_invalid";
      done = null;
      render();
      focus("#proctor-extend-minutes");
      return;
    }
    if (state.session?.state === "ended") return;
    void act({ action: "extend", minutes: n }, () => f.extended(n));
  };

  const end = async () => {
    if (!(await confirmDialog("end_confirm", "end_exam", "cancel", true))) return;
    await act({ action: "end" }, () => t("ended_done"));
  };

  const chooseFolder = async () => {
    try {
      const picked = await open({ multiple: false, directory: true });
      if (typeof picked === "string" && picked) folder = picked;
    } catch (e) {
      exportError = toAppError(e);
    }
    render();
  };

  const exportNow = async () => {
    exportError = null;
    exported = null;
    folderMissing = !folder.trim();
    if (folderMissing) { render(); focus("#export-folder"); return; }
    busy = true;
    render();
    try {
      exported = await backend.exportResults(passphrase, folder, venue);
    } catch (e) {
      exportError = toAppError(e);
    }
    busy = false;
    render();
    focus(exported ? "#export-done" : "#export-error");
  };

  const exportSection = () =>
    h("section", { class: "export", "aria-labelledby": "export-heading" },
      h("h3", { id: "export-heading" }, t("export_heading")),
      h("p", { class: "muted small" }, t("export_intro")),
      h("form", { onsubmit: (e: Event) => { e.preventDefault(); void exportNow(); } },
        h("div", { class: "row" },
          h("label", { for: "export-folder" }, t("export_folder")),
          h("input", {
            tid: "export-folder", type: "text", value: folder, spellcheck: false,
            "aria-invalid": folderMissing ? "true" : null,
            oninput: (e: Event) => { folder = (e.target as HTMLInputElement).value; },
          }),
          h("button", { type: "button", tid: "export-choose", disabled: busy, onclick: () => void chooseFolder() }, t("choose_folder"))),
        h("div", { class: "row" },
          h("label", { for: "export-venue" }, t("venue")),
          h("input", {
            tid: "export-venue", type: "text", value: venue,
            oninput: (e: Event) => { venue = (e.target as HTMLInputElement).value; },
          }),
          h("button", { type: "submit", tid: "export-results", class: "primary", disabled: busy }, t("export_now")))),
      folderMissing ? h("p", { class: "error", role: "alert" }, t("folder_missing_ui")) : null,
      exported
        ? h("div", { class: "ok-message", role: "status", tid: "export-done", tabindex: -1 },
            h("p", null, f.exported(exported.records, exported.folder)),
            h("ul", null, exported.files.map((n) => h("li", null, h("code", null, n)))),
            h("p", { class: "muted small" }, f.fingerprint(exported.fingerprint)),
            exported.pdf_error ? h("p", { class: "small", tid: "export-no-pdf" }, t("no_pdf")) : null)
        : null,
      errorBox(exportError, "export-error"));

  const render = () => {
    const s = state.session;
    const stateName = s ? t(s.state === "running" ? "state_running" : s.state === "interrupted" ? "state_interrupted" : "state_ended") : "—";
    replace(
      dlg,
      h("h2", { id: "proctor-title" }, t("proctor_title")),
      h("p", { class: "muted small" }, t("proctor_intro")),
      !unlocked
        ? h("form", { class: "row", onsubmit: (e: Event) => { e.preventDefault(); void unlock(); } },
            h("label", { for: "proctor-passphrase" }, t("passphrase")),
            h("input", {
              tid: "proctor-passphrase", type: "password", autocomplete: "off", value: passphrase,
              "aria-invalid": problem === "passphrase_missing" || error?.code === "wrong_passphrase" ? "true" : null,
              oninput: (e: Event) => { passphrase = (e.target as HTMLInputElement).value; },
            }),
            h("button", { type: "submit", tid: "proctor-unlock", class: "primary", disabled: busy }, t("unlock")))
        : [
            s ? h("dl", { class: "facts" },
                h("dt", null, t("candidate")), h("dd", null, f.candidate(s.candidate_id, s.candidate_name)),
                h("dt", null, t("state")), h("dd", { tid: "proctor-state", "data-state": s.state }, stateName),
                h("dt", null, t("time_left")), h("dd", null, formatDuration(s.remaining_ms))) : null,
            h("form", { class: "row", onsubmit: (e: Event) => { e.preventDefault(); extend(); } },
              h("label", { for: "proctor-extend-minutes" }, t("extend_minutes")),
              h("input", {
                tid: "proctor-extend-minutes", type: "number", min: 1, max: 600, step: 1, value: minutes, class: "narrow",
                "aria-invalid": problem === "minutes_invalid" ? "true" : null,
                oninput: (e: Event) => { minutes = (e.target as HTMLInputElement).value; },
              }),
              // Nothing to extend once the exam has ended.
              h("button", { type: "submit", tid: "proctor-extend", disabled: busy || s?.state === "ended" }, t("extend"))),
            h("div", { class: "row" },
              h("button", { type: "button", tid: "proctor-resume", disabled: busy || s?.state !== "interrupted",
                onclick: () => void act({ action: "resume" }, () => t("resumed")) }, t("resume")),
              h("button", { type: "button", tid: "proctor-end", class: "danger", disabled: busy || s?.state === "ended",
                onclick: () => void end() }, t("end_exam"))),
          ],
      problem ? h("p", { class: "error", role: "alert" }, t(problem)) : null,
      done ? h("p", { class: "ok-message", role: "status", tid: "proctor-done" }, done()) : null,
      errorBox(error, "proctor-error"),
      unlocked ? exportSection() : null,
      unlocked && report ? records(report) : null,
      h("div", { class: "actions" }, h("button", { type: "button", tid: "proctor-close", onclick: () => m.close() }, t("close"))),
    );
  };

  const m = openModal({
    tid: "proctor-dialog",
    labelledBy: "proctor-title",
    initialFocus: "#proctor-passphrase",
    render: (d) => { dlg = d; render(); },
    onClose: () => { passphrase = ""; report = null; exported = null; exportError = null; isOpen = false; },
  });
}

function records(r: RecordsReport): HTMLElement {
  return h("section", { class: "records", "aria-labelledby": "records-heading" },
    h("h3", { id: "records-heading" }, t("records"), " ", h("span", { class: "muted small" }, `${t("device")}: `, h("code", null, r.device_id))),
    r.findings.length === 0
      ? h("p", { class: "badge ok", tid: "proctor-findings", "data-ok": "true" }, "✓ ", t("all_verify"))
      : h("div", { class: "error", tid: "proctor-findings", "data-ok": "false", role: "alert" },
          h("p", null, t("findings")), h("ul", null, r.findings.map((x) => h("li", null, findingText(x))))),
    h("div", { class: "grid-wrap", tabindex: 0, role: "region", "aria-labelledby": "records-heading" },
      h("table", { class: "grid", tid: "proctor-records" },
        h("thead", null, h("tr", null,
          h("th", { scope: "col" }, t("seq")), h("th", { scope: "col" }, t("kind")),
          h("th", { scope: "col" }, t("summary")), h("th", { scope: "col" }, t("h_when")))),
        h("tbody", null, r.records.map((x) =>
          h("tr", null, h("td", { class: "num" }, String(x.seq)), h("td", { "data-kind": x.kind }, recordKind(x.kind)),
            h("td", null, recordSummary(x.summary)), h("td", { class: "num" }, formatDuration(x.elapsed_ms))))))));
}
