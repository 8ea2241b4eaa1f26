// What the app knows, shared by the screens, and the hooks a language switch runs.
import type { AppError, AppState, PackInfo, SessionView } from "./backend";
import type { Key } from "./i18n";

export const state = {
  app: null as AppState | null,
  pack: null as PackInfo | null,
  packError: null as AppError | null,
  packBusy: false,
  packPath: "",
  /** The exam id typed to download its pack, and where the last download was saved. */
  examId: "",
  downloadedTo: null as string | null,
  checkin: {
    id: "",
    name: "",
    code: "",
    /** The admission code on the candidate's slip (exams with a roster). */
    admission: "",
    /** Whether a proctor admits the candidate instead, and their passphrase. */
    byProctor: false,
    passphrase: "",
    busy: false,
    error: null as AppError | null,
    /** A form problem found before asking the backend. */
    missing: null as Key | null,
  },
  session: null as SessionView | null,
  /** performance.now() when `session` arrived: the clock counts down from there. */
  sessionAt: 0,
  /** From the session-ended event: time_up, finished or proctor. */
  endReason: null as string | null,
};

/** Exam time left now, counting down locally between refreshes while running. */
export function remainingMs(): number {
  const s = state.session;
  if (!s) return 0;
  if (s.state !== "running") return Math.max(0, s.remaining_ms);
  return Math.max(0, s.remaining_ms - (performance.now() - state.sessionAt));
}

const langHooks = new Set<() => void>();
/** Runs `fn` after every language switch until the returned function is called. */
export function onLang(fn: () => void): () => void {
  langHooks.add(fn);
  return () => langHooks.delete(fn);
}
export function runLangHooks(): void {
  for (const fn of [...langHooks]) fn();
}
