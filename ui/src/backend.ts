// The one module through which the UI talks to the Rust backend (Tauri commands and
// events). Tests can replace it with a fake. Types mirror the JSON the backend sends;
// see docs/cli.md (gradings, cells) and docs/record-format.md.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Lang = "en" | "ja";
export interface Localized { en: string; ja: string }
/** Every backend error: `code` is stable (translated by the UI), `message` is English detail. */
export interface AppError { code: string; message: string }

export type Verdict =
  | "accepted" | "wrong_answer" | "runtime_error"
  | "time_limit_exceeded" | "output_limit_exceeded" | "forbidden";
/**
 * NULL → null, INTEGER → number, REAL → {real: number}, TEXT → string, BLOB → {blob: hex}.
 * The shell tags reals (src-tauri/src/cells.rs): as plain JSON numbers, JSON.parse would
 * turn REAL 2.0 into 2, and the candidate could not tell it from INTEGER 2.
 */
export type Cell = null | number | string | { real: number } | { blob: string };
export interface ResultSet { columns: string[]; rows: Cell[][] }

export type TrustPath =
  | { kind: "anchor"; key_id: string; name: string }
  | { kind: "endorsed"; key_id: string; name: string; by: string; by_name: string; until: string };

export interface PackInfo {
  id: string; version: string; title: Localized; hash: string; signer: string;
  trust_path: TrustPath; created: string; not_before: string; not_after: string;
  sealed: boolean; entries: number; bytes: number; grader_version: string; sqlite_version: string;
  problems: null | { id: string; title: Localized; points: number; datasets: number }[];
}

export type SessionState = "running" | "interrupted" | "ended";
export interface ProblemStatus {
  id: string; title: Localized; points: number; best_score: number;
  submissions: number; best_verdict: Verdict | null;
}
export interface SessionView {
  id: string; pack: { id: string; version: string; hash: string }; title: Localized;
  candidate_id: string; candidate_name: string; state: SessionState;
  elapsed_ms: number; duration_ms: number; remaining_ms: number;
  score: number; max_score: number; problems: ProblemStatus[];
  /** Records not yet sent to a server (the check-in record counts too). */
  unsynced: number;
  /** The pack's policy while the app is closed, when the backend tells it. */
  while_closed?: "paused" | "running";
}

export interface Column { name: string; decl_type: string }
export interface TableInfo { name: string; is_view: boolean; columns: Column[] }
export type Expected = { rows: ResultSet } | { tables: ResultSet[] };
export interface SampleData { name: string; tables: [string, ResultSet][]; expected: Expected }
export interface ProblemDetail {
  id: string; title: Localized; statement: Localized; kind: "select" | "dml"; points: number;
  /** Whether row order is graded. */
  order_required: boolean;
  check_tables: string[];
  tables: TableInfo[];
  samples: SampleData[];
  /** The time limit: a budget of SQLite steps, and about how long that is on a typical laptop. */
  limits?: { steps: number; typical_seconds: number };
}

export type Refusal = { code: string; [k: string]: unknown };
export type Diagnostic =
  | { kind: "forbidden"; refusal: Refusal }
  | { kind: "sql_error"; message: string; line: number; column: number };
export interface Difference { row: number; column: number | null; expected: Cell[] | null; actual: Cell[] | null }
export type Mismatch =
  | { kind: "column_count"; expected: number; actual: number }
  | { kind: "column_names"; expected: string[]; actual: string[] }
  | { kind: "rows"; table: string | null; expected_rows: number; actual_rows: number;
      missing_count: number; extra_count: number; missing: Cell[][]; extra: Cell[][];
      first_difference: Difference | null }
  | { kind: "order"; first_difference: Difference };
export type Detail =
  | { kind: "mismatch"; mismatch: Mismatch }
  | { kind: "runtime_error"; message: string; line: number }
  | { kind: "time_limit"; steps: number; limit: number; by_wall_clock: boolean }
  | { kind: "output_limit"; rows: number; row_limit: number; bytes: number };
export interface DatasetOutcome {
  name: string; visibility: "sample" | "secret"; verdict: Verdict;
  steps: number | null; wall_ms: number | null; detail: Detail | null;
  produced: null | { rows: ResultSet } | { tables: ResultSet[] };
}
export interface Grading {
  problem: string; scope: "all" | "samples"; verdict: Verdict; score: number; max_score: number;
  groups: { name: string; points: number; earned: number }[];
  diagnostic: Diagnostic | null; datasets: DatasetOutcome[];
  steps: number; wall_ms: number; grader_version: string; sqlite_version: string;
}
export interface SubmissionView {
  id: number; session: string; problem: string; sql: string; elapsed_ms: number;
  state: "queued" | "grading" | "done"; verdict: Verdict | null; score: number | null;
  /** Why it was not graded: "session_ended", "interrupted" or "grading_failed". */
  refused: string | null;
}
/** What a proctor's export wrote (src-tauri/src/export.rs). */
export interface ExportView {
  files: string[];
  folder: string;
  records: number;
  sessions: number;
  candidates: number;
  fingerprint: string;
  /** Why no PDF report was printed (the HTML report is there). */
  pdf_error: string | null;
}

export type ProctorAction = { action: "extend"; minutes: number } | { action: "end" } | { action: "resume" };
export interface RecordRow { seq: number; kind: string; summary: string; elapsed_ms: number }
/** A problem found in the records: `kind` and its facts (docs/record-format.md). */
export interface Finding { kind: string; session?: string; seq?: number; [k: string]: unknown }
export interface RecordsReport { records: RecordRow[]; findings: Finding[]; device_id: string }

/** The sync task's state (crates/sync, docs/sync.md). */
export type SyncState = "off" | "offline" | "syncing" | "synced" | "refused";
export interface SyncView {
  state: SyncState;
  /** Records without a server's proof that it holds them. */
  unsent: number;
  /** When a server's receipt was last stored (Unix ms). */
  last_synced_wall_ms: number | null;
  server: string | null;
  /** Why it is offline or refused (English detail). */
  message: string | null;
  retry_in_ms: number | null;
  /** The address in the settings. */
  address: string | null;
  token_set: boolean;
}

/** What the UI needs at start (events emitted during setup are lost, so it asks). */
export interface AppState {
  lang: Lang;
  /** A demo build ships a sample pack signed by the demo key. */
  demo_pack: boolean;
  /** A verified pack waiting for check-in, if any. */
  pack: PackInfo | null;
  /** The session on this machine, if one was started (restored after a crash). */
  session: SessionView | null;
  device_id: string;
}

export const backend = {
  appState: () => invoke<AppState>("app_state"),
  setLanguage: (lang: Lang) => invoke<void>("set_language", { lang }),
  openPack: (path: string) => invoke<PackInfo>("open_pack", { path }),
  openDemoPack: () => invoke<PackInfo>("open_demo_pack"),
  checkIn: (candidateId: string, candidateName: string, startCode: string, admissionCode: string, proctorPassphrase: string) =>
    invoke<SessionView>("check_in", { candidateId, candidateName, startCode, admissionCode, proctorPassphrase }),
  sessionView: () => invoke<SessionView>("session_view"),
  problem: (id: string) => invoke<ProblemDetail>("problem", { id }),
  drafts: () => invoke<Record<string, string>>("drafts"),
  saveDraft: (problem: string, text: string) => invoke<void>("save_draft", { problem, text }),
  runSample: (problem: string, sql: string) => invoke<number>("run_sample", { problem, sql }),
  submit: (problem: string, sql: string) => invoke<number>("submit", { problem, sql }),
  submissions: (problem: string) => invoke<SubmissionView[]>("submissions", { problem }),
  finish: () => invoke<SessionView>("finish"),
  proctor: (passphrase: string, action: ProctorAction) =>
    invoke<SessionView>("proctor", { passphrase, action }),
  proctorRecords: (passphrase: string) => invoke<RecordsReport>("proctor_records", { passphrase }),
  exportResults: (passphrase: string, folder: string, venue: string) =>
    invoke<ExportView>("export_results", { passphrase, folder, venue }),
  confirmClose: () => invoke<void>("confirm_close"),
  syncStatus: () => invoke<SyncView>("sync_status"),
  /** Downloads and verifies an exam's pack from the sync server; saved for offline use. */
  fetchPack: (exam: string) => invoke<{ info: PackInfo; path: string }>("fetch_pack", { exam }),
  /** An empty address turns sync off; an empty token keeps the one set. */
  setSyncServer: (address: string, token: string) =>
    invoke<SyncView>("set_sync_server", { address, token }),

  onGraded: (f: (e: { submission: number; grading: Grading }) => void): Promise<UnlistenFn> =>
    listen("graded", (e) => f(e.payload as { submission: number; grading: Grading })),
  onSampleRun: (f: (e: { run: number; grading: Grading }) => void): Promise<UnlistenFn> =>
    listen("sample-run", (e) => f(e.payload as { run: number; grading: Grading })),
  onSessionEnded: (f: (e: { reason: string }) => void): Promise<UnlistenFn> =>
    listen("session-ended", (e) => f(e.payload as { reason: string })),
  /** The window's close button during an exam: the UI asks, then calls confirmClose(). */
  onCloseRequested: (f: () => void): Promise<UnlistenFn> => listen("close-requested", () => f()),
};

export type Backend = typeof backend;
