// Screen 3: the exam. Regions re-render on their own (sidebar, problem, controls, result,
// history, banners) so the editor, focus and scroll positions survive updates.
import { backend, type AppError, type Grading, type ProblemDetail, type SessionView, type SubmissionView } from "./backend";
import { confirmDialog } from "./dialogs";
import { debounce, errorBox, h, replace, toAppError, type Child } from "./dom";
import { createEditor, type SqlEditor } from "./editor";
import { grid } from "./grid";
import { f, formatDuration, loc, t, verdictName, refusedHint } from "./i18n";
import { renderMarkdown } from "./markdown";
import { renderGrading } from "./results";
import { remainingMs, state } from "./state";

export interface ExamCtx {
  setSession(v: SessionView): void;
  refresh(): Promise<void>;
}

type Tab = "statement" | "schema" | "samples";
interface ResultState {
  kind: "run" | "submit";
  id: number | null;
  /** The submission's number among this problem's submissions (1, 2, …). */
  no: number | null;
  grading: Grading | null;
  error: AppError | null;
}

declare global {
  interface Window {
    __sqlexamEditor?: { get(): string; set(text: string): void };
  }
}

export class ExamScreen {
  private editor: SqlEditor;
  private current: string | null = null;
  private tab: Tab = "statement";
  private details = new Map<string, ProblemDetail>();
  private detailErrors = new Map<string, AppError>();
  private drafts: Record<string, string> = {};
  private results = new Map<string, ResultState>();
  private history = new Map<string, SubmissionView[]>();
  private gradedBuf = new Map<number, Grading>();
  private runBuf = new Map<number, Grading>();
  private busy = false;
  private notice: AppError | null = null;
  private draftStatus: "saving" | "saved" | "failed" | null = null;
  private pendingDraft: { problem: string; text: string } | null = null;
  private saver = debounce(1000, () => void this.saveDraft());
  private bannerKey = "";
  private sidebarKey = "";
  private disposed = false;

  private el = {
    root: h("div", { class: "screen exam" }),
    banners: h("div", { class: "banners" }),
    paused: h("section", { tid: "paused-panel", class: "card paused-panel", "aria-labelledby": "paused-heading", hidden: true }),
    grid: h("div", { class: "exam-grid" }),
    sidebarToggle: h("button", { type: "button", tid: "problems-toggle", class: "sidebar-toggle", "aria-expanded": "false", "aria-controls": "problem-list" }),
    sidebar: h("nav", { class: "sidebar", "aria-labelledby": "problems-heading" }),
    problem: h("section", { class: "problem-pane", "aria-labelledby": "problem-title" }),
    editorHeading: h("h2", { id: "editor-heading", class: "pane-heading" }),
    controls: h("div", { class: "controls" }),
    draft: h("span", { class: "draft-status muted small" }),
    result: h("section", { tid: "result", class: "result", "aria-live": "polite", "aria-labelledby": "result-heading" }),
    history: h("section", { class: "history", "aria-labelledby": "history-heading" }),
  };

  constructor(private ctx: ExamCtx) {
    this.editor = createEditor({
      label: t("editor"),
      onChange: (text) => this.edited(text),
      onRun: () => void this.run("run"),
      onSubmit: () => void this.run("submit"),
    });
    window.__sqlexamEditor = {
      get: () => this.editor.get(),
      set: (text: string) => this.editor.set(text),
    };
    const e = this.el;
    e.sidebarToggle.addEventListener("click", () => {
      const open = e.sidebarToggle.getAttribute("aria-expanded") !== "true";
      e.sidebarToggle.setAttribute("aria-expanded", String(open));
      e.sidebar.classList.toggle("open", open);
    });
    e.grid.append(
      e.sidebar,
      h("main", { class: "work", id: "main" },
        e.problem,
        h("section", { class: "editor-pane", "aria-labelledby": "editor-heading" },
          e.editorHeading, h("div", { class: "editor-host" }, this.editor.view.dom), e.controls, e.draft),
        e.result,
        e.history));
    e.root.append(e.banners, e.paused, e.grid);
    document.addEventListener("keydown", this.onKey);
  }

  get dom(): HTMLElement {
    return this.el.root;
  }

  async start(): Promise<void> {
    try {
      this.drafts = await backend.drafts();
    } catch (e) {
      this.notice = toAppError(e);
    }
    this.renderAll();
    const first = state.session?.problems[0]?.id;
    if (first) await this.select(first, false);
  }

  dispose(): void {
    this.disposed = true;
    this.saver.flush();
    document.removeEventListener("keydown", this.onKey);
    delete window.__sqlexamEditor;
  }

  /** Before the window closes: the last keystrokes reach the store. */
  async flush(): Promise<void> {
    this.saver.cancel();
    await this.saveDraft();
  }

  renderAll(): void {
    this.editor.setLabel(t("editor"));
    this.el.editorHeading.textContent = t("editor");
    this.sidebarKey = "";
    this.bannerKey = "";
    this.renderSidebar();
    this.renderBanners();
    this.renderPaused();
    this.renderProblem();
    this.renderControls();
    this.renderDraft();
    this.renderResult();
    this.renderHistory();
  }

  /** A new SessionView arrived (poll, grading, proctor action). */
  sessionChanged(): void {
    this.renderSidebar();
    this.renderBanners();
    this.renderPaused();
    this.renderControls();
    // While paused for a proctor (or after the end) the clock stands: so does the editor.
    this.editor.setEditable(state.session?.state === "running");
  }

  /** Called every second by the clock. */
  tick(): void {
    this.renderBanners();
  }

  // ---- events from the backend -------------------------------------------------------

  onSampleRun(run: number, grading: Grading): void {
    this.runBuf.set(run, grading);
    this.fill("run", run, grading);
  }

  onGraded(submission: number, grading: Grading): void {
    this.gradedBuf.set(submission, grading);
    this.fill("submit", submission, grading);
    void this.loadHistory(grading.problem);
    void this.ctx.refresh();
  }

  private fill(kind: "run" | "submit", id: number, g: Grading): void {
    for (const [pid, r] of this.results) {
      if (r.kind === kind && r.id === id && !r.grading) {
        r.grading = g;
        if (pid === this.current) this.renderResult();
      }
    }
  }

  // ---- actions -----------------------------------------------------------------------

  private canAct(): boolean {
    return state.session?.state === "running" && this.current !== null && !this.busy;
  }

  private onKey = (e: KeyboardEvent): void => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (this.editor.view.hasFocus) return; // the editor's own keymap handles it
    e.preventDefault();
    void this.run(e.shiftKey ? "submit" : "run");
  };

  private async run(kind: "run" | "submit"): Promise<void> {
    if (!this.canAct()) return;
    const pid = this.current!;
    const sql = this.editor.get();
    this.saver.flush();
    const r: ResultState = { kind, id: null, no: null, grading: null, error: null };
    this.results.set(pid, r);
    // Nothing to run: say so here, and neither record an attempt nor spend a sample run.
    if (isBlankSql(sql)) {
      r.error = { code: "empty_query", message: "" };
      this.renderResult(); // announced by the result region; the focus stays in the editor
      return;
    }
    if (kind === "submit") r.no = (this.history.get(pid)?.length ?? state.session?.problems.find((p) => p.id === pid)?.submissions ?? 0) + 1;
    this.busy = true;
    this.renderControls();
    this.renderResult();
    try {
      r.id = kind === "run" ? await backend.runSample(pid, sql) : await backend.submit(pid, sql);
      r.grading = (kind === "run" ? this.runBuf : this.gradedBuf).get(r.id) ?? null;
    } catch (e) {
      r.error = toAppError(e);
    }
    this.busy = false;
    if (this.disposed) return;
    this.renderControls();
    if (this.current === pid) this.renderResult();
    if (kind === "submit") void this.loadHistory(pid);
    if (r.error && ["time_up", "ended", "interrupted"].includes(r.error.code)) void this.ctx.refresh();
  }

  private async finish(): Promise<void> {
    if (!(await confirmDialog("finish_confirm", "finish", "cancel", true))) return;
    this.saver.flush();
    try {
      this.ctx.setSession(await backend.finish());
    } catch (e) {
      this.notice = toAppError(e);
      this.renderBanners(true);
    }
  }

  private edited(text: string): void {
    if (!this.current) return;
    this.drafts[this.current] = text;
    this.pendingDraft = { problem: this.current, text };
    this.saver.schedule();
  }

  /** Saves run one after another, so an older text can never land after a newer one. */
  private saving: Promise<void> = Promise.resolve();

  private saveDraft(): Promise<void> {
    this.saving = this.saving.then(() => this.saveNow());
    return this.saving;
  }

  private async saveNow(): Promise<void> {
    const d = this.pendingDraft;
    if (!d) return;
    this.pendingDraft = null;
    this.draftStatus = "saving";
    this.renderDraft();
    try {
      await backend.saveDraft(d.problem, d.text);
      if (!this.pendingDraft) this.draftStatus = "saved";
    } catch {
      // Keep it for the next save, unless newer text arrived meanwhile (the await can
      // interleave with typing, which TypeScript's narrowing does not see).
      const newer = this.pendingDraft as typeof d | null;
      if (!newer) this.pendingDraft = d;
      this.draftStatus = "failed";
    }
    this.renderDraft();
  }

  async select(id: string, focus = true): Promise<void> {
    if (id === this.current) return;
    this.saver.flush();
    this.current = id;
    this.tab = "statement";
    this.editor.set(this.drafts[id] ?? "", true);
    this.draftStatus = null;
    this.renderSidebar(true);
    this.renderProblem();
    this.renderControls();
    this.renderDraft();
    this.renderResult();
    this.renderHistory();
    void this.loadHistory(id);
    if (!this.details.has(id)) {
      try {
        this.details.set(id, await backend.problem(id));
        this.detailErrors.delete(id);
      } catch (e) {
        this.detailErrors.set(id, toAppError(e));
      }
      if (this.current !== id) return;
      this.renderProblem();
      this.renderResult();
    }
    const d = this.details.get(id);
    if (d) this.editor.setSchema(d.tables);
    if (focus) document.getElementById("problem-title")?.focus();
  }

  private async loadHistory(id: string): Promise<void> {
    try {
      const list = await backend.submissions(id);
      this.history.set(id, list);
    } catch {
      return; // the history is a convenience; the records are safe either way
    }
    if (id === this.current && !this.disposed) {
      this.renderHistory();
      // The shown submission's number comes from the history once it has it.
      const r = this.results.get(id);
      if (r?.kind === "submit" && r.id !== null && r.no !== this.submissionNo(id, r.id)) this.renderResult();
    }
  }

  /** In a narrow window the problem list folds away once a problem is chosen. */
  private closeSidebar(): void {
    this.el.sidebarToggle.setAttribute("aria-expanded", "false");
    this.el.sidebar.classList.remove("open");
  }

  /** A submission's number among its problem's submissions, oldest first (1, 2, …). */
  private submissionNo(problem: string, id: number): number | null {
    const list = this.history.get(problem);
    if (!list) return null;
    const i = [...list].sort((a, b) => a.id - b.id).findIndex((s) => s.id === id);
    return i < 0 ? null : i + 1;
  }

  /** While paused for a proctor, nothing of the exam shows: only who to wait for. */
  private renderPaused(): void {
    const paused = state.session?.state === "interrupted";
    const was = !this.el.paused.hidden;
    this.el.grid.hidden = paused;
    this.el.paused.hidden = !paused;
    replace(this.el.paused, paused
      ? [h("h1", { id: "paused-heading", tabindex: -1 }, t("paused_heading")), h("p", null, t("paused")), h("p", { class: "muted" }, t("paused_hint"))]
      : null);
    if (paused && !was) document.getElementById("paused-heading")?.focus();
  }

  // ---- rendering ---------------------------------------------------------------------

  private renderBanners(force = false): void {
    const s = state.session;
    const left = remainingMs();
    const level = s?.state !== "running" ? 0 : left <= 60_000 ? 1 : left <= 600_000 ? 10 : 0;
    const key = `${s?.state}|${level}|${this.notice?.code ?? ""}`;
    if (!force && key === this.bannerKey) return;
    this.bannerKey = key;
    replace(
      this.el.banners,
      level
        ? h("div", { tid: "time-warning", class: `banner warn ${level === 1 ? "urgent" : ""}`, role: "alert" }, t(level === 1 ? "warn_1" : "warn_10"))
        : null,
      this.notice ? errorBox(this.notice, "exam-error") : null,
    );
  }

  private renderSidebar(force = false): void {
    const s = state.session;
    if (!s) return;
    const key = JSON.stringify([s.problems, s.score, s.max_score, s.state, this.current]);
    if (!force && key === this.sidebarKey) return;
    this.sidebarKey = key;
    const cur = s.problems.find((p) => p.id === this.current);
    replace(this.el.sidebarToggle,
      h("span", { class: "toggle-mark", "aria-hidden": "true" }),
      h("span", null, t("problems")),
      cur ? h("span", { class: "toggle-current" }, loc(cur.title)) : null,
      h("span", { class: "toggle-total" }, f.score(s.score, s.max_score)));
    replace(
      this.el.sidebar,
      h("h2", { id: "problems-heading" }, t("problems")),
      this.el.sidebarToggle,
      h("ol", { tid: "problem-list", class: "problem-list" },
        s.problems.map((p) => {
          const st = p.best_verdict === "accepted" ? "accepted" : p.submissions === 0 ? "not_tried" : p.best_score > 0 ? "partial" : "wrong";
          const label = { accepted: t("st_accepted"), not_tried: t("st_not_tried"), partial: t("st_partial"), wrong: t("st_wrong") }[st];
          return h("li", null,
            h("button", {
              type: "button",
              class: `problem-item st-${st}`,
              "data-testid": `problem-${p.id}`,
              "data-status": st,
              "aria-current": p.id === this.current ? "true" : null,
              onclick: () => { this.closeSidebar(); void this.select(p.id); },
            },
              h("span", { class: "p-title" }, loc(p.title)),
              h("span", { class: "p-meta" },
                h("span", { class: `status-dot st-${st}`, "aria-hidden": "true" }),
                h("span", { class: "p-status" }, label),
                h("span", { class: "p-score" }, `${p.best_score} / ${f.points(p.points)}`))));
        })),
      h("p", { class: "total", tid: "total" }, h("span", null, t("total")), h("strong", null, f.score(s.score, s.max_score))),
      h("button", { type: "button", tid: "finish", class: "danger-outline", disabled: s.state === "ended", onclick: () => void this.finish() }, t("finish")),
    );
  }

  private renderProblem(): void {
    const id = this.current;
    if (!id) return replace(this.el.problem, h("p", { class: "muted" }, t("choose_problem")));
    const d = this.details.get(id);
    const err = this.detailErrors.get(id);
    const status = state.session?.problems.find((p) => p.id === id);
    const title = d ? loc(d.title) : status ? loc(status.title) : id;
    if (!d) {
      return replace(this.el.problem,
        h("h2", { id: "problem-title", tabindex: -1 }, title),
        err ? errorBox(err, "problem-error") : h("p", { class: "muted", role: "status" }, t("loading")));
    }
    const tabs: [Tab, string][] = [["statement", t("tab_statement")], ["schema", t("tab_schema")], ["samples", t("tab_samples")]];
    const onTabKey = (e: KeyboardEvent) => {
      const i = tabs.findIndex(([k]) => k === this.tab);
      const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : null;
      if (next === null) return;
      e.preventDefault();
      this.tab = tabs[(next + tabs.length) % tabs.length][0];
      this.renderProblem();
      document.getElementById(`tab-${this.tab}`)?.focus();
    };
    replace(
      this.el.problem,
      h("div", { class: "problem-head" },
        h("h2", { id: "problem-title", tabindex: -1 }, title),
        h("span", { class: "muted" }, f.points(d.points))),
      h("p", { class: "problem-rules small" },
        t(d.kind === "select" ? "kind_select" : "kind_dml"), " ",
        d.kind === "select" ? t(d.order_required ? "order_graded" : "order_free") : [t("checked_tables"), ": ", d.check_tables.join(", ")],
        d.limits?.typical_seconds ? [" ", h("span", { tid: "time-limit" }, f.timeLimitRule(d.limits.typical_seconds))] : null),
      h("div", { role: "tablist", class: "tabs", "aria-label": title, onkeydown: onTabKey as (e: Event) => void },
        tabs.map(([k, label]) =>
          h("button", {
            type: "button", role: "tab", tid: `tab-${k}`, "aria-selected": String(this.tab === k),
            "aria-controls": "tab-panel", tabindex: this.tab === k ? 0 : -1,
            onclick: () => { this.tab = k; this.renderProblem(); },
          }, label))),
      h("div", { role: "tabpanel", id: "tab-panel", class: "tab-panel", tabindex: 0, "aria-labelledby": `tab-${this.tab}` },
        this.tab === "statement" ? this.statement(d) : this.tab === "schema" ? this.schema(d) : this.samples(d)),
    );
  }

  private statement(d: ProblemDetail): HTMLElement {
    const div = h("div", { tid: "statement", class: "markdown" });
    div.innerHTML = renderMarkdown(loc(d.statement));
    return div;
  }

  private schema(d: ProblemDetail): HTMLElement {
    return h("div", { tid: "schema", class: "schema" },
      d.tables.map((tb) =>
        h("div", { class: "schema-table" },
          h("h3", null, h("code", null, tb.name), " ", h("span", { class: "muted small" }, t(tb.is_view ? "view" : "table"))),
          h("table", { class: "grid" },
            h("thead", null, h("tr", null, h("th", { scope: "col" }, t("column")), h("th", { scope: "col" }, t("type")))),
            h("tbody", null, tb.columns.map((c) =>
              h("tr", null, h("td", null, h("code", null, c.name)), h("td", null, c.decl_type || h("span", { class: "muted" }, t("no_type"))))))))));
  }

  private samples(d: ProblemDetail): HTMLElement {
    if (!d.samples.length) return h("p", { class: "muted" }, t("no_samples"));
    return h("div", { tid: "samples", class: "samples" },
      d.samples.map((s) => {
        const exp: Child = "rows" in s.expected
          ? grid(s.expected.rows)
          : s.expected.tables.map((rs, i) => grid(rs, { caption: f.expectedTable(d.check_tables[i] ?? String(i + 1)) }));
        return h("section", { class: "sample" },
          h("h3", null, f.sampleName(s.name.replace(/^sample\//, ""))),
          h("h4", null, t("input_tables")),
          s.tables.map(([name, rs]) => grid(rs, { caption: name })),
          h("h4", null, t("expected_output")),
          exp);
      }));
  }

  private renderControls(): void {
    const s = state.session;
    // Paused or no problem: disabled. Busy for a moment: aria-disabled, so keyboard focus
    // stays on the button the candidate pressed.
    const off = s?.state !== "running" || this.current === null;
    const busy = this.busy ? "true" : null;
    replace(
      this.el.controls,
      h("button", { type: "button", tid: "run-sample", disabled: off, "aria-disabled": busy, onclick: () => void this.run("run"), "aria-keyshortcuts": "Control+Enter" },
        t("run_sample"), h("kbd", null, "Ctrl+Enter")),
      h("button", { type: "button", tid: "submit", class: "primary", disabled: off, "aria-disabled": busy, onclick: () => void this.run("submit"), "aria-keyshortcuts": "Control+Shift+Enter" },
        t("submit"), h("kbd", null, "Ctrl+Shift+Enter")),
      s?.state === "interrupted" ? h("span", { class: "muted small" }, t("paused")) : null,
    );
  }

  private renderDraft(): void {
    const s = this.draftStatus;
    this.el.draft.textContent = s === "saving" ? t("draft_saving") : s === "saved" ? t("draft_saved") : s === "failed" ? t("draft_failed") : "";
    this.el.draft.classList.toggle("bad", s === "failed");
  }

  private renderResult(): void {
    const r = this.current ? this.results.get(this.current) : undefined;
    const heading = h("h2", { id: "result-heading" }, t("result"));
    if (!r) {
      this.el.result.hidden = true;
      return replace(this.el.result, heading);
    }
    this.el.result.hidden = false;
    let body: Child;
    if (r.error) body = errorBox(r.error, "result-error");
    else if (!r.grading) body = h("p", { class: "status pending", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), t(r.kind === "run" ? "running" : "grading"));
    else body = renderGrading({
      grading: r.grading,
      problem: this.details.get(r.grading.problem),
      submission: r.kind === "submit" && r.id !== null ? this.submissionNo(r.grading.problem, r.id) ?? r.no ?? undefined : undefined,
      goTo: (l, c) => this.editor.goTo(l, c),
    });
    replace(this.el.result, heading, body);
  }

  private renderHistory(): void {
    const id = this.current;
    const list = id ? this.history.get(id) ?? [] : [];
    // Numbered per problem, oldest first; shown newest first.
    const numbered = [...list].sort((a, b) => a.id - b.id).map((s, i) => ({ s, no: i + 1 }));
    const rows = numbered.reverse();
    replace(
      this.el.history,
      h("h2", { id: "history-heading" }, t("history")),
      h("div", { tid: "history" },
        rows.length === 0
          ? h("p", { class: "muted" }, t("no_submissions"))
          : h("div", { class: "grid-wrap", tabindex: 0, role: "region", "aria-labelledby": "history-heading" },
              h("table", { class: "grid history-table" },
                h("thead", null, h("tr", null,
                  h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, t("h_when")), h("th", { scope: "col" }, t("h_verdict")),
                  h("th", { scope: "col" }, t("h_score")), h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("load_sql"))))),
                h("tbody", null, rows.map(({ s, no }) =>
                  h("tr", { "data-submission": s.id, "data-no": no, "data-state": s.state },
                    h("td", { class: "num" }, String(no)),
                    h("td", { class: "num" }, formatDuration(s.elapsed_ms)),
                    h("td", null, s.verdict
                      ? h("span", { class: `verdict small v-${s.verdict}`, "data-verdict": s.verdict }, verdictName(s.verdict))
                      : s.state === "done"
                        // Done without a verdict: refused (paused or after the end), never graded.
                        ? h("span", { class: "verdict small v-refused", "data-verdict": "refused", "data-reason": s.refused ?? "", title: refusedHint(s.refused) }, t("h_refused"))
                        : h("span", { class: "pending-label", "data-verdict": s.state }, t(s.state === "grading" ? "h_grading" : "h_queued"))),
                    h("td", { class: "num" }, s.score === null ? "—" : String(s.score)),
                    h("td", null, h("button", { type: "button", class: "small-button", "aria-label": `${t("load_sql")} #${no}`, onclick: () => void this.loadSql(s.sql) }, t("load_sql"))))))))),
    );
  }

  private async loadSql(sql: string): Promise<void> {
    const cur = this.editor.get();
    if (cur.trim() && cur !== sql && !(await confirmDialog("load_confirm", "load_ok"))) return;
    this.editor.set(sql);
    this.editor.focus();
  }
}

/** Whether `sql` holds nothing to run: only whitespace, semicolons and comments. */
export function isBlankSql(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s|;/.test(c)) i++;
    else if (sql.startsWith("--", i)) {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (sql.startsWith("/*", i)) {
      // SQLite ends an unterminated block comment at the end of the text.
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else return false;
  }
  return true;
}
