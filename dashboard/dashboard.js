// The organizer's dashboard: a page the server serves as it is (no build step), over the
// API in docs/api.md with the organizer token. Every text from the server (names, ids,
// details) goes into the page as text, never as HTML.

// Every text comes from the one catalogue the app, the exports and the CLI share
// (locales/*.json, served beside this page): the page's own under "dash.", the kinds of
// flags under "incident.".
const CATALOGUE = Object.fromEntries(
  await Promise.all(["en", "ja"].map(async (lang) => [lang, await (await fetch(`locales/${lang}.json`)).json()])),
);

const state = {
  lang: localStorage.getItem("sqlexam-lang") === "ja" ? "ja" : "en",
  token: sessionStorage.getItem("sqlexam-token") || "",
  exams: null,
  exam: null,
  data: null,
  error: null,
  sort: { key: "total", dir: "descending" },
  filter: "",
  venue: "",
  kind: "",
  loadedAt: null,
  relay: null,
  wanted: null,
};

const text = (key) => CATALOGUE[state.lang][key];
const t = (key) => text(`dash.${key}`) ?? key;
const kindName = (kind) => text(`incident.${kind}`) ?? kind;

/** h("td", {class: "num"}, "12"): attributes set as attributes, children as text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElementNS(
    tag === "svg" || tag === "rect" || tag === "text" || tag === "title" || tag === "line" ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml",
    tag,
  );
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "tid") el.setAttribute("data-testid", v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, body.code || String(response.status), body.message || response.statusText);
  }
  return response;
}

function fail(e) {
  if (e instanceof ApiError && e.status === 401) {
    state.token = "";
    sessionStorage.removeItem("sqlexam-token");
    state.error = t("unauthorized");
  } else {
    state.error = `${t("failed")} ${e.message}${e.code ? ` (${e.code})` : ""}`;
  }
  render();
}

async function loadExams() {
  try {
    state.exams = await (await api("/v1/exams")).json();
    state.error = null;
  } catch (e) { fail(e); return; }
  render();
}

async function loadExam(id) {
  state.wanted = id;
  try {
    const data = await (await api(`/v1/exams/${encodeURIComponent(id)}/dashboard`)).json();
    // An answer for an exam no longer chosen (back, or another exam meanwhile) is dropped.
    if (state.wanted !== id) return;
    state.data = data;
    // A relay says how far it has forwarded the room; any other server answers 404.
    try { state.relay = await (await api("/v1/relay")).json(); } catch { state.relay = null; }
    state.exam = id;
    state.loadedAt = new Date();
    state.error = null;
    location.hash = `#exam=${encodeURIComponent(id)}`;
  } catch (e) { fail(e); return; }
  render();
}

/** Downloads an authorized file: fetched with the token, saved under the server's name. */
async function download(path, fallback) {
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
  } catch (e) { fail(e); }
}

function ago(iso) {
  if (!iso) return t("never");
  const ms = Date.now() - new Date(iso).getTime();
  const min = Math.floor(ms / 60_000);
  if (!Number.isFinite(min)) return iso;
  if (min < 1) return t("ago_now");
  const ja = state.lang === "ja";
  if (min < 60) return ja ? `${min} 分前` : `${min} min ago`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return ja ? `${hours} 時間前` : `${hours} h ago`;
  return ja ? `${Math.floor(hours / 24)} 日前` : `${Math.floor(hours / 24)} days ago`;
}

function login() {
  let input;
  return h("section", { tid: "login" },
    h("h1", null, t("title")),
    h("p", { class: "muted" }, t("token_intro")),
    h("form", {
      class: "row",
      onsubmit: (e) => {
        e.preventDefault();
        state.token = input.value.trim();
        if (!state.token) return;
        sessionStorage.setItem("sqlexam-token", state.token);
        void loadExams();
      },
    },
    h("label", { for: "token" }, t("token_label")),
    input = h("input", { id: "token", tid: "token", type: "password", autocomplete: "off", size: 40 }),
    h("button", { type: "submit", class: "primary", tid: "sign-in" }, t("sign_in"))));
}

function examList() {
  return h("section", { tid: "exams" },
    h("h1", null, t("exams")),
    state.exams.length === 0 ? h("p", null, t("no_exams")) : h("ul", null, state.exams.map((x) =>
      h("li", null,
        h("button", { type: "button", tid: `exam-${x.exam}`, onclick: () => void loadExam(x.exam) }, x.exam),
        " ", h("span", { class: "muted small" }, `${t("version")} ${x.version}`)))));
}

function relaySection() {
  const r = state.relay;
  if (!r) return null;
  const waiting = r.unsent > 0;
  return h("section", { tid: "relay", "data-state": r.state, class: waiting ? "card stale" : "card" },
    h("strong", null, t("relay")), " — ", `${t("relay_to")} ${r.server || ""}`, h("br"),
    waiting ? `${r.unsent} ${t("relay_waiting")}` : t("relay_done"),
    r.last_synced_wall_ms ? ` · ${t("relay_last")}: ${ago(new Date(r.last_synced_wall_ms).toISOString())}` : "",
    r.message && waiting ? h("div", { class: "muted small" }, r.message) : null);
}

function venuesSection(d) {
  return h("section", { tid: "venues", "aria-labelledby": "venues-h" },
    h("h2", { id: "venues-h" }, t("venues")),
    h("div", { class: "cards" }, d.venues.map((v) => {
      const stale = !v.last_record_at || Date.now() - new Date(v.last_record_at).getTime() > 30 * 60_000;
      return h("div", { class: stale ? "card stale" : "card", tid: "venue-card", "data-venue": v.venue },
        h("strong", null, v.venue || t("no_venue")),
        h("span", null, `${v.candidates} ${t("candidates_n")} · ${v.sessions} ${t("sessions_n")}`), h("br"),
        h("span", { tid: "freshness", title: v.last_record_at || "" }, `${t("last_record")}: ${ago(v.last_record_at)}`),
        v.sessions_with_gaps > 0 ? [h("br"), h("span", { class: "badge" }, `${t("waiting")}: ${v.sessions_with_gaps}`)] : null);
    })));
}

function sortValue(c, key) {
  if (key === "candidate" || key === "name") return c[key];
  if (key === "venue") return c.venues.join(", ");
  if (key === "total" || key === "attempts") return c[key];
  if (key === "attention") return c.attention;
  const p = c.problems.find((x) => x.problem === key);
  return p ? p.score : -1;
}

function resultsSection(d) {
  const results = d.results;
  const flagsBySession = new Map();
  for (const f of d.flags) flagsBySession.set(f.session, (flagsBySession.get(f.session) || 0) + 1);
  const rows = results.candidates.map((c) => ({
    ...c,
    attention: c.sessions.reduce((n, s) => n + (flagsBySession.get(s) || 0), 0)
      + d.gaps.filter((g) => c.sessions.includes(g.session)).length,
  }));
  const venues = [...new Set(rows.flatMap((c) => c.venues))].sort();
  const wrap = h("div", { class: "wrap" });
  const count = h("span", { class: "muted small", tid: "shown" });

  // The table alone is rebuilt on sorting and filtering: the controls keep focus and text.
  const update = () => {
    const needle = state.filter.trim().toLowerCase();
    const shown = rows
      .filter((c) => !needle || c.candidate.toLowerCase().includes(needle) || c.name.toLowerCase().includes(needle))
      .filter((c) => !state.venue || c.venues.includes(state.venue));
    const { key, dir } = state.sort;
    shown.sort((a, b) => {
      const x = sortValue(a, key), y = sortValue(b, key);
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return (dir === "ascending" ? order : -order) || a.candidate.localeCompare(b.candidate);
    });
    const header = (k, label, num) => h("th", {
      scope: "col", class: num ? "num" : null, "aria-sort": key === k ? dir : "none", tid: `sort-${k}`,
    }, h("button", {
      type: "button",
      onclick: () => {
        state.sort = { key: k, dir: key === k && dir === "descending" ? "ascending" : "descending" };
        update();
        wrap.querySelector(`[data-testid="sort-${CSS.escape(k)}"] button`)?.focus();
      },
    }, label));
    count.textContent = `${shown.length} / ${rows.length} ${t("shown")}`;
    wrap.replaceChildren(h("table", { tid: "results-table" },
      h("thead", null, h("tr", null,
        header("candidate", t("candidate")), header("name", t("name")), header("venue", t("venue")),
        header("total", t("total"), true),
        results.problems.map((p) => header(p.id, p.id, true)),
        header("attempts", t("attempts"), true), header("attention", t("attention"), true))),
      h("tbody", null, shown.map((c) => h("tr", { tid: "candidate-row", "data-candidate": c.candidate },
        h("td", null, c.candidate), h("td", null, c.name), h("td", null, c.venues.join(", ")),
        h("td", { class: "num", tid: "total" }, `${c.total} / ${c.max_total}`),
        c.problems.map((p) => h("td", { class: "num", title: p.verdict || "" }, String(p.score),
          p.awaiting_regrade > 0 ? h("span", { class: "badge", title: t("awaiting") }, "…") : null,
          p.disagreements > 0 ? h("span", { class: "badge bad", title: t("disagrees") }, "≠") : null)),
        h("td", { class: "num" }, String(c.attempts)),
        h("td", { class: "num" }, c.attention > 0 ? h("span", { class: "badge bad" }, String(c.attention)) : ""))))));
  };
  update();
  return h("section", { tid: "results", "aria-labelledby": "results-h" },
    h("h2", { id: "results-h" }, t("results")),
    h("div", { class: "row" },
      h("label", { for: "filter" }, t("filter")),
      h("input", {
        id: "filter", tid: "filter", type: "search", placeholder: t("filter_hint"), value: state.filter,
        oninput: (e) => { state.filter = e.target.value; update(); },
      }),
      h("select", {
        id: "venue-filter", tid: "venue-filter", "aria-label": t("venue"),
        onchange: (e) => { state.venue = e.target.value; update(); },
      }, h("option", { value: "" }, t("all_venues")), venues.map((v) => h("option", { value: v, selected: v === state.venue }, v))),
      count),
    wrap);
}

/** A bar chart of how many candidates scored in each tenth of `max`. */
function histogram(title, scores, max, tid) {
  const bins = 10;
  const counts = new Array(bins).fill(0);
  for (const s of scores) counts[Math.min(bins - 1, max > 0 ? Math.floor((s / max) * bins) : 0)] += 1;
  const top = Math.max(1, ...counts);
  const w = 260, hgt = 120, pad = 18, bw = (w - 2) / bins;
  const label = counts.map((n, i) => `${Math.round((i * max) / bins)}–${Math.round(((i + 1) * max) / bins)}: ${n}`).join(", ");
  return h("div", { class: "chart", tid },
    h("h3", null, title),
    h("svg", { viewBox: `0 0 ${w} ${hgt + pad}`, role: "img", "aria-label": `${title}: ${label}` },
      counts.map((n, i) => {
        const bh = (n / top) * (hgt - 14);
        return [
          h("rect", { class: "bar", x: 1 + i * bw + 1, y: hgt - bh, width: bw - 2, height: bh, "data-count": n }, h("title", null, `${Math.round((i * max) / bins)}–${Math.round(((i + 1) * max) / bins)}: ${n}`)),
          n > 0 ? h("text", { x: 1 + i * bw + bw / 2, y: hgt - bh - 3, "text-anchor": "middle" }, String(n)) : null,
        ];
      }),
      h("line", { x1: 0, x2: w, y1: hgt, y2: hgt, stroke: "#999" }),
      h("text", { x: 1, y: hgt + 13 }, "0"),
      h("text", { x: w - 1, y: hgt + 13, "text-anchor": "end" }, String(max))));
}

function chartsSection(d) {
  const r = d.results;
  return h("section", { tid: "histograms", "aria-labelledby": "charts-h" },
    h("h2", { id: "charts-h" }, t("histograms")),
    h("div", { class: "charts" },
      histogram(t("total_chart"), r.candidates.map((c) => c.total), r.problems.reduce((n, p) => n + p.max_score, 0), "histogram-total"),
      r.problems.map((p, i) => histogram(p.id, r.candidates.map((c) => c.problems[i].score), p.max_score, `histogram-${p.id}`))));
}

function flagsSection(d) {
  const candidateOf = new Map();
  for (const c of d.results.candidates) for (const s of c.sessions) candidateOf.set(s, c.candidate);
  for (const s of d.sessions) if (!candidateOf.has(s.session)) candidateOf.set(s.session, s.candidate);
  const all = [
    ...d.flags.map((f) => ({ ...f })),
    ...d.gaps.map((g) => ({ session: g.session, seq: g.from, kind: "gap", detail: `${g.from}–${g.to}` })),
  ];
  const kinds = [...new Set(all.map((f) => f.kind))].sort();
  const shown = all.filter((f) => !state.kind || f.kind === state.kind);
  return h("section", { tid: "flags", "aria-labelledby": "flags-h" },
    h("h2", { id: "flags-h" }, t("flags")),
    all.length === 0 ? h("p", { tid: "no-flags" }, t("no_flags")) : [
      h("div", { class: "row" }, h("select", {
        id: "kind-filter", tid: "kind-filter", "aria-label": t("kind"),
        onchange: (e) => { state.kind = e.target.value; render(); },
      }, h("option", { value: "" }, t("all_kinds")), kinds.map((k) => h("option", { value: k, selected: k === state.kind }, kindName(k))))),
      h("div", { class: "wrap" }, h("table", { tid: "flags-table" },
        h("thead", null, h("tr", null, h("th", null, t("kind")), h("th", null, t("candidate")), h("th", null, t("session")),
          h("th", { class: "num" }, t("record")), h("th", null, t("detail")))),
        h("tbody", null, shown.map((f) => h("tr", { tid: "flag-row", "data-kind": f.kind },
          h("td", null, kindName(f.kind)), h("td", null, candidateOf.get(f.session) || ""),
          h("td", null, h("code", null, f.session.slice(0, 12))), h("td", { class: "num" }, String(f.seq)),
          h("td", null, f.detail)))))),
    ]);
}

function examView() {
  const d = state.data;
  const id = encodeURIComponent(state.exam);
  const lang = state.lang;
  const link = (label, path, name, tid) => h("a", {
    href: "#", tid,
    onclick: (e) => { e.preventDefault(); void download(path, name); },
  }, label);
  return [
    h("section", { tid: "exam-head" },
      h("div", { class: "row" },
        h("button", { type: "button", tid: "back", onclick: () => { state.wanted = null; state.exam = null; state.data = null; location.hash = ""; render(); } }, `← ${t("back")}`),
        h("h1", { tid: "exam-title" }, `${d.results.exam.id} ${d.results.exam.version}`),
        h("button", { type: "button", tid: "refresh", onclick: () => void loadExam(state.exam) }, t("refresh")),
        h("span", { class: "muted small" }, `${t("updated")}: ${state.loadedAt.toLocaleTimeString(lang === "ja" ? "ja-JP" : "en-GB")}`)),
      h("p", { class: "downloads" }, `${t("downloads")}: `,
        link("CSV", `/v1/exams/${id}/results.csv?lang=${lang}`, "results.csv", "download-csv"),
        link("Excel (XLSX)", `/v1/exams/${id}/results.xlsx?lang=${lang}`, "results.xlsx", "download-xlsx"),
        link("JSON", `/v1/exams/${id}/results`, "results.json", "download-json"),
        link("CLICS scoreboard.json", `/v1/exams/${id}/scoreboard.json`, "scoreboard.json", "download-scoreboard"),
        link("CLICS results.tsv", `/v1/exams/${id}/results.tsv`, "results.tsv", "download-tsv"))),
    relaySection(),
    venuesSection(d),
    resultsSection(d),
    chartsSection(d),
    flagsSection(d),
  ];
}

function render() {
  document.documentElement.lang = state.lang;
  document.title = `sqlexam — ${t("title")}`;
  for (const b of document.querySelectorAll(".lang button")) b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  const where = document.getElementById("where");
  where.replaceChildren(state.token ? h("button", {
    type: "button", tid: "sign-out",
    onclick: () => { state.token = ""; sessionStorage.removeItem("sqlexam-token"); state.exams = null; state.data = null; render(); },
  }, t("sign_out")) : "");
  const app = document.getElementById("app");
  // A refresh must not take the keyboard away from whoever is typing or choosing.
  const focused = document.activeElement && document.activeElement.id;
  const body = !state.token ? login() : state.data ? examView() : state.exams ? examList() : h("p", { class: "muted" }, "…");
  app.replaceChildren(...[state.error ? h("p", { class: "error", role: "alert", tid: "error" }, state.error) : null, body].flat().filter(Boolean));
  const again = focused && document.getElementById(focused);
  if (again) {
    again.focus();
    if (again instanceof HTMLInputElement && again.type !== "password") again.setSelectionRange?.(again.value.length, again.value.length);
  }
}

for (const b of document.querySelectorAll(".lang button")) {
  b.addEventListener("click", () => {
    state.lang = b.dataset.lang;
    localStorage.setItem("sqlexam-lang", state.lang);
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
setInterval(() => { if (state.token && state.exam) void loadExam(state.exam); }, 30_000);
