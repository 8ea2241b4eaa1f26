// Start-up, the top bar (language, text size, clock, sync, proctor) and which screen shows.
import "./style.css";
import { backend, type AppError, type Lang, type SessionView } from "./backend";
import { confirmDialog } from "./dialogs";
import { errorBox, h, replace, toAppError } from "./dom";
import { renderEndScreen } from "./end";
import { ExamScreen } from "./exam";
import { f, formatDuration, getLang, loc, setLang, t } from "./i18n";
import { renderPackScreen } from "./pack";
import { openProctor } from "./proctor";
import { remainingMs, runLangHooks, state } from "./state";
import { hhmm, openSyncSettings, pollSync, syncView } from "./sync";

const app = document.getElementById("app")!;
const header = h("header", { class: "topbar" });
const screen = h("div", { class: "screen-root" });
const clockTime = h("span", { class: "clock-time" });
const clockLabel = h("span", { class: "clock-label" });
const clock = h("div", { tid: "clock", class: "clock", role: "timer" }, clockLabel, clockTime);
// The sync indicator: a button, since it opens the sync settings.
const sync = h("button", { type: "button", tid: "sync-status", class: "sync quiet", onclick: () => openSyncSettings(updateSync) });
const skip = h("a", { href: "#main", class: "skip" });
app.append(skip, header, screen);
// Sticky panes sit below the top bar, whose height changes with wrapping and text size.
new ResizeObserver(() => document.documentElement.style.setProperty("--header-h", `${header.offsetHeight}px`)).observe(header);

let exam: ExamScreen | null = null;
let startError: AppError | null = null;
let shown: "pack" | "exam" | "end" | "failed" | null = null;

// ---- text size ---------------------------------------------------------------------------
const SCALES = [0.875, 1, 1.125, 1.25, 1.5, 1.75, 2];
const FONT_KEY = "sqlexam.fontScale";
let scale = (() => {
  const v = Number(localStorage.getItem(FONT_KEY));
  return SCALES.includes(v) ? v : 1;
})();
function applyScale(): void {
  document.documentElement.style.fontSize = `${scale * 100}%`;
  applyLayout();
}
function stepScale(dir: 1 | -1): void {
  const i = SCALES.indexOf(scale) + dir;
  // At either end the button stays focusable (aria-disabled) and does nothing: a disabled
  // button would drop keyboard focus to the page.
  if (i < 0 || i >= SCALES.length) return;
  scale = SCALES[i];
  localStorage.setItem(FONT_KEY, String(scale));
  applyScale();
  renderHeader();
}

// ---- layout ------------------------------------------------------------------------------
// Media queries measure rem at the browser's default size, not at the chosen text size, so
// the layout is picked here from the window's size in the current rem: larger text in a
// small window gets the narrow layout (problem list folded away), as a smaller window would.
function applyLayout(): void {
  const root = document.documentElement;
  const rem = parseFloat(getComputedStyle(root).fontSize) || 16;
  const width = window.innerWidth / rem;
  const height = window.innerHeight / rem;
  root.dataset.layout = width < 52 ? "narrow" : width < 85 ? "medium" : "wide";
  root.dataset.short = String(height < 36);
}
window.addEventListener("resize", applyLayout);

// ---- language ----------------------------------------------------------------------------
function switchLang(lang: Lang): void {
  if (lang === getLang()) return;
  setLang(lang);
  backend.setLanguage(lang).catch((e) => console.warn("set_language failed", e));
  renderEverything();
}

function renderEverything(): void {
  document.title = t("app_name");
  skip.textContent = t("skip");
  renderHeader();
  if (shown === "exam") exam?.renderAll();
  else if (shown === "failed") renderFailed();
  else if (shown) renderScreen();
  runLangHooks();
}

// ---- top bar -----------------------------------------------------------------------------
function renderHeader(): void {
  const s = state.session;
  const lang = getLang();
  const live = s && s.state !== "ended";
  replace(
    header,
    h("div", { class: "brand" },
      h("span", { class: "app-name" }, t("app_name")),
      s ? h("span", { class: "exam-title" }, loc(s.title)) : null),
    h("div", { class: "status-group" }, live ? clock : null, sync),
    // The text-size buttons sit last, in the top right corner: whatever the text size
    // does to the rest of the bar, the next click on A+ lands on A+ again.
    h("div", { class: "tools" },
      h("div", { role: "group", class: "seg", "aria-label": t("language") },
        h("button", { type: "button", tid: "lang-en", lang: "en", "aria-pressed": String(lang === "en"), onclick: () => switchLang("en") }, "EN"),
        h("button", { type: "button", tid: "lang-ja", lang: "ja", "aria-pressed": String(lang === "ja"), onclick: () => switchLang("ja") }, "日本語")),
      s ? h("button", { type: "button", tid: "proctor-open", class: "quiet", onclick: () => openProctor(setSession) }, t("proctor")) : null,
      h("div", { role: "group", class: "seg font-size" },
        h("button", { type: "button", tid: "font-smaller", "aria-label": t("font_smaller"), title: t("font_smaller"), "aria-disabled": scale === SCALES[0] ? "true" : null, onclick: () => stepScale(-1) }, "A−"),
        h("button", { type: "button", tid: "font-larger", "aria-label": t("font_larger"), title: t("font_larger"), "aria-disabled": scale === SCALES[SCALES.length - 1] ? "true" : null, onclick: () => stepScale(1) }, "A+"))),
  );
  updateClock();
  updateSync();
}

function updateClock(): void {
  const s = state.session;
  if (!s) return;
  const left = remainingMs();
  clockLabel.textContent = `${t("time_left")} `;
  clockTime.textContent = formatDuration(left);
  clock.dataset.remainingMs = String(Math.round(left));
  clock.dataset.state = s.state;
  clock.classList.toggle("low", s.state === "running" && left <= 600_000);
  clock.classList.toggle("paused", s.state === "interrupted");
}

/** The sync indicator, from the backend's sync status (before the first one: the count of
 * records the session view reports, as kept here). */
function updateSync(): void {
  const v = syncView;
  const st = v?.state ?? "off";
  const unsent = v ? v.unsent : state.session?.unsynced ?? 0;
  const at = hhmm(v?.last_synced_wall_ms ?? null);
  replace(sync,
    h("span", { class: "sync-long" }, f.syncLong(st, unsent, at)),
    h("span", { class: "sync-short", "aria-hidden": "true" }, f.syncShort(st, unsent, at)));
  sync.title = f.syncHint();
  sync.dataset.state = st;
  sync.dataset.unsent = String(unsent);
}

// ---- screens -----------------------------------------------------------------------------
function setSession(v: SessionView): void {
  state.session = v;
  state.sessionAt = performance.now();
  const before = shown;
  renderScreen();
  if (before === shown) renderHeader();
}

function renderScreen(): void {
  const s = state.session;
  const want = !s ? "pack" : s.state === "ended" ? "end" : "exam";
  const changed = want !== shown;
  if (want !== "exam" && exam) {
    exam.dispose();
    exam = null;
  }
  shown = want;
  if (changed) renderHeader();
  if (want === "pack") {
    renderPackScreen(screen, { started: setSession });
  } else if (want === "end") {
    renderEndScreen(screen, s!);
    if (changed) document.getElementById("end-heading")?.focus();
  } else if (!exam) {
    exam = new ExamScreen({ setSession, refresh });
    replace(screen, exam.dom);
    void exam.start();
  } else {
    exam.sessionChanged();
  }
}

let refreshing: Promise<void> | null = null;
let again = false;
function refresh(): Promise<void> {
  if (!state.session) return Promise.resolve();
  if (refreshing) {
    // Something happened while a view was on its way: fetch once more after it.
    again = true;
    return refreshing;
  }
  refreshing = backend
    .sessionView()
    .then((view) => {
      // An exam that ended never comes back to life from a late answer.
      if (state.session?.state === "ended" && view.state !== "ended") return;
      setSession(view);
    })
    .catch((e) => console.warn("session_view failed", e))
    .finally(() => {
      refreshing = null;
      if (again) {
        again = false;
        void refresh();
      }
    });
  return refreshing;
}

// ---- closing -----------------------------------------------------------------------------
let closing = false;
async function closeRequested(): Promise<void> {
  if (closing) return;
  closing = true;
  try {
    const s = state.session;
    const message = s?.while_closed === "running" ? "close_confirm_running" : "close_confirm";
    if (s && s.state !== "ended" && !(await confirmDialog(message, "close_anyway", "keep_working"))) return;
    await exam?.flush();
    await backend.confirmClose();
  } catch (e) {
    console.warn("confirm_close failed", e);
  } finally {
    closing = false;
  }
}

function renderFailed(): void {
  replace(screen, h("main", { class: "screen", id: "main" },
    h("section", { class: "card" }, h("h1", null, t("start_failed")), errorBox(startError, "start-error"),
      h("button", { type: "button", tid: "retry", onclick: () => location.reload() }, t("retry")))));
}

// ---- start -------------------------------------------------------------------------------
async function boot(): Promise<void> {
  applyScale();
  setLang(navigator.language?.startsWith("ja") ? "ja" : "en");
  document.title = t("app_name");
  skip.textContent = t("skip");
  try {
    await Promise.all([
      // A grading may finish after the end: the end screen's scores must include it.
      backend.onGraded((e) => { exam?.onGraded(e.submission, e.grading); if (state.session) void refresh(); }),
      backend.onSampleRun((e) => exam?.onSampleRun(e.run, e.grading)),
      backend.onSessionEnded((e) => { state.endReason = e.reason; void refresh(); }),
      backend.onCloseRequested(() => void closeRequested()),
    ]);
    state.app = await backend.appState();
  } catch (e) {
    shown = "failed";
    startError = toAppError(e);
    renderHeader();
    renderFailed();
    return;
  }
  setLang(state.app.lang);
  document.title = t("app_name");
  skip.textContent = t("skip");
  state.pack = state.app.pack;
  if (state.app.session) setSession(state.app.session);
  else renderScreen();

  window.setInterval(() => {
    const s = state.session;
    if (!s || s.state === "ended") return;
    updateClock();
    exam?.tick();
    if (s.state === "running" && remainingMs() <= 0) void refresh();
  }, 1000);
  window.setInterval(() => {
    if (state.session && state.session.state !== "ended") void refresh();
  }, 5000);
  // What the sync task reports: a local call, cheap enough every second.
  const syncTick = () => void pollSync().then(updateSync);
  syncTick();
  window.setInterval(syncTick, 1000);
}

void boot();
