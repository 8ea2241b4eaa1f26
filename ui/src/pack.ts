// Screens 1 and 2: open and verify a pack, then check in.
import { open } from "@tauri-apps/plugin-dialog";
import { backend, type PackInfo, type SessionView } from "./backend";
import { errorBox, h, replace, toAppError } from "./dom";
import { f, formatDate, loc, t } from "./i18n";
import { state } from "./state";

export interface PackScreenCtx {
  started(view: SessionView): void;
}

let pathMissing = false;

export function renderPackScreen(root: HTMLElement, ctx: PackScreenCtx): void {
  const rerender = () => renderPackScreen(root, ctx);

  const openWith = async (load: () => Promise<PackInfo>) => {
    pathMissing = false;
    state.downloadedTo = null;
    state.packBusy = true;
    state.packError = null;
    rerender();
    try {
      state.pack = await load();
      state.checkin.error = null;
      state.checkin.missing = null;
    } catch (e) {
      state.pack = null;
      state.packError = toAppError(e);
    } finally {
      state.packBusy = false;
      rerender();
    }
    if (state.pack) document.getElementById("candidate-id")?.focus();
    else document.getElementById("pack-error")?.focus();
  };

  const pickFile = async () => {
    let path: string | string[] | null;
    try {
      path = await open({
        multiple: false,
        directory: false,
        filters: [{ name: "sqlexam pack", extensions: ["sqlexam"] }],
      });
    } catch (e) {
      state.packError = toAppError(e);
      rerender();
      return;
    }
    if (typeof path === "string" && path) {
      state.packPath = path;
      await openWith(() => backend.openPack(path as string));
    }
  };

  const openFromPath = async () => {
    const path = state.packPath.trim();
    pathMissing = !path;
    if (!path) {
      state.packError = null;
      rerender();
      document.getElementById("pack-path")?.focus();
      return;
    }
    await openWith(() => backend.openPack(path));
  };

  const download = async () => {
    let saved: string | null = null;
    await openWith(async () => {
      const got = await backend.fetchPack(state.examId);
      saved = got.path;
      return got.info;
    });
    state.downloadedTo = saved;
    if (saved) rerender();
  };

  const checkIn = async () => {
    const c = state.checkin;
    const pack = state.pack;
    c.error = null;
    c.missing = !c.id.trim() ? "candidate_id_missing" : pack?.sealed && !c.code.trim() ? "start_code_missing" : null;
    if (c.missing) {
      rerender();
      document.getElementById(c.missing === "candidate_id_missing" ? "candidate-id" : "start-code")?.focus();
      return;
    }
    c.busy = true;
    rerender();
    try {
      const view = await backend.checkIn(
        c.id.trim(),
        c.name.trim(),
        pack?.sealed ? c.code.trim() : "",
        c.byProctor ? "" : c.admission.trim(),
        c.byProctor ? c.passphrase : "",
      );
      c.busy = false;
      c.code = "";
      c.admission = "";
      c.passphrase = "";
      c.byProctor = false;
      ctx.started(view);
    } catch (e) {
      c.busy = false;
      c.error = toAppError(e);
      rerender();
      document.getElementById("checkin-error")?.focus();
    }
  };

  const busy = state.packBusy;
  const openSection = h(
    "section",
    { class: "card", "aria-labelledby": "open-heading" },
    h("h1", { id: "open-heading" }, t("open_heading")),
    h("p", { class: "muted" }, t("open_intro")),
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", tid: "open-file", class: "primary", disabled: busy, onclick: pickFile }, t("open_file")),
      state.app?.demo_pack
        ? h("button", { type: "button", tid: "open-demo", disabled: busy, onclick: () => openWith(backend.openDemoPack) }, t("open_demo"))
        : null,
    ),
    state.app?.demo_pack ? h("p", { class: "muted small" }, t("demo_note")) : null,
    h(
      "form",
      {
        class: "row path-form",
        onsubmit: (e: Event) => { e.preventDefault(); void openFromPath(); },
      },
      h("label", { for: "pack-path" }, t("pack_path")),
      h("input", {
        tid: "pack-path",
        type: "text",
        spellcheck: "false",
        autocomplete: "off",
        value: state.packPath,
        "aria-describedby": pathMissing ? "pack-path-hint" : null,
        "aria-invalid": pathMissing ? "true" : null,
        oninput: (e: Event) => { state.packPath = (e.target as HTMLInputElement).value; },
      }),
      h("button", { type: "submit", tid: "open-path", disabled: busy }, t("open_path")),
    ),
    pathMissing ? h("p", { id: "pack-path-hint", class: "error", role: "alert" }, t("path_missing")) : null,
    h("h2", { class: "subheading" }, t("download_heading")),
    h("p", { class: "muted small" }, t("download_intro")),
    h(
      "form",
      { class: "row path-form", onsubmit: (e: Event) => { e.preventDefault(); void download(); } },
      h("label", { for: "exam-id" }, t("exam_id")),
      h("input", {
        tid: "exam-id", type: "text", spellcheck: "false", autocomplete: "off", value: state.examId,
        oninput: (e: Event) => { state.examId = (e.target as HTMLInputElement).value; },
      }),
      h("button", { type: "submit", tid: "download-pack", disabled: busy }, t("download")),
    ),
    busy ? h("p", { class: "status", role: "status" }, t("opening")) : null,
    state.downloadedTo ? h("p", { tid: "pack-saved", class: "muted small" }, f.savedTo(state.downloadedTo)) : null,
    errorBox(state.packError, "pack-error"),
  );
  replace(root, h("main", { class: "screen pack-screen", id: "main" }, openSection, state.pack ? packCard(state.pack) : null,
    state.pack ? checkInCard(state.pack, checkIn, rerender) : null));
}

function trustText(p: PackInfo): string {
  const tp = p.trust_path;
  return tp.kind === "anchor"
    ? f.trustAnchor(tp.name, tp.key_id)
    : f.trustEndorsed(tp.name, tp.key_id, tp.by_name, formatDate(tp.until));
}

function packCard(p: PackInfo): HTMLElement {
  const item = (label: string, ...value: (Node | string)[]) => [h("dt", null, label), h("dd", null, ...value)];
  return h(
    "section",
    { class: "card pack-info", "aria-labelledby": "pack-title" },
    h(
      "div",
      { class: "pack-head" },
      h("h2", { tid: "pack-title" }, loc(p.title)),
      h("span", { tid: "pack-verified", class: "badge ok" }, h("span", { "aria-hidden": "true" }, "✓ "), t("verified")),
    ),
    h(
      "dl",
      { class: "facts" },
      item(t("pack_id"), h("code", null, p.id), " ", f.version(p.version)),
      item(t("signer"), h("code", null, p.signer), h("br"), trustText(p)),
      item(t("valid"), f.window(formatDate(p.not_before), formatDate(p.not_after))),
      item(t("sealed"), p.sealed ? t("sealed_yes") : t("no")),
      p.problems ? item(t("problems_count"), String(p.problems.length)) : [],
    ),
    p.problems && p.problems.length
      ? h("ol", { class: "pack-problems" }, p.problems.map((q) => h("li", null, loc(q.title), " ", h("span", { class: "muted" }, `(${f.points(q.points)})`))))
      : null,
  );
}

function checkInCard(p: PackInfo, submit: () => Promise<void>, redraw: () => void): HTMLElement {
  const c = state.checkin;
  // A missing value is named right under its field, where the eye (and the focus) is.
  const field = (id: string, label: string, required: boolean, value: string, set: (v: string) => void, extra: Record<string, string> = {}) => {
    const missing = (c.missing === "candidate_id_missing" && id === "candidate-id") || (c.missing === "start_code_missing" && id === "start-code");
    const described = [extra["aria-describedby"], missing ? `${id}-missing` : null].filter(Boolean).join(" ") || null;
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, label, " ", h("span", { class: "muted small" }, `(${t(required ? "required" : "optional")})`)),
      h("input", {
        tid: id,
        type: "text",
        value,
        required,
        autocomplete: "off",
        spellcheck: "false",
        ...extra,
        "aria-invalid": missing ? "true" : null,
        "aria-describedby": described,
        oninput: (e: Event) => set((e.target as HTMLInputElement).value),
      }),
      missing && c.missing ? h("p", { class: "field-error", role: "alert", id: `${id}-missing`, "data-testid": "checkin-missing" }, t(c.missing)) : null,
    );
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": "checkin-heading" },
    h("h2", { id: "checkin-heading" }, t("checkin_heading")),
    h(
      "form",
      { class: "checkin", novalidate: true, onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
      field("candidate-id", t("candidate_id"), true, c.id, (v) => { c.id = v; }),
      field("candidate-name", t("candidate_name"), false, c.name, (v) => { c.name = v; }),
      p.sealed
        ? [
            field("start-code", t("start_code"), true, c.code, (v) => { c.code = v; }, { "aria-describedby": "start-code-help" }),
            h("p", { id: "start-code-help", class: "muted small" }, t("start_code_help")),
          ]
        : null,
      c.byProctor
        ? [
            h(
              "div",
              { class: "field" },
              h("label", { for: "admit-passphrase" }, t("passphrase")),
              h("input", {
                tid: "admit-passphrase",
                type: "password",
                value: c.passphrase,
                autocomplete: "off",
                "aria-describedby": "admit-help",
                oninput: (e: Event) => { c.passphrase = (e.target as HTMLInputElement).value; },
              }),
            ),
            h("p", { id: "admit-help", class: "muted small" }, t("proctor_admits_help")),
          ]
        : [
            field("admission-code", t("admission_code"), false, c.admission, (v) => { c.admission = v; }, { "aria-describedby": "admission-code-help" }),
            h("p", { id: "admission-code-help", class: "muted small" }, t("admission_code_help")),
          ],
      h(
        "button",
        {
          type: "button",
          tid: "proctor-admits",
          class: "link",
          "aria-pressed": String(c.byProctor),
          onclick: () => {
            c.byProctor = !c.byProctor;
            c.passphrase = "";
            redraw();
            document.getElementById(c.byProctor ? "admit-passphrase" : "admission-code")?.focus();
          },
        },
        t(c.byProctor ? "admission_by_code" : "proctor_admits"),
      ),
      errorBox(c.error, "checkin-error"),
      h("div", { class: "actions" }, h("button", { type: "submit", tid: "check-in", class: "primary", disabled: c.busy }, t("check_in"))),
      c.busy ? h("p", { class: "status", role: "status" }, t("checking_in")) : null,
    ),
  );
}
