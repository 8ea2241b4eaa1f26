// Every sentence the UI shows, in English and Japanese, from the one catalogue the app, the
// dashboard, the exports and the CLI share (locales/en.json, locales/ja.json; see
// crates/i18n). Screens never hold text of their own: they call t() or the sentence makers
// below, and a language switch re-renders them.
import type { AppError, Finding, Lang, Localized, Refusal, Verdict } from "./backend";
import enText from "../../locales/en.json";
import jaText from "../../locales/ja.json";

type Catalogue = typeof enText;
type CatalogueKey = keyof Catalogue;
/** Plural forms, chosen by the value `n` (Japanese has one form). */
type Plural = { one: string; other: string };
// Each language must have every key of the other: a missing one does not type-check.
const EN: Record<keyof typeof jaText, string | Plural> = enText;
const JA: Record<CatalogueKey, string | Plural> = jaText;

/** The keys of plain texts: what t() takes. */
export type Key = { [K in CatalogueKey]: Catalogue[K] extends string ? K : never }[CatalogueKey];

let current: Lang = "en";
export const getLang = (): Lang => current;
export const setLang = (lang: Lang): void => {
  current = lang;
  document.documentElement.lang = lang;
};
const ja = (): boolean => current === "ja";
/** A pack's or problem's own text in the current language (falls back to the other one). */
export const loc = (l: Localized): string => (current === "ja" ? l.ja || l.en : l.en || l.ja);

const entry = (key: CatalogueKey): string | Plural => (ja() ? JA : EN)[key];
const nf = (n: number): string => n.toLocaleString(ja() ? "ja-JP" : "en-US");

export const t = (key: Key): string => {
  const e = entry(key);
  return typeof e === "string" ? e : e.other;
};

/** A text with each `{name}` filled in (numbers as the language writes them); a plural
 * text takes its form from `n`. */
export function fill(key: CatalogueKey, values: Record<string, string | number>): string {
  const e = entry(key);
  const template =
    typeof e === "string"
      ? e
      : new Intl.PluralRules(current).select(Number(values.n)) === "one"
        ? e.one
        : e.other;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) return whole;
    return typeof v === "number" ? nf(v) : v;
  });
}

/** A key the catalogue may hold (`prefix` + a code from the backend). */
const known = (key: string): key is CatalogueKey => key in EN;

const SYNC_STATES = new Set(["off", "offline", "syncing", "synced"]);

export const f = {
  points: (n: number) => fill("n.points", { n }),
  score: (score: number, max: number) => fill("n.score", { score, max }),
  rows: (n: number) => fill("n.rows", { n }),
  moreRows: (n: number) => fill("n.more_rows", { n }),
  // The sync indicator: the long form, and a short one for narrow windows.
  syncLong: (state: string, n: number, at: string) => {
    const records = fill("n.records", { n });
    if (state === "synced") return at ? fill("sync.long.synced", { at }) : t("sync.long.synced_nothing");
    const s = SYNC_STATES.has(state) ? state : "refused";
    return fill(`sync.long.${s}` as CatalogueKey, { records });
  },
  syncShort: (state: string, n: number, at: string) => {
    const s = SYNC_STATES.has(state) ? state : "refused";
    return fill(`sync.short.${s}` as CatalogueKey, { n, at }).trim();
  },
  // Records: check-in, submissions, proctor actions — not results.
  syncHint: () => t("sync.hint"),
  version: (v: string) => fill("n.version", { v }),
  savedTo: (path: string) => fill("saved_to", { path }),
  trustAnchor: (name: string, key: string) => fill("trust.anchor", { name, key }),
  trustEndorsed: (name: string, key: string, by: string, until: string) =>
    fill("trust.endorsed", { name, key, by, until }),
  window: (a: string, b: string) => `${a} – ${b}`,
  rowsSummary: (table: string | null, e: number, a: number, missing: number, extra: number) =>
    fill("grading.rows_summary", {
      table: table ? fill("grading.table_prefix", { table }) : "",
      n: e,
      actual: a,
      missing,
      extra,
    }),
  columnCount: (expected: number, actual: number) => fill("grading.column_count", { expected, actual }),
  columnNames: (e: string[], a: string[]) =>
    fill("grading.column_names", { expected: e.join(", "), actual: a.join(", ") }),
  firstDiff: (row: number, column: number | null) =>
    column !== null ? fill("grading.first_diff_column", { row, column }) : fill("grading.first_diff", { row }),
  runtimeError: (line: number) => fill("grading.runtime_error", { line }),
  sqlErrorAt: (line: number, column: number) => fill("grading.sql_error_at", { line, column }),
  // The limit is about efficiency: the query may well be right, but did far too much work.
  timeLimit: (steps: number, limit: number, wall: boolean) =>
    (wall ? t("grading.time_limit_wall") : fill("grading.time_limit_steps", { steps, limit })) +
    t("grading.time_limit_advice"),
  timeLimitRule: (seconds: number) => {
    const n = seconds < 10 ? Math.max(0.1, Math.round(seconds * 10) / 10) : Math.round(seconds);
    return fill("grading.time_limit_rule", { n });
  },
  outputLimit: (rows: number, limit: number, bytes: number) => fill("grading.output_limit", { rows, limit, bytes }),
  expectedTable: (name: string) => fill("grading.expected_table", { name }),
  yourTable: (name: string) => fill("grading.your_table", { name }),
  sampleName: (name: string) => fill("sample_name", { name }),
  submissionNo: (id: number) => fill("submission_no", { id: String(id) }),
  exported: (records: number, folder: string) => fill("proctor.exported", { records, folder }),
  fingerprint: (fp: string) => fill("proctor.fingerprint", { fp }),
  extended: (minutes: number) => fill("proctor.extended", { minutes }),
  endedAt: (score: number, max: number) => fill("end.total", { score, max }),
  candidate: (id: string, name: string) => (name ? `${id} — ${name}` : id),
};

/** A record summary from the backend ("problem · verdict · score", "extend · +10 min",
 * "time_up" …) with its codes translated; ids and numbers stay as they are. */
export function recordSummary(summary: string): string {
  return summary
    .split(" · ")
    .map((part) => {
      const minutes = /^\+(\d+) min$/.exec(part);
      if (minutes) return fill("n.minutes_added", { minutes: minutes[1] });
      const word = `summary.${part}`;
      if (known(word)) return fill(word, {});
      return verdictName(part as Verdict);
    })
    .join(" · ");
}

/** A code's text under `prefix`, or the code itself when the catalogue has none. */
export const named = (prefix: string, code: string): string => {
  const key = `${prefix}.${code}`;
  return known(key) ? fill(key, {}) : code;
};

export const verdictName = (v: Verdict): string => named("verdict", v);

/** Record kinds of docs/record-format.md; unknown kinds are shown as they are. */
export const recordKind = (kind: string): string => named("record_kind", kind);

/** Why a submission was recorded but not graded (its `submission_refused` reason). */
export function refusedHint(reason: string | null): string {
  const key = `refused.${reason}`;
  return reason && known(key) ? fill(key, {}) : t("h_refused_hint");
}

/** A problem found in the records, as a sentence (finding kinds of docs/record-format.md). */
export function findingText(found: Finding): string {
  const at = found.seq !== undefined ? fill("record_at", { seq: String(found.seq) }) : "";
  return at + named("finding", found.kind);
}

/** A refused query as a sentence (refusal codes from docs/cli.md). */
export function refusalText(r: Refusal): string {
  const key = `refusal.${r.code}`;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(r)) values[name] = String(value ?? "?");
  return known(key) ? fill(key, values) : fill("refusal.unknown", { code: r.code });
}

/**
 * Errors whose English `message` adds facts the sentence lacks (a path, a damaged table):
 * shown as technical detail for the proctor. For the rest the sentence says it all.
 */
const DETAIL_CODES = new Set(["write_failed", "pack_copy_missing", "bad_server", "offline", "refused", "not_found", "wrong_exam", "untrusted_server", "config", "server_error", "io", "store", "store_damaged", "store_tampered", "store_busy", "contents", "manifest", "pack", "key", "internal"]);
export const errorDetailShown = (e: AppError): boolean =>
  !!e.message && (DETAIL_CODES.has(e.code) || !known(`error.${e.code}`));

/** The translated sentence for a backend error, by its code. */
export function errorText(e: AppError): string {
  const key = `error.${e.code}`;
  return known(key) ? fill(key, {}) : fill("error.unknown", { code: e.code });
}

/** CodeMirror's own phrases (fold gutter, search panel, completion list …): its English
 * phrase → ours. */
export function editorPhrases(): Record<string, string> {
  if (!ja()) return {};
  const phrases: Record<string, string> = {};
  for (const key of Object.keys(EN) as CatalogueKey[]) {
    if (!key.startsWith("codemirror.")) continue;
    const en = EN[key];
    const jp = JA[key];
    if (typeof en === "string" && typeof jp === "string") phrases[en] = jp;
  }
  return phrases;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(ja() ? "ja-JP" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** H:MM:SS (or M:SS under an hour). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, "0");
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}
