// The organizer's dashboard, over the API in docs/api.md with the organizer token. Built
// with the app's toolchain (ui/vite.dashboard.config.ts) and served by the server; it
// shares the app's DOM builder and its words (the one catalogue, locales/). Every text from
// the server (names, ids, details) goes into the page as text, never as HTML.
import type { Lang, Verdict } from "../../ui/src/backend";
import { type Child, h, svg } from "../../ui/src/h";
import { fill, getLang, named, setLang, t } from "../../ui/src/i18n";

/** An exam the server holds a pack of (`GET /v1/exams`). */
interface ExamRow {
  exam: string;
  version: string;
  pack_hash: string;
}

/** One candidate's score on one problem, in the results model (sqlexam-results/1). */
interface ProblemScore {
  problem: string;
  score: number;
  verdict: Verdict | null;
  /** The best score the device claimed, counted or not. */
  claimed: number;
  awaiting_regrade: number;
  ungradable: number;
  disagreements: number;
}

/** A session that counts nothing until an organizer decides, and why (stable codes). */
interface Withheld {
  session: string;
  reasons: string[];
}

interface CandidateResult {
  candidate: string;
  name: string;
  venues: string[];
  sessions: string[];
  total: number;
  max_total: number;
  /** False when every session of the candidate is withheld. */
  counted: boolean;
  withheld?: Withheld[];
  attempts: number;
  problems: ProblemScore[];
}

interface Problem {
  id: string;
  max_score: number;
  title?: { en: string; ja: string };
}

interface Results {
  exam: { id: string; version: string; hash: string };
  problems: Problem[];
  candidates: CandidateResult[];
}

interface Venue {
  venue: string;
  sessions: number;
  candidates: number;
  last_record_at: string | null;
  sessions_with_gaps: number;
}

interface Flag {
  session: string;
  seq: number;
  kind: string;
  detail: string;
}

interface Gap {
  session: string;
  from: number;
  to: number;
}

/** `GET /v1/exams/{id}/dashboard`. */
interface DashboardView {
  results: Results;
  venues: Venue[];
  sessions: { session: string; candidate: string; admitted: string | null }[];
  flags: Flag[];
  gaps: Gap[];
  decisions: { session: string; count: boolean; note: string; by: string; decided_at: string }[];
  /** Whether the server holds the exam's pack (without it no score counts). */
  pack_held: boolean;
  /** Whether the exam's pack has a roster (admission codes). */
  roster: boolean;
}

/** `GET /v1/relay`, on a venue relay. */
interface RelayStatus {
  state: string;
  unsent: number;
  server: string | null;
  last_synced_wall_ms: number | null;
  message: string | null;
}

type SortKey = string;

const state = {
  token: sessionStorage.getItem("sqlexam-token") || "",
  exams: null as ExamRow[] | null,
  exam: null as string | null,
  data: null as DashboardView | null,
  error: null as string | null,
  sort: { key: "total" as SortKey, dir: "descending" as "ascending" | "descending" },
  filter: "",
  venue: "",
  kind: "",
  loadedAt: null as Date | null,
  relay: null as RelayStatus | null,
  wanted: null as string | null,
};
setLang(localStorage.getItem("sqlexam-lang") === "ja" ? "ja" : "en");

/** A flag kind's name (the catalogue's `incident.*`, shared with the exports). */
const kindName = (kind: string): string => named("incident", kind);

/** A problem's title in the page's language (its id where the pack gave none). */
const problemTitle = (p: Problem): string => (p.title ? p.title[getLang()] || p.title.en : p.id);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = { Authorization: `Bearer ${state.token}`, ...(init.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) {
    let body: { code?: string; message?: string } = {};
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, body.code || String(response.status), body.message || response.statusText);
  }
  return response;
}

function fail(e: unknown): void {
  if (e instanceof ApiError && e.status === 401) {
    state.token = "";
    sessionStorage.removeItem("sqlexam-token");
    state.error = t("dash.unauthorized");
  } else if (e instanceof ApiError) {
    state.error = `${t("dash.failed")} ${e.message} (${e.code})`;
  } else {
    state.error = `${t("dash.failed")} ${e instanceof Error ? e.message : String(e)}`;
  }
  render();
}

async function loadExams(): Promise<void> {
  try {
    state.exams = (await (await api("/v1/exams")).json()) as ExamRow[];
    state.error = null;
  } catch (e) {
    fail(e);
    return;
  }
  render();
}

async function loadExam(id: string): Promise<void> {
  state.wanted = id;
  try {
    const data = (await (await api(`/v1/exams/${encodeURIComponent(id)}/dashboard`)).json()) as DashboardView;
    // An answer for an exam no longer chosen (back, or another exam meanwhile) is dropped.
    if (state.wanted !== id) return;
    state.data = data;
    // A relay says how far it has forwarded the room; any other server answers 404.
    try {
      state.relay = (await (await api("/v1/relay")).json()) as RelayStatus;
    } catch {
      state.relay = null;
    }
    state.exam = id;
    state.loadedAt = new Date();
    state.error = null;
    location.hash = `#exam=${encodeURIComponent(id)}`;
  } catch (e) {
    fail(e);
    return;
  }
  render();
}

/** Downloads an authorized file: fetched with the token, saved under the server's name. */
async function download(path: string, fallback: string): Promise<void> {
  try {
    const response = await api(path);
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (/filename="([^"]+)"/.exec(disposition) || [])[1] || fallback;
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    fail(e);
  }
}

function ago(iso: string | null): string {
  if (!iso) return t("dash.never");
  const min = Math.floor((Date.now() - new Date(iso).getTime()) / 60_000);
  if (!Number.isFinite(min)) return iso;
  if (min < 1) return t("dash.ago_now");
  if (min < 60) return fill("dash.ago_minutes", { n: min });
  const hours = Math.floor(min / 60);
  if (hours < 48) return fill("dash.ago_hours", { n: hours });
  return fill("dash.ago_days", { n: Math.floor(hours / 24) });
}

function login(): HTMLElement {
  const input = h("input", { tid: "token", type: "password", autocomplete: "off", size: 40 });
  return h(
    "section",
    { tid: "login" },
    h("h1", null, t("dash.title")),
    h("p", { class: "muted" }, t("dash.token_intro")),
    h(
      "form",
      {
        class: "row",
        onsubmit: (e: Event) => {
          e.preventDefault();
          state.token = input.value.trim();
          if (!state.token) return;
          sessionStorage.setItem("sqlexam-token", state.token);
          void loadExams();
        },
      },
      h("label", { for: "token" }, t("dash.token_label")),
      input,
      h("button", { type: "submit", class: "primary", tid: "sign-in" }, t("dash.sign_in")),
    ),
  );
}

function examList(exams: ExamRow[]): HTMLElement {
  return h(
    "section",
    { tid: "exams" },
    h("h1", null, t("dash.exams")),
    exams.length === 0
      ? h("p", null, t("dash.no_exams"))
      : h(
          "ul",
          null,
          exams.map((x) =>
            h(
              "li",
              null,
              h("button", { type: "button", tid: `exam-${x.exam}`, onclick: () => void loadExam(x.exam) }, x.exam),
              " ",
              h("span", { class: "muted small" }, `${t("dash.version")} ${x.version}`),
            ),
          ),
        ),
  );
}

function relaySection(): HTMLElement | null {
  const r = state.relay;
  if (!r) return null;
  const waiting = r.unsent > 0;
  return h(
    "section",
    { tid: "relay", "data-state": r.state, class: waiting ? "card stale" : "card" },
    h("strong", null, t("dash.relay")),
    " — ",
    `${t("dash.relay_to")} ${r.server || ""}`,
    h("br"),
    waiting ? `${r.unsent} ${t("dash.relay_waiting")}` : t("dash.relay_done"),
    r.last_synced_wall_ms ? ` · ${t("dash.relay_last")}: ${ago(new Date(r.last_synced_wall_ms).toISOString())}` : "",
    r.message && waiting ? h("div", { class: "muted small" }, r.message) : null,
  );
}

function venuesSection(d: DashboardView): HTMLElement {
  return h(
    "section",
    { tid: "venues", "aria-labelledby": "venues-h" },
    h("h2", { id: "venues-h" }, t("dash.venues")),
    h(
      "div",
      { class: "cards" },
      d.venues.map((v) => {
        const stale = !v.last_record_at || Date.now() - new Date(v.last_record_at).getTime() > 30 * 60_000;
        return h(
          "div",
          { class: stale ? "card stale" : "card", "data-testid": "venue-card", "data-venue": v.venue },
          h("strong", null, v.venue || t("dash.no_venue")),
          h("span", null, `${v.candidates} ${t("dash.candidates_n")} · ${v.sessions} ${t("dash.sessions_n")}`),
          h("br"),
          h("span", { "data-testid": "freshness", title: v.last_record_at || "" }, `${t("dash.last_record")}: ${ago(v.last_record_at)}`),
          v.sessions_with_gaps > 0 ? [h("br"), h("span", { class: "badge" }, `${t("dash.waiting")}: ${v.sessions_with_gaps}`)] : null,
        );
      }),
    ),
  );
}

type Row = CandidateResult & { attention: number };

function sortValue(c: Row, key: SortKey): string | number {
  if (key === "candidate" || key === "name") return c[key];
  if (key === "venue") return c.venues.join(", ");
  if (key === "total" || key === "attempts" || key === "attention") return c[key];
  const p = c.problems.find((x) => x.problem === key);
  return p ? p.score : -1;
}

function resultsSection(d: DashboardView): HTMLElement {
  const results = d.results;
  const flagsBySession = new Map<string, number>();
  for (const f of d.flags) flagsBySession.set(f.session, (flagsBySession.get(f.session) || 0) + 1);
  const rows: Row[] = results.candidates.map((c) => ({
    ...c,
    attention:
      c.sessions.reduce((n, s) => n + (flagsBySession.get(s) || 0), 0) +
      d.gaps.filter((g) => c.sessions.includes(g.session)).length,
  }));
  const venues = [...new Set(rows.flatMap((c) => c.venues))].sort();
  const wrap = h("div", { class: "wrap" });
  const count = h("span", { class: "muted small", tid: "shown" });

  // The table alone is rebuilt on sorting and filtering: the controls keep focus and text.
  const update = (): void => {
    const needle = state.filter.trim().toLowerCase();
    const shown = rows
      .filter((c) => !needle || c.candidate.toLowerCase().includes(needle) || c.name.toLowerCase().includes(needle))
      .filter((c) => !state.venue || c.venues.includes(state.venue));
    const { key, dir } = state.sort;
    shown.sort((a, b) => {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      const order = typeof x === "string" || typeof y === "string" ? String(x).localeCompare(String(y)) : x - y;
      return (dir === "ascending" ? order : -order) || a.candidate.localeCompare(b.candidate);
    });
    const header = (k: SortKey, label: string, num = false): HTMLElement =>
      h(
        "th",
        { scope: "col", class: num ? "num" : null, "aria-sort": key === k ? dir : "none", "data-testid": `sort-${k}` },
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              state.sort = { key: k, dir: key === k && dir === "descending" ? "ascending" : "descending" };
              update();
              wrap.querySelector<HTMLElement>(`[data-testid="sort-${CSS.escape(k)}"] button`)?.focus();
            },
          },
          label,
        ),
      );
    count.textContent = `${shown.length} / ${rows.length} ${t("dash.shown")}`;
    wrap.replaceChildren(
      h(
        "table",
        { tid: "results-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            header("candidate", t("dash.candidate")),
            header("name", t("dash.name")),
            header("venue", t("dash.venue")),
            header("total", t("dash.total"), true),
            results.problems.map((p) => header(p.id, problemTitle(p), true)),
            header("attempts", t("dash.attempts"), true),
            header("attention", t("dash.attention"), true),
          ),
        ),
        h(
          "tbody",
          null,
          shown.map((c) =>
            h(
              "tr",
              { "data-testid": "candidate-row", "data-candidate": c.candidate },
              h("td", null, c.candidate),
              h("td", null, c.name),
              h("td", null, c.venues.join(", ")),
              h(
                "td",
                { class: "num", "data-testid": "total" },
                `${c.total} / ${c.max_total}`,
                c.counted ? null : h("span", { class: "badge bad", tid: "not-counted" }, t("dash.not_counted")),
              ),
              c.problems.map((p) =>
                h(
                  "td",
                  {
                    class: "num",
                    title: [p.verdict || "", p.claimed !== p.score ? fill("dash.claimed", { n: p.claimed }) : ""]
                      .filter(Boolean)
                      .join(" · "),
                  },
                  String(p.score),
                  p.awaiting_regrade > 0 ? h("span", { class: "badge", title: t("dash.awaiting") }, "…") : null,
                  p.disagreements > 0 ? h("span", { class: "badge bad", title: t("dash.disagrees") }, "≠") : null,
                ),
              ),
              h("td", { class: "num" }, String(c.attempts)),
              h("td", { class: "num" }, c.attention > 0 ? h("span", { class: "badge bad" }, String(c.attention)) : ""),
            ),
          ),
        ),
      ),
    );
  };
  update();
  return h(
    "section",
    { tid: "results", "aria-labelledby": "results-h" },
    h("h2", { id: "results-h" }, t("dash.results")),
    h(
      "div",
      { class: "row" },
      h("label", { for: "filter" }, t("dash.filter")),
      h("input", {
        tid: "filter",
        type: "search",
        placeholder: t("dash.filter_hint"),
        value: state.filter,
        oninput: (e: Event) => {
          state.filter = (e.target as HTMLInputElement).value;
          update();
        },
      }),
      h(
        "select",
        {
          tid: "venue-filter",
          "aria-label": t("dash.venue"),
          onchange: (e: Event) => {
            state.venue = (e.target as HTMLSelectElement).value;
            update();
          },
        },
        h("option", { value: "" }, t("dash.all_venues")),
        venues.map((v) => h("option", { value: v, selected: v === state.venue }, v)),
      ),
      count,
    ),
    wrap,
  );
}

/** A bar chart of how many candidates scored in each tenth of `max`. */
function histogram(title: string, scores: number[], max: number, tid: string): HTMLElement {
  const bins = 10;
  const counts: number[] = new Array<number>(bins).fill(0);
  for (const s of scores) counts[Math.min(bins - 1, max > 0 ? Math.floor((s / max) * bins) : 0)] += 1;
  const top = Math.max(1, ...counts);
  const w = 260;
  const hgt = 120;
  const pad = 18;
  const bw = (w - 2) / bins;
  const range = (i: number): string => `${Math.round((i * max) / bins)}–${Math.round(((i + 1) * max) / bins)}`;
  const label = counts.map((n, i) => `${range(i)}: ${n}`).join(", ");
  const bars: Child[] = counts.map((n, i) => {
    const bh = (n / top) * (hgt - 14);
    return [
      svg("rect", { class: "bar", x: 1 + i * bw + 1, y: hgt - bh, width: bw - 2, height: bh, "data-count": n }, svg("title", null, `${range(i)}: ${n}`)),
      n > 0 ? svg("text", { x: 1 + i * bw + bw / 2, y: hgt - bh - 3, "text-anchor": "middle" }, String(n)) : null,
    ];
  });
  return h(
    "div",
    { class: "chart", "data-testid": tid },
    h("h3", null, title),
    svg(
      "svg",
      { viewBox: `0 0 ${w} ${hgt + pad}`, role: "img", "aria-label": `${title}: ${label}` },
      bars,
      svg("line", { x1: 0, x2: w, y1: hgt, y2: hgt, stroke: "#999" }),
      svg("text", { x: 1, y: hgt + 13 }, "0"),
      svg("text", { x: w - 1, y: hgt + 13, "text-anchor": "end" }, String(max)),
    ),
  );
}

function chartsSection(d: DashboardView): HTMLElement {
  const r = d.results;
  return h(
    "section",
    { tid: "histograms", "aria-labelledby": "charts-h" },
    h("h2", { id: "charts-h" }, t("dash.histograms")),
    h(
      "div",
      { class: "charts" },
      histogram(
        t("dash.total_chart"),
        r.candidates.map((c) => c.total),
        r.problems.reduce((n, p) => n + p.max_score, 0),
        "histogram-total",
      ),
      r.problems.map((p, i) =>
        histogram(
          problemTitle(p),
          r.candidates.map((c) => c.problems[i].score),
          p.max_score,
          `histogram-${p.id}`,
        ),
      ),
    ),
  );
}

/** Posts an organizer's decision on a withheld session, then reloads the exam. */
async function decide(exam: string, session: string, count: boolean, note: string): Promise<void> {
  try {
    await api(`/v1/exams/${encodeURIComponent(exam)}/sessions/${encodeURIComponent(session)}/decision`, {
      method: "POST",
      body: JSON.stringify({ count, note }),
    });
  } catch (e) {
    fail(e);
    return;
  }
  await loadExam(exam);
}

function withheldSection(d: DashboardView, exam: string): HTMLElement {
  const rows = d.results.candidates.flatMap((c) => (c.withheld || []).map((w) => ({ c, w })));
  const decided = new Map(d.decisions.map((x) => [x.session, x]));
  return h(
    "section",
    { tid: "withheld", "aria-labelledby": "withheld-h" },
    h("h2", { id: "withheld-h" }, t("dash.withheld")),
    rows.length === 0
      ? h("p", { tid: "no-withheld" }, t("dash.no_withheld"))
      : [
          h("p", { class: "muted small" }, t("dash.withheld_intro")),
          h(
            "div",
            { class: "wrap" },
            h(
              "table",
              { tid: "withheld-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", { scope: "col" }, t("dash.candidate")),
                  h("th", { scope: "col" }, t("dash.session")),
                  h("th", { scope: "col" }, t("dash.reasons")),
                  h("th", { scope: "col" }, t("dash.note")),
                ),
              ),
              h(
                "tbody",
                null,
                rows.map(({ c, w }) => {
                  const noteId = `note-${w.session}`;
                  const note = h("input", { id: noteId, type: "text", size: 28, "aria-label": `${t("dash.note")} — ${w.session}` });
                  const send = (count: boolean): void => {
                    if (!note.value.trim()) {
                      state.error = t("dash.note_needed");
                      render();
                      return;
                    }
                    void decide(exam, w.session, count, note.value.trim());
                  };
                  const last = decided.get(w.session);
                  return h(
                    "tr",
                    { "data-testid": "withheld-row", "data-session": w.session },
                    h("td", null, `${c.candidate} ${c.name}`),
                    h("td", null, h("code", null, w.session.slice(0, 12))),
                    h("td", null, w.reasons.map((r) => named("withheld", r)).join(", ")),
                    h(
                      "td",
                      null,
                      note,
                      " ",
                      h("button", { type: "button", tid: "count-it", onclick: () => send(true) }, t("dash.count_it")),
                      " ",
                      h("button", { type: "button", tid: "keep-out", onclick: () => send(false) }, t("dash.keep_out")),
                      last ? h("div", { class: "muted small" }, `${t("dash.decided")}: ${last.note} (${last.by}, ${last.decided_at})`) : null,
                    ),
                  );
                }),
              ),
            ),
          ),
        ],
  );
}

function flagsSection(d: DashboardView): HTMLElement {
  const candidateOf = new Map<string, string>();
  for (const c of d.results.candidates) for (const s of c.sessions) candidateOf.set(s, c.candidate);
  for (const s of d.sessions) if (!candidateOf.has(s.session)) candidateOf.set(s.session, s.candidate);
  const all: Flag[] = [
    ...d.flags,
    ...d.gaps.map((g) => ({ session: g.session, seq: g.from, kind: "gap", detail: `${g.from}–${g.to}` })),
  ];
  const kinds = [...new Set(all.map((f) => f.kind))].sort();
  const shown = all.filter((f) => !state.kind || f.kind === state.kind);
  return h(
    "section",
    { tid: "flags", "aria-labelledby": "flags-h" },
    h("h2", { id: "flags-h" }, t("dash.flags")),
    all.length === 0
      ? h("p", { tid: "no-flags" }, t("dash.no_flags"))
      : [
          h(
            "div",
            { class: "row" },
            h(
              "select",
              {
                tid: "kind-filter",
                "aria-label": t("dash.kind"),
                onchange: (e: Event) => {
                  state.kind = (e.target as HTMLSelectElement).value;
                  render();
                },
              },
              h("option", { value: "" }, t("dash.all_kinds")),
              kinds.map((k) => h("option", { value: k, selected: k === state.kind }, kindName(k))),
            ),
          ),
          h(
            "div",
            { class: "wrap" },
            h(
              "table",
              { tid: "flags-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", null, t("dash.kind")),
                  h("th", null, t("dash.candidate")),
                  h("th", null, t("dash.session")),
                  h("th", { class: "num" }, t("dash.record")),
                  h("th", null, t("dash.detail")),
                ),
              ),
              h(
                "tbody",
                null,
                shown.map((f) =>
                  h(
                    "tr",
                    { "data-testid": "flag-row", "data-kind": f.kind },
                    h("td", null, kindName(f.kind)),
                    h("td", null, candidateOf.get(f.session) || ""),
                    h("td", null, h("code", null, f.session.slice(0, 12))),
                    h("td", { class: "num" }, String(f.seq)),
                    h("td", null, f.detail),
                  ),
                ),
              ),
            ),
          ),
        ],
  );
}

function examView(d: DashboardView, exam: string): Child[] {
  const id = encodeURIComponent(exam);
  const lang: Lang = getLang();
  const link = (label: string, path: string, name: string, tid: string): HTMLElement =>
    h(
      "a",
      {
        href: "#",
        tid,
        onclick: (e: Event) => {
          e.preventDefault();
          void download(path, name);
        },
      },
      label,
    );
  const back = (): void => {
    state.wanted = null;
    state.exam = null;
    state.data = null;
    location.hash = "";
    render();
  };
  return [
    h(
      "section",
      { tid: "exam-head" },
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", tid: "back", onclick: back }, `← ${t("dash.back")}`),
        h("h1", { tid: "exam-title" }, `${d.results.exam.id} ${d.results.exam.version}`),
        h("button", { type: "button", tid: "refresh", onclick: () => void loadExam(exam) }, t("dash.refresh")),
        h(
          "span",
          { class: "muted small" },
          `${t("dash.updated")}: ${state.loadedAt?.toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB") ?? ""}`,
        ),
      ),
      h(
        "p",
        { class: "downloads" },
        `${t("dash.downloads")}: `,
        link("CSV", `/v1/exams/${id}/results.csv?lang=${lang}`, "results.csv", "download-csv"),
        link("Excel (XLSX)", `/v1/exams/${id}/results.xlsx?lang=${lang}`, "results.xlsx", "download-xlsx"),
        link("JSON", `/v1/exams/${id}/results`, "results.json", "download-json"),
        link("CLICS scoreboard.json", `/v1/exams/${id}/scoreboard.json`, "scoreboard.json", "download-scoreboard"),
        link("CLICS results.tsv", `/v1/exams/${id}/results.tsv`, "results.tsv", "download-tsv"),
      ),
    ),
    d.pack_held ? null : h("p", { class: "error", role: "status", tid: "no-pack" }, fill("dash.no_pack", { exam })),
    d.pack_held && !d.roster ? h("p", { class: "card stale", role: "note", tid: "no-roster" }, t("dash.no_roster")) : null,
    relaySection(),
    venuesSection(d),
    resultsSection(d),
    withheldSection(d, exam),
    chartsSection(d),
    flagsSection(d),
  ];
}

function render(): void {
  document.title = `sqlexam — ${t("dash.title")}`;
  for (const b of document.querySelectorAll<HTMLElement>(".lang button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === getLang()));
  }
  const signOut = (): void => {
    state.token = "";
    sessionStorage.removeItem("sqlexam-token");
    state.exams = null;
    state.data = null;
    render();
  };
  document
    .getElementById("where")
    ?.replaceChildren(state.token ? h("button", { type: "button", tid: "sign-out", onclick: signOut }, t("dash.sign_out")) : "");
  const app = document.getElementById("app");
  if (!app) return;
  // A refresh must not take the keyboard away from whoever is typing or choosing.
  const focused = document.activeElement?.id;
  const body: Child = !state.token
    ? login()
    : state.data && state.exam
      ? examView(state.data, state.exam)
      : state.exams
        ? examList(state.exams)
        : h("p", { class: "muted" }, "…");
  app.replaceChildren();
  const error = state.error ? h("p", { class: "error", role: "alert", tid: "error" }, state.error) : null;
  for (const node of [error, body].flat(2)) if (node instanceof Node) app.append(node);
  const again = focused ? document.getElementById(focused) : null;
  if (again) {
    again.focus();
    if (again instanceof HTMLInputElement && again.type !== "password") {
      again.setSelectionRange(again.value.length, again.value.length);
    }
  }
}

for (const b of document.querySelectorAll<HTMLElement>(".lang button")) {
  b.addEventListener("click", () => {
    const lang: Lang = b.dataset.lang === "ja" ? "ja" : "en";
    setLang(lang);
    localStorage.setItem("sqlexam-lang", lang);
    render();
  });
}

render();
if (state.token) {
  const wanted = /^#exam=(.+)$/.exec(location.hash);
  if (wanted) void loadExam(decodeURIComponent(wanted[1]));
  else void loadExams();
}
// Freshness ("12 min ago") and new records, without a reload.
setInterval(() => {
  if (state.token && state.exam) void loadExam(state.exam);
}, 30_000);
