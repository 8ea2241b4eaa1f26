// The sync indicator's data and its settings dialog: the server address and venue token.
// Sync runs in the backend; this only shows what it reports and changes the setting.
import { backend, type AppError, type SyncView } from "./backend";
import { openModal } from "./dialogs";
import { errorBox, h, replace, toAppError } from "./dom";
import { f, getLang, t } from "./i18n";

/** The newest status from the backend (polled by main.ts). */
export let syncView: SyncView | null = null;
const watchers = new Set<() => void>();

export async function pollSync(): Promise<SyncView | null> {
  try {
    syncView = await backend.syncStatus();
    for (const w of watchers) w();
  } catch (e) {
    console.warn("sync_status failed", e);
  }
  return syncView;
}

/** HH:MM of a Unix ms time, in the UI's language. */
export function hhmm(ms: number | null): string {
  if (ms === null) return "";
  return new Date(ms).toLocaleTimeString(getLang() === "ja" ? "ja-JP" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}

let isOpen = false;

export function openSyncSettings(changed: () => void): void {
  if (isOpen) return;
  isOpen = true;
  let address = syncView?.address ?? "";
  let token = "";
  let busy = false;
  let saved = false;
  let error: AppError | null = null;
  let dlg!: HTMLDialogElement;
  // The status line follows the task as it works, without redrawing what is being typed.
  const statusLine = h("p", { tid: "sync-dialog-status", class: "sync", role: "status" });
  const detail = h("p", { class: "error-detail" });
  const showStatus = () => {
    const v = syncView;
    statusLine.hidden = !v;
    if (v) {
      statusLine.dataset.state = v.state;
      statusLine.textContent = f.syncLong(v.state, v.unsent, hhmm(v.last_synced_wall_ms));
    }
    detail.hidden = !v?.message;
    replace(detail, h("span", { class: "detail-label" }, `${t("details")}: `), v?.message ?? "");
  };
  watchers.add(showStatus);

  const save = async () => {
    busy = true;
    error = null;
    saved = false;
    render();
    try {
      syncView = await backend.setSyncServer(address, token);
      token = "";
      saved = true;
      changed();
    } catch (e) {
      error = toAppError(e);
    }
    busy = false;
    render();
    dlg.querySelector<HTMLElement>(error ? "#sync-address" : "#sync-save")?.focus();
  };

  const render = () => {
    const v = syncView;
    showStatus();
    replace(
      dlg,
      h("h2", { id: "sync-heading" }, t("sync_heading")),
      h("p", null, t("sync_intro")),
      statusLine,
      detail,
      h("form", { onsubmit: (e: Event) => { e.preventDefault(); if (!busy) void save(); } },
        h("div", { class: "field" },
          h("label", { for: "sync-address" }, t("sync_address")),
          h("input", {
            tid: "sync-address", type: "text", inputmode: "url", value: address, autocomplete: "off",
            spellcheck: "false", "aria-describedby": "sync-address-hint",
            "aria-invalid": error?.code === "bad_server" ? "true" : null,
            oninput: (e: Event) => { address = (e.target as HTMLInputElement).value; },
          }),
          h("p", { id: "sync-address-hint", class: "hint" }, t("sync_address_hint"))),
        h("div", { class: "field" },
          h("label", { for: "sync-token" }, `${t("sync_token")} (${t("optional")})`),
          h("input", {
            tid: "sync-token", type: "password", value: token, autocomplete: "off",
            "aria-describedby": v?.token_set ? "sync-token-hint" : null,
            oninput: (e: Event) => { token = (e.target as HTMLInputElement).value; },
          }),
          v?.token_set ? h("p", { id: "sync-token-hint", class: "hint" }, t("sync_token_set")) : null),
        errorBox(error, "sync-error"),
        saved ? h("p", { tid: "sync-saved", role: "status" }, t("sync_saved")) : null,
        h("div", { class: "actions" },
          h("button", { type: "button", tid: "sync-close", onclick: () => modal.close() }, t("close")),
          h("button", { type: "submit", tid: "sync-save", id: "sync-save", class: "primary", "aria-busy": busy ? "true" : null }, t("sync_save")))),
    );
  };

  const modal = openModal({
    tid: "sync-dialog",
    labelledBy: "sync-heading",
    initialFocus: "#sync-address",
    onClose: () => { isOpen = false; watchers.delete(showStatus); },
    render: (d) => { dlg = d; render(); },
  });
}
