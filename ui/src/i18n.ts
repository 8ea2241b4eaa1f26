// Every sentence the UI shows, in English and Japanese. Screens never hold text of their
// own: they call t(), and a language switch re-renders them.
import type { AppError, Finding, Lang, Localized, Refusal, Verdict } from "./backend";

type Pair = readonly [en: string, ja: string];

let current: Lang = "en";
export const getLang = (): Lang => current;
export const setLang = (lang: Lang): void => {
  current = lang;
  document.documentElement.lang = lang;
};
const pick = (p: Pair): string => (current === "ja" ? p[1] : p[0]);
/** A pack's or problem's own text in the current language (falls back to the other one). */
export const loc = (l: Localized): string => (current === "ja" ? l.ja || l.en : l.en || l.ja);

const S = {
  app_name: ["SQL Exam", "SQL 試験"],
  language: ["Language", "言語"],
  font_smaller: ["Smaller text", "文字を小さく"],
  font_larger: ["Larger text", "文字を大きく"],
  proctor: ["Proctor", "試験監督者"],
  loading: ["Loading…", "読み込み中…"],
  details: ["Technical details, for the proctor (in English)", "技術的な詳細（試験監督者向け・英語）"],
  cancel: ["Cancel", "キャンセル"],
  close: ["Close", "閉じる"],
  yes: ["Yes", "はい"],
  no: ["No", "いいえ"],
  required: ["required", "必須"],
  optional: ["optional", "任意"],
  start_failed: ["The app could not start.", "アプリを起動できませんでした。"],
  retry: ["Try again", "再試行"],
  skip: ["Skip to the main content", "本文へ移動"],

  // Opening a pack
  open_heading: ["Open the exam pack", "試験パックを開く"],
  open_intro: [
    "Open the signed pack file (.sqlexam) the organizer gave you. It is verified before anything is shown.",
    "主催者から配布された署名付きのパックファイル（.sqlexam）を開きます。内容を表示する前に検証します。",
  ],
  open_file: ["Open pack file…", "パックファイルを開く…"],
  pack_path: ["Path of the pack file", "パックファイルのパス"],
  open_path: ["Open from path", "パスを指定して開く"],
  open_demo: ["Open the demo pack", "デモ用パックを開く"],
  demo_note: [
    "The demo pack is signed by the public demo key: for practice only.",
    "デモ用パックは公開されているデモ鍵で署名されています。練習専用です。",
  ],
  path_missing: ["Enter the path of a pack file.", "パックファイルのパスを入力してください。"],
  download_heading: ["Or download it from the server", "またはサーバーからダウンロード"],
  download_intro: [
    "With the venue's server set (sync settings, top right), download the exam's pack ahead of the exam. It is verified exactly like a pack file and kept on this computer, so the exam itself needs no network.",
    "会場のサーバーを設定してあれば（右上の送信の設定）、試験の前にパックをダウンロードできます。パックファイルと同じように検証し、このコンピューターに保存するので、試験中はネットワークを必要としません。",
  ],
  exam_id: ["Exam id", "試験 ID"],
  download: ["Download", "ダウンロード"],
  opening: ["Verifying the pack…", "パックを検証しています…"],
  verified: ["Verified", "検証済み"],
  pack_id: ["Pack", "パック"],
  signer: ["Signed by", "署名"],
  valid: ["Valid", "有効期間"],
  sealed: ["Sealed", "封印"],
  sealed_yes: ["Yes — the start code opens it", "はい — 開始コードで開きます"],
  problems_count: ["Problems", "問題数"],

  // Check-in
  checkin_heading: ["Check in", "受付"],
  candidate_id: ["Candidate ID", "受験番号"],
  candidate_name: ["Name", "氏名"],
  start_code: ["Start code", "開始コード"],
  start_code_help: [
    "The proctor announces the start code when the exam begins. Spaces, hyphens and letter case do not matter.",
    "開始コードは試験開始時に試験監督者が発表します。空白・ハイフン・大文字小文字は区別しません。",
  ],
  check_in: ["Check in and start the exam", "受付して試験を開始"],
  checking_in: ["Starting the exam…", "試験を開始しています…"],
  candidate_id_missing: ["Enter your candidate ID.", "受験番号を入力してください。"],
  start_code_missing: ["Enter the start code.", "開始コードを入力してください。"],

  // Exam
  problems: ["Problems", "問題"],
  total: ["Total", "合計"],
  st_not_tried: ["Not tried", "未提出"],
  st_wrong: ["Wrong", "不正解"],
  st_partial: ["Partial", "部分点"],
  st_accepted: ["Accepted", "正解"],
  time_left: ["Time left", "残り時間"],
  warn_10: ["10 minutes left.", "残り 10 分です。"],
  warn_1: ["1 minute left! Submit now.", "残り 1 分です。今すぐ提出してください。"],
  paused_heading: ["Waiting for the proctor", "試験監督者をお待ちください"],
  paused: [
    "Your exam is paused until a proctor resumes it. Your clock is stopped: no time is lost.",
    "試験監督者が再開するまで試験は中断しています。時計は止まっているため、時間は減りません。",
  ],
  paused_hint: [
    "The problems, your queries and results are hidden until the exam is resumed. Raise your hand to call the proctor.",
    "再開されるまで、問題・クエリ・結果は表示されません。手を挙げて試験監督者を呼んでください。",
  ],
  problems_show: ["Show the problem list", "問題一覧を表示"],
  tab_statement: ["Problem", "問題文"],
  tab_schema: ["Schema", "スキーマ"],
  tab_samples: ["Sample data", "サンプルデータ"],
  choose_problem: ["Choose a problem from the list.", "一覧から問題を選んでください。"],
  kind_select: ["Write one SELECT query.", "SELECT 文を 1 つ書いてください。"],
  kind_dml: [
    "Write statements that change the data (INSERT, UPDATE, DELETE).",
    "データを変更する文（INSERT、UPDATE、DELETE）を書いてください。",
  ],
  order_graded: ["Row order is graded.", "行の順序も採点されます。"],
  order_free: ["Row order does not matter.", "行の順序は問いません。"],
  checked_tables: ["Checked tables", "採点対象のテーブル"],
  table: ["Table", "テーブル"],
  view: ["View", "ビュー"],
  column: ["Column", "列"],
  type: ["Type", "型"],
  no_type: ["(no type)", "（型なし）"],
  input_tables: ["Input tables", "入力テーブル"],
  expected_output: ["Expected output", "期待される出力"],
  no_samples: ["This problem has no sample data.", "この問題にはサンプルデータがありません。"],
  editor: ["SQL editor", "SQL エディター"],
  run_sample: ["Run on sample", "サンプルで実行"],
  submit: ["Submit", "提出"],
  finish: ["Finish exam", "試験を終了する"],
  finish_confirm: [
    "Finish the exam now? You cannot submit anything after this.",
    "試験を終了しますか？終了すると、これ以上提出できません。",
  ],
  draft_saved: ["Draft saved", "下書きを保存しました"],
  draft_saving: ["Saving draft…", "下書きを保存中…"],
  draft_failed: ["The draft could not be saved", "下書きを保存できませんでした"],

  // Results
  result: ["Result", "結果"],
  running: ["Running on the sample data…", "サンプルデータで実行しています…"],
  grading: ["Grading…", "採点しています…"],
  sample_only: ["Sample run — not scored", "サンプル実行 — 採点対象外"],
  submission: ["Submission", "提出"],
  datasets: ["Datasets", "データセット"],
  passed: ["passed", "合格"],
  failed: ["failed", "不合格"],
  sample: ["sample", "サンプル"],
  hidden: ["hidden", "非公開"],
  your_result: ["Your result", "あなたの結果"],
  expected: ["Expected", "期待される結果"],
  missing_rows: ["Missing rows — expected but not returned", "不足している行 — 期待されているが返されていない行"],
  extra_rows: ["Extra rows — returned but not expected", "余分な行 — 期待されていないのに返された行"],
  wrong_order: ["Right rows, wrong order.", "行は正しいですが、順序が違います。"],
  wrong_order_hint: [
    "This problem grades the row order: check your ORDER BY.",
    "この問題では行の順序も採点されます。ORDER BY を確認してください。",
  ],
  no_rows: ["(no rows)", "（行なし）"],
  no_row: ["(no row)", "（行なし）"],
  legend_missing: ["highlighted: missing from your result", "強調表示: あなたの結果に不足している行"],
  legend_extra: ["highlighted: not in the expected output", "強調表示: 期待される出力にない行"],
  goto_line: ["Go to this place in the editor", "エディターのこの位置へ移動"],
  groups: ["Score groups", "得点グループ"],
  refused: ["Your query was not run.", "クエリは実行されませんでした。"],
  sql_error_hint: [
    "SQLite could not compile the query. Its message (in English):",
    "SQLite がクエリを解釈できませんでした。SQLite のメッセージ（英語）:",
  ],
  secret_note: [
    "Hidden datasets show only whether they passed.",
    "非公開のデータセットは合否のみ表示されます。",
  ],

  // History
  history: ["Your submissions", "提出履歴"],
  no_submissions: ["No submissions yet.", "まだ提出していません。"],
  h_when: ["Exam time", "経過時間"],
  h_verdict: ["Verdict", "判定"],
  h_score: ["Score", "得点"],
  h_queued: ["Waiting to be graded", "採点待ち"],
  h_grading: ["Being graded…", "採点中…"],
  h_refused: ["Refused — not graded", "受付不可（採点なし）"],
  h_refused_hint: [
    "Sent while the exam was paused or after it ended: recorded, but not graded.",
    "中断中または終了後に提出されたため、記録のみで採点されていません。",
  ],
  load_sql: ["Load into editor", "エディターに読み込む"],
  load_confirm: [
    "Replace the text in the editor with this submission?",
    "エディターの内容をこの提出内容で置き換えますか？",
  ],
  load_ok: ["Replace", "置き換える"],

  // End
  end_time_up: ["Time is up", "試験時間終了"],
  end_finished: ["Finished", "試験終了"],
  end_by_proctor: ["The proctor ended the exam.", "試験監督者が試験を終了しました。"],
  end_intro: [
    "Your results are saved on this computer. No further submissions are possible. Please wait for the proctor's instructions.",
    "結果はこのコンピューターに保存されています。これ以上提出することはできません。試験監督者の指示に従ってください。",
  ],
  problem: ["Problem", "問題"],

  // Proctor
  proctor_title: ["Proctor mode", "試験監督者モード"],
  proctor_intro: [
    "For the proctor only. Every action is recorded and signed.",
    "試験監督者専用です。すべての操作は署名付きで記録されます。",
  ],
  passphrase: ["Proctor passphrase", "試験監督者のパスフレーズ"],
  unlock: ["Unlock", "ロック解除"],
  candidate: ["Candidate", "受験者"],
  state: ["State", "状態"],
  state_running: ["Running", "実施中"],
  state_interrupted: ["Paused", "中断中"],
  state_ended: ["Ended", "終了"],
  extend_minutes: ["Minutes to add", "延長する時間（分）"],
  extend: ["Extend time", "時間を延長"],
  end_exam: ["End the exam for this candidate", "この受験者の試験を終了"],
  end_confirm: [
    "End the exam for this candidate now? Later submissions will be refused.",
    "この受験者の試験を今すぐ終了しますか？以降の提出は拒否されます。",
  ],
  resume: ["Resume the exam", "試験を再開"],
  records: ["Records on this computer", "このコンピューターの記録"],
  device: ["Device", "端末"],
  seq: ["No.", "番号"],
  kind: ["Kind", "種類"],
  summary: ["Summary", "内容"],
  all_verify: ["All records verify.", "すべての記録の検証に成功しました。"],
  findings: ["Problems found in the records:", "記録に問題が見つかりました:"],
  resumed: ["The exam was resumed.", "試験を再開しました。"],
  ended_done: ["The exam was ended.", "試験を終了しました。"],
  minutes_invalid: ["Enter whole minutes from 1 to 600.", "1〜600 の整数（分）を入力してください。"],
  passphrase_missing: ["Enter the passphrase.", "パスフレーズを入力してください。"],
  export_heading: ["Export results", "結果の書き出し"],
  export_intro: [
    "Writes this computer's results into a folder (a USB stick): a bundle signed with the proctor passphrase, for the server, and CSV, Excel and JSON files and a printable session report for people. Exporting again replaces the files.",
    "このコンピューターの結果をフォルダー（USB メモリなど）に書き出します。サーバー用に試験監督者のパスフレーズで署名したバンドルと、閲覧用の CSV・Excel・JSON ファイルおよび印刷用の試験実施報告書です。もう一度書き出すとファイルは置き換えられます。",
  ],
  export_folder: ["Folder", "フォルダー"],
  choose_folder: ["Choose folder…", "フォルダーを選ぶ…"],
  venue: ["Venue or room", "会場・教室"],
  export_now: ["Export", "書き出す"],
  no_pdf: [
    "No PDF report was printed on this computer (no Chromium, Chrome or Edge found): open the report (…-report.html) in a browser and print it.",
    "このコンピューターでは PDF の報告書を作成できませんでした（Chromium・Chrome・Edge が見つかりません）。報告書（…-report.html）をブラウザーで開いて印刷してください。",
  ],
  folder_missing_ui: ["Choose the folder to export into.", "書き出し先のフォルダーを選んでください。"],

  // Closing
  close_confirm: [
    "The exam is still running. Close anyway? Your work is saved. When the app is opened again, the exam stays paused until a proctor resumes it.",
    "試験はまだ実施中です。閉じますか？作業内容は保存されています。アプリを再び開くと、試験監督者が再開するまで試験は中断したままになります。",
  ],
  close_confirm_running: [
    "The exam is still running. Close anyway? Your work is saved, but the exam clock keeps running while the app is closed.",
    "試験はまだ実施中です。閉じますか？作業内容は保存されていますが、アプリを閉じている間も試験時間は進みます。",
  ],
  close_anyway: ["Close anyway", "閉じる"],

  // Sync
  sync_heading: ["Sending results to the server", "結果のサーバーへの送信"],
  sync_intro: [
    "Every record is signed and kept on this computer first; the exam never waits for the network. When a server is set, the records are sent whenever it can be reached, and each counts as sent only once the server has proved it holds it.",
    "すべての記録はまずこのコンピューターに署名付きで保存され、試験がネットワークを待つことはありません。サーバーを設定すると、接続できるときに記録を送信します。サーバーが保持していることを証明した記録だけを送信済みとします。",
  ],
  sync_address: ["Server address", "サーバーのアドレス"],
  sync_address_hint: ["For example https://exam.example.org — leave empty to keep everything on this computer.", "例: https://exam.example.org — 空欄にすると、すべてこのコンピューターに保存したままになります。"],
  sync_token: ["Venue token", "会場トークン"],
  sync_token_set: ["A token is set; leave empty to keep it.", "トークンは設定済みです。変更しない場合は空欄のままにしてください。"],
  sync_save: ["Save", "保存"],
  sync_saved: ["Saved.", "保存しました。"],
  sync_open: ["Sync settings", "送信の設定"],
  keep_working: ["Keep working", "試験を続ける"],
} as const satisfies Record<string, Pair>;

export type Key = keyof typeof S;
export const t = (key: Key): string => pick(S[key]);

const ja = (): boolean => current === "ja";
const nf = (n: number): string => n.toLocaleString(ja() ? "ja-JP" : "en-US");

export const f = {
  points: (n: number) => (ja() ? `${nf(n)} 点` : `${nf(n)} ${n === 1 ? "point" : "points"}`),
  score: (s: number, m: number) => (ja() ? `${nf(s)} / ${nf(m)} 点` : `${nf(s)} / ${nf(m)} points`),
  rows: (n: number) => (ja() ? `${nf(n)} 行` : `${nf(n)} ${n === 1 ? "row" : "rows"}`),
  moreRows: (n: number) => (ja() ? `… ほか ${nf(n)} 行` : `… and ${nf(n)} more`),
  // The sync indicator: the long form, and a short one for narrow windows.
  syncLong: (state: string, n: number, at: string) => {
    const recs = (k: number) => (ja() ? `${nf(k)} 件` : `${nf(k)} ${k === 1 ? "record" : "records"}`);
    switch (state) {
      case "off":
        return ja() ? `送信しない設定 — ${recs(n)}をこのコンピューターに保存` : `Not syncing: no server set — ${recs(n)} kept here`;
      case "offline":
        return ja() ? `オフライン — 送信待ち ${recs(n)}` : `Offline — ${recs(n)} waiting to send`;
      case "syncing":
        return ja() ? `送信中 — 残り ${recs(n)}` : `Syncing — ${recs(n)} to send`;
      case "synced":
        if (!at) return ja() ? "送信済み（まだ送信する記録はありません）" : "All synced (nothing to send yet)";
        return ja() ? `${at} にすべて送信済み` : `All synced at ${at}`;
      default:
        return ja() ? `送信が拒否されました — 送信待ち ${recs(n)}。試験監督者に知らせてください` : `Sync refused — ${recs(n)} waiting; tell a proctor`;
    }
  },
  syncShort: (state: string, n: number, at: string) => {
    switch (state) {
      case "off": return ja() ? `未送信 ${nf(n)}` : `Kept here · ${nf(n)}`;
      case "offline": return ja() ? `オフライン · ${nf(n)}` : `Offline · ${nf(n)}`;
      case "syncing": return ja() ? `送信中 · ${nf(n)}` : `Syncing · ${nf(n)}`;
      case "synced": return ja() ? `送信済み ${at}`.trim() : `Synced ${at}`.trim();
      default: return ja() ? `送信拒否 · ${nf(n)}` : `Refused · ${nf(n)}`;
    }
  },
  // Records: check-in, submissions, proctor actions — not results.
  syncHint: () =>
    ja()
      ? "受付・提出・試験監督者の操作の記録は、まずこのコンピューターに署名付きで保存されます。試験はネットワークを待ちません。クリックすると送信の設定を開きます。"
      : "The records of check-in, submissions and proctor actions are signed and kept on this computer first; the exam never waits for the network. Click for the sync settings.",
  version: (v: string) => (ja() ? `バージョン ${v}` : `version ${v}`),
  savedTo: (path: string) => (ja() ? `${path} に保存しました。ネットワークがなくても、ここから開けます。` : `Saved to ${path}: it opens from there without the network.`),
  trustAnchor: (name: string, key: string) =>
    ja() ? `信頼済みの鍵「${name}」（${key}）` : `trusted key “${name}” (${key})`,
  trustEndorsed: (name: string, key: string, byName: string, until: string) =>
    ja()
      ? `鍵「${name}」（${key}）— 「${byName}」が ${until} まで保証`
      : `key “${name}” (${key}), endorsed by “${byName}” until ${until}`,
  window: (a: string, b: string) => `${a} – ${b}`,
  rowsSummary: (table: string | null, e: number, a: number, miss: number, extra: number) => {
    const tb = table ? (ja() ? `テーブル ${table}: ` : `Table ${table}: `) : "";
    return ja()
      ? `${tb}期待 ${nf(e)} 行、実際 ${nf(a)} 行（不足 ${nf(miss)} 行、余分 ${nf(extra)} 行）。`
      : `${tb}Expected ${f.rows(e)}, got ${nf(a)}: ${nf(miss)} missing, ${nf(extra)} extra.`;
  },
  columnCount: (e: number, a: number) =>
    ja()
      ? `列数が違います: ${nf(e)} 列が期待されていますが、あなたのクエリは ${nf(a)} 列を返しました。SELECT 句を確認してください（列の数と順序は採点対象、列名は対象外です）。`
      : `Wrong number of columns: ${nf(e)} expected, your query returned ${nf(a)}. Check the SELECT list (the number and order of columns count; their names do not).`,
  columnNames: (e: string[], a: string[]) =>
    ja()
      ? `列名が違います（期待: ${e.join(", ")}、実際: ${a.join(", ")}）。`
      : `Column names differ: expected ${e.join(", ")}, got ${a.join(", ")}.`,
  firstDiff: (row: number, col: number | null) =>
    ja()
      ? `最初の違い: ${nf(row)} 行目${col !== null ? `、${nf(col)} 列目` : ""}`
      : `First difference at row ${nf(row)}${col !== null ? `, column ${nf(col)}` : ""}`,
  runtimeError: (line: number) =>
    ja() ? `SQLite の実行時エラー（${nf(line)} 行目の文）:` : `SQLite error while running the statement at line ${nf(line)}:`,
  sqlErrorAt: (line: number, col: number) =>
    ja() ? `${nf(line)} 行 ${nf(col)} 列` : `Line ${nf(line)}, column ${nf(col)}`,
  // The limit is about efficiency: the query may well be right, but did far too much work.
  timeLimit: (steps: number, limit: number, wall: boolean) =>
    ja()
      ? `${wall ? "クエリの実行時間が上限を超えたため中断しました。" : `クエリの処理量が多すぎたため中断しました（SQLite の実行ステップ ${nf(steps)}、上限 ${nf(limit)}）。`}これは結果の正しさではなく効率の問題です。結合条件の書き忘れ、終わらない再帰 CTE、大きなテーブルに対する相関サブクエリがないか確認してください。`
      : `${wall ? "Your query ran too long and was stopped." : `Your query did too much work and was stopped (${nf(steps)} SQLite steps; the limit is ${nf(limit)}).`} This is about efficiency, not whether the answer is right: look for a missing join condition, a recursive CTE that never stops, or a correlated subquery over a big table.`,
  timeLimitRule: (seconds: number) => {
    const s = seconds < 10 ? Math.max(0.1, Math.round(seconds * 10) / 10) : Math.round(seconds);
    return ja()
      ? `制限時間: 一般的なノートパソコンで約 ${nf(s)} 秒分の処理。`
      : `Time limit: about ${nf(s)} ${s === 1 ? "second" : "seconds"} of work on a typical laptop.`;
  },
  outputLimit: (rows: number, limit: number, bytes: number) =>
    ja()
      ? `結果が上限を超えました（${nf(rows)} 行、${nf(bytes)} バイト。上限 ${nf(limit)} 行）。`
      : `The result grew past the limit (${nf(rows)} rows, ${nf(bytes)} bytes; at most ${nf(limit)} rows).`,
  expectedTable: (name: string) => (ja() ? `${name} の期待される内容` : `Expected contents of ${name}`),
  yourTable: (name: string) => (ja() ? `あなたの結果: ${name}` : `Your result: ${name}`),
  sampleName: (name: string) => (ja() ? `サンプル ${name}` : `Sample ${name}`),
  submissionNo: (id: number) => (ja() ? `提出 #${id}` : `Submission #${id}`),
  exported: (records: number, folder: string) =>
    ja() ? `${nf(records)} 件の記録を ${folder} に書き出しました:` : `Exported ${nf(records)} records to ${folder}:`,
  fingerprint: (fp: string) => (ja() ? `バンドルの指紋: ${fp}` : `Bundle fingerprint: ${fp}`),
  extended: (m: number) => (ja() ? `${nf(m)} 分延長しました。` : `Added ${nf(m)} minutes.`),
  endedAt: (s: number, m: number) => (ja() ? `合計 ${nf(s)} / ${nf(m)} 点` : `Total ${nf(s)} / ${nf(m)} points`),
  candidate: (id: string, name: string) => (name ? `${id} — ${name}` : id),
};

/** A record summary from the backend ("problem · verdict · score", "extend · +10 min",
 * "time_up" …) with its codes translated; ids and numbers stay as they are. */
export function recordSummary(summary: string): string {
  const words: Record<string, Pair> = {
    time_up: ["time is up", "時間切れ"],
    finished: ["finished by the candidate", "受験者が終了"],
    proctor: ["ended by the proctor", "試験監督者が終了"],
    session_ended: ["after the end", "終了後"],
    interrupted: ["while paused", "中断中"],
    grading_failed: ["could not be graded", "採点できませんでした"],
    extend: ["time extended", "時間延長"],
    end: ["exam ended", "試験終了"],
    resume: ["resumed", "再開"],
    closed: ["the app was closed", "アプリが閉じられた"],
    stopped: ["the app stopped without closing (crash or power loss)", "アプリが終了処理なしで停止（異常終了・電源断）"],
    suspended: ["the computer went to sleep", "コンピューターがスリープした"],
  };
  return summary
    .split(" · ")
    .map((part) => {
      const minutes = /^\+(\d+) min$/.exec(part);
      if (minutes) return ja() ? `+${minutes[1]} 分` : `+${minutes[1]} min`;
      if (words[part]) return pick(words[part]);
      const verdict = verdictName(part as Verdict);
      return verdict;
    })
    .join(" · ");
}

export function verdictName(v: Verdict): string {
  const names: Record<Verdict, Pair> = {
    accepted: ["Accepted", "正解"],
    wrong_answer: ["Wrong Answer", "不正解"],
    runtime_error: ["Runtime Error", "実行時エラー"],
    time_limit_exceeded: ["Time Limit Exceeded", "時間制限超過"],
    output_limit_exceeded: ["Output Limit Exceeded", "出力制限超過"],
    forbidden: ["Forbidden", "禁止された操作"],
  };
  return names[v] ? pick(names[v]) : v;
}

/** Record kinds of docs/record-format.md; unknown kinds are shown as they are. */
export function recordKind(kind: string): string {
  const names: Record<string, Pair> = {
    session_started: ["Exam started", "試験開始"],
    submission: ["Submission", "提出"],
    submission_refused: ["Submission refused", "提出拒否"],
    proctor: ["Proctor action", "試験監督者の操作"],
    session_ended: ["Exam ended", "試験終了"],
    interrupted: ["Exam interrupted", "試験の中断"],
    reopened: ["App reopened", "アプリ再起動"],
  };
  return names[kind] ? pick(names[kind]) : kind;
}

/** Why a submission was recorded but not graded (its `submission_refused` reason). */
export function refusedHint(reason: string | null): string {
  const reasons: Record<string, Pair> = {
    session_ended: ["Sent after the exam ended: recorded, but not graded.", "試験終了後に提出されたため、記録のみで採点されていません。"],
    interrupted: ["Sent while the exam was paused: recorded, but not graded.", "中断中に提出されたため、記録のみで採点されていません。"],
    grading_failed: ["The grader could not run it: recorded, but not graded. Tell the proctor.", "採点できませんでした（記録のみ）。試験監督者に知らせてください。"],
  };
  return reason && reasons[reason] ? pick(reasons[reason]) : t("h_refused_hint");
}

/** A problem found in the records, as a sentence (finding kinds of docs/record-format.md). */
export function findingText(f: Finding): string {
  const at = f.seq !== undefined ? (ja() ? `記録 ${f.seq}: ` : `record ${f.seq}: `) : "";
  const texts: Record<string, Pair> = {
    unparsable: ["a record that cannot be read", "読み取れない記録"],
    bad_signature: ["its signature does not verify (altered, or written elsewhere)", "署名が検証できません（改ざん、または別の端末で作成）"],
    foreign_device: ["written by another device", "別の端末で作成されています"],
    foreign_session: ["a session of another device in this computer's store", "別の端末のセッションがこの端末の記録に含まれています"],
    missing_start: ["the session's first record is missing", "セッション最初の記録がありません"],
    broken_chain: ["it does not follow the record before it", "直前の記録とつながっていません"],
    gap: ["records are missing", "記録が欠けています"],
    fork: ["two different records claim this place (a fork)", "同じ位置に異なる記録が 2 つあります（分岐）"],
    duplicate: ["the same record is stored twice", "同じ記録が 2 回保存されています"],
    out_of_order: ["out of order", "順序が正しくありません"],
    after_end: ["recorded after the exam ended", "試験終了後に記録されています"],
    clock_back: ["the exam clock went back", "試験時間が逆戻りしています"],
    duplicate_submission: ["a submission recorded twice", "同じ提出が 2 回記録されています"],
    proctor_unproven: ["a proctor action without a valid proctor signature", "試験監督者の有効な署名がない監督操作"],
  };
  const text = texts[f.kind] ? pick(texts[f.kind]) : f.kind;
  return at + text;
}

/** A refused query as a sentence (refusal codes from docs/cli.md). */
export function refusalText(r: Refusal): string {
  const s = (k: string): string => String(r[k] ?? "?");
  const J = ja();
  switch (r.code) {
    case "empty": return J ? "クエリが空です。" : "The query is empty.";
    case "too_long":
      return J ? `クエリが長すぎます（${s("bytes")} バイト、上限 ${s("limit")} バイト）。`
        : `The query is ${s("bytes")} bytes long; the limit is ${s("limit")}.`;
    case "nul_byte":
      return J ? `クエリの ${s("offset")} バイト目に NUL 文字があります。` : `The query contains a NUL byte at byte ${s("offset")}.`;
    case "invalid_utf8":
      return J ? `クエリが UTF-8 として正しくありません（${s("offset")} バイト目から）。`
        : `The query is not valid UTF-8 text (from byte ${s("offset")}).`;
    case "multiple_statements":
      return J ? `この問題では SQL 文を 1 つだけ書いてください（${s("count")} 文あります）。`
        : `This problem takes exactly one SQL statement; the query has ${s("count")}.`;
    case "statement":
      return J ? `この問題では ${s("keyword")} 文は使えません。` : `${s("keyword")} statements are not allowed in this problem.`;
    case "not_a_query":
      return J ? "この問題では、データを変更せずに行を返す SELECT 文を 1 つ書いてください。"
        : "This problem asks for one SELECT query that returns rows and changes nothing.";
    case "write":
      return J ? `ここではテーブル ${s("table")} を変更できません。` : `Changing table ${s("table")} is not allowed here.`;
    case "pragma":
      return J ? `この試験では PRAGMA ${s("name")} は使えません。` : `PRAGMA ${s("name")} is not allowed in this exam.`;
    case "attach":
      return J ? "この試験では ATTACH / DETACH は使えません。" : "ATTACH and DETACH are not allowed in this exam.";
    case "transaction":
      return J ? "この試験ではトランザクションやセーブポイントは使えません。"
        : "Transactions and savepoints are not allowed in this exam.";
    case "schema_change":
      return J ? "この試験ではスキーマの変更（CREATE、DROP、ALTER など）はできません。"
        : "Changing the schema (CREATE, DROP, ALTER …) is not allowed in this exam.";
    case "schema_table":
      return J ? `SQLite の内部テーブル ${s("name")} は使えません。` : `SQLite's internal table ${s("name")} is not part of this exam.`;
    case "table":
      return J ? `テーブル ${s("name")} はこの問題にはありません。` : `Table ${s("name")} is not part of this problem.`;
    case "function":
      return J ? `この試験では関数 ${s("name")}() は使えません。` : `The function ${s("name")}() is not allowed in this exam.`;
    case "virtual_table":
      return J ? "この試験では仮想テーブル（json_each、pragma_…、fts など）は使えません。"
        : "Virtual tables (json_each, pragma_…, fts …) are not allowed in this exam.";
    case "other":
      return J ? `この試験では操作 ${s("action")} は使えません。` : `The operation ${s("action")} is not allowed in this exam.`;
    default:
      return J ? `この操作は使えません（${r.code}）。` : `This query was refused (${r.code}).`;
  }
}

const ERRORS: Record<string, Pair> = {
  // Downloading a pack, and sync
  exam_missing: ["Enter the exam's id.", "試験 ID を入力してください。"],
  no_server: [
    "No server is set. Set the venue's server in the sync settings (top right) first.",
    "サーバーが設定されていません。先に送信の設定（右上）で会場のサーバーを設定してください。",
  ],
  offline: [
    "The server cannot be reached. Check the network and the server's address, or open the pack from a file.",
    "サーバーに接続できません。ネットワークとサーバーのアドレスを確認するか、パックをファイルから開いてください。",
  ],
  refused: ["The server refused (see the details).", "サーバーが拒否しました（詳細を参照）。"],
  not_found: [
    "The server has no pack for that exam id. Check the id with the organizer.",
    "その試験 ID のパックはサーバーにありません。ID を主催者に確認してください。",
  ],
  wrong_exam: [
    "The server sent the pack of another exam. It was not kept; tell the organizer.",
    "サーバーから別の試験のパックが送られてきました。保存していません。主催者に知らせてください。",
  ],
  untrusted_server: [
    "The server's proof does not hold: it may have lost or changed records. Tell the organizer.",
    "サーバーの証明が成り立ちません。記録を失ったか変更した可能性があります。主催者に知らせてください。",
  ],
  config: ["The network settings could not be used (see the details).", "ネットワークの設定を使用できませんでした（詳細を参照）。"],
  server_error: ["The server failed. Try again in a moment.", "サーバーでエラーが発生しました。しばらくしてからもう一度お試しください。"],
  rate_limited: ["The server is busy. Try again in a moment.", "サーバーが混み合っています。しばらくしてからもう一度お試しください。"],
  // Sync settings
  bad_server: [
    "That is not a server address. It starts with https:// (or http:// on the venue's own network), for example https://exam.example.org.",
    "サーバーのアドレスではありません。https://（会場内のネットワークでは http://）で始まります。例: https://exam.example.org",
  ],
  // Packs (docs/cli.md, `pack verify`)
  damaged: [
    "This pack was changed after it was signed. Do not use it; ask the organizer for a new copy.",
    "このパックは署名後に変更されています。使用せず、主催者に新しいコピーを依頼してください。",
  ],
  truncated: [
    "This pack file is incomplete: it was cut off while being copied or downloaded. Copy it again from the organizer's original.",
    "このパックファイルは不完全です（コピーまたはダウンロードの途中で途切れています）。主催者の元のファイルからもう一度コピーしてください。",
  ],
  entry: [
    "This pack's files are not the ones its signed list names (missing, extra, moved or too large). Do not use it; ask the organizer for a new copy.",
    "このパックのファイルが署名済みの一覧と一致しません（不足・余分・順序違い・大きすぎ）。使用せず、主催者に新しいコピーを依頼してください。",
  ],
  altered: [
    "A file in this pack was changed after the pack was signed. Do not use it; ask the organizer for a new copy.",
    "このパックのファイルが署名後に変更されています。使用せず、主催者に新しいコピーを依頼してください。",
  ],
  not_a_pack: [
    "This file is not a sqlexam pack. Choose the .sqlexam file the organizer gave you.",
    "このファイルは sqlexam のパックではありません。主催者から配布された .sqlexam ファイルを選んでください。",
  ],
  bad_signature: [
    "The pack's signature does not match its contents: it was altered or damaged. Do not use it; ask the organizer for a new copy.",
    "パックの署名が内容と一致しません。改ざんまたは破損しています。使用せず、主催者に新しいコピーを依頼してください。",
  ],
  untrusted_key: [
    "This pack is signed by a key this computer does not trust. Ask the proctor to check the venue's trusted keys.",
    "このパックは、このコンピューターが信頼していない鍵で署名されています。試験監督者に会場の信頼済み鍵を確認してもらってください。",
  ],
  revoked_key: [
    "This pack is signed by a key that has been revoked. Do not use it; tell the organizer.",
    "このパックは失効した鍵で署名されています。使用せず、主催者に連絡してください。",
  ],
  expired_endorsement: [
    "The endorsement of the key that signed this pack has expired. Ask the organizer for a newly signed pack.",
    "このパックに署名した鍵の保証期限が切れています。主催者に新しく署名されたパックを依頼してください。",
  ],
  not_yet_valid: [
    "This pack is not valid yet: its exam window has not begun. Check this computer's date and time, or wait until the exam starts.",
    "このパックはまだ有効期間になっていません。コンピューターの日付と時刻を確認するか、試験開始までお待ちください。",
  ],
  expired: [
    "This pack's validity window is over. Check this computer's date and time, or ask the organizer for a current pack.",
    "このパックの有効期間は終了しています。コンピューターの日付と時刻を確認するか、主催者に最新のパックを依頼してください。",
  ],
  downgrade: [
    "A newer version of this pack was already used on this computer, so this older one is refused. Use the latest pack from the organizer.",
    "このコンピューターでは、このパックの新しいバージョンがすでに使われているため、古いバージョンは開けません。主催者から最新のパックを受け取ってください。",
  ],
  manifest: [
    "The pack's description (manifest) is invalid. Ask the organizer for a corrected pack.",
    "パックの記述（マニフェスト）が正しくありません。主催者に修正したパックを依頼してください。",
  ],
  io: [
    "The pack file could not be read. Check the path and that the file is still there.",
    "パックファイルを読み込めませんでした。パスが正しいこと、ファイルが存在することを確認してください。",
  ],
  sealed: [
    "This pack is sealed: the start code is needed to open it.",
    "このパックは封印されています。開くには開始コードが必要です。",
  ],
  wrong_start_code: [
    "The start code is wrong. Check it with the proctor and type it again (spaces, hyphens and letter case do not matter).",
    "開始コードが違います。試験監督者に確認して、もう一度入力してください（空白・ハイフン・大文字小文字は区別しません）。",
  ],
  contents: [
    "The problems in this pack could not be loaded. Ask the organizer for a corrected pack.",
    "このパックの問題を読み込めませんでした。主催者に修正したパックを依頼してください。",
  ],
  key: ["A signing key could not be read. Call the proctor.", "署名鍵を読み込めませんでした。試験監督者を呼んでください。"],
  // Sessions
  store: [
    "The exam data on this computer could not be read or written. Call the proctor.",
    "このコンピューターの試験データを読み書きできませんでした。試験監督者を呼んでください。",
  ],
  store_damaged: [
    "The exam data on this computer is damaged. Call the proctor.",
    "このコンピューターの試験データが破損しています。試験監督者を呼んでください。",
  ],
  store_tampered: [
    "The exam records on this computer were altered. Call the proctor.",
    "このコンピューターの試験記録が改ざんされています。試験監督者を呼んでください。",
  ],
  already_started: [
    "This candidate has already taken this exam on this computer. Call the proctor.",
    "この受験者は、このコンピューターですでにこの試験を受験しています。試験監督者を呼んでください。",
  ],
  store_busy: [
    "The exam data is in use by another sqlexam program on this computer. Close it, then restart the app.",
    "試験データは、このコンピューター上の別の sqlexam プログラムが使用中です。そのプログラムを閉じてから、アプリを再起動してください。",
  ],
  pack: [
    "The exam pack could not be used. Call the proctor.",
    "試験パックを使用できませんでした。試験監督者を呼んでください。",
  ],
  no_session: [
    "No exam has been started on this computer.",
    "このコンピューターでは試験が開始されていません。",
  ],
  no_problem: ["This problem is not part of the exam.", "この問題は試験に含まれていません。"],
  time_up: [
    "The exam time is over. Nothing more can be submitted.",
    "試験時間は終了しました。これ以上提出できません。",
  ],
  ended: ["The exam has ended for this candidate.", "この受験者の試験は終了しています。"],
  interrupted: [
    "The exam is paused until a proctor resumes it.",
    "試験監督者が再開するまで試験は中断しています。",
  ],
  wrong_passphrase: ["The proctor passphrase is wrong.", "試験監督者のパスフレーズが違います。"],
  no_proctor: [
    "This pack has no proctor passphrase, so proctor actions are not available.",
    "このパックには試験監督者のパスフレーズが設定されていないため、試験監督者の操作は使えません。",
  ],
  invalid: ["That input is not valid.", "入力内容が正しくありません。"],
  folder_missing: ["Choose the folder to export into.", "書き出し先のフォルダーを選んでください。"],
  write_failed: [
    "The files could not be written to that folder. Check the USB stick (is it full or read-only?) and try again.",
    "そのフォルダーにファイルを書き込めませんでした。USB メモリ（空き容量や書き込み禁止）を確認して、もう一度お試しください。",
  ],
  nothing_to_export: ["This computer holds no exam records to export.", "このコンピューターには書き出す試験記録がありません。"],
  pack_copy_missing: [
    "The copy of the exam pack on this computer is missing, so the bundle cannot be signed. Call the organizer.",
    "このコンピューターの試験パックの控えが見つからないため、バンドルに署名できません。主催者に連絡してください。",
  ],
  // Found by the UI before asking the backend.
  empty_query: [
    "There is no query to run: the editor is empty or holds only comments. Nothing was submitted.",
    "実行するクエリがありません（エディターが空か、コメントだけです）。何も提出されていません。",
  ],
  no_pack: ["Open a pack before checking in.", "受付の前にパックを開いてください。"],
  internal: [
    "Something went wrong inside the app. Tell the proctor; your submitted work is saved.",
    "アプリ内部でエラーが発生しました。試験監督者に知らせてください。提出済みの内容は保存されています。",
  ],
};

/**
 * Errors whose English `message` adds facts the sentence lacks (a path, a damaged table):
 * shown as technical detail for the proctor. For the rest the sentence says it all.
 */
const DETAIL_CODES = new Set(["write_failed", "pack_copy_missing", "bad_server", "offline", "refused", "not_found", "wrong_exam", "untrusted_server", "config", "server_error", "io", "store", "store_damaged", "store_tampered", "store_busy", "contents", "manifest", "pack", "key", "internal"]);
export const errorDetailShown = (e: AppError): boolean => !!e.message && (DETAIL_CODES.has(e.code) || !ERRORS[e.code]);

/** The translated sentence for a backend error, by its code. */
export function errorText(e: AppError): string {
  const p = ERRORS[e.code];
  if (p) return pick(p);
  return ja() ? `エラーが発生しました（${e.code}）。` : `Something went wrong (${e.code}).`;
}

/** CodeMirror's own phrases (fold gutter, search panel, completion list …). */
export function editorPhrases(): Record<string, string> {
  if (!ja()) return {};
  return {
    "Fold line": "折りたたむ", "Unfold line": "展開する", "Folded lines": "行を折りたたみました",
    "Unfolded lines": "行を展開しました", to: "〜", "folded code": "折りたたまれたコード", unfold: "展開",
    Find: "検索", Replace: "置換", next: "次へ", previous: "前へ", all: "すべて", "match case": "大文字小文字を区別",
    "by word": "単語単位", regexp: "正規表現", replace: "置換", "replace all": "すべて置換", close: "閉じる",
    "current match": "現在の一致", "on line": "行目", "replaced match on line $": "$ 行目の一致を置換しました",
    "replaced $ matches": "$ 件を置換しました", "Go to line": "行へ移動", go: "移動",
    "Selection deleted": "選択範囲を削除しました", Completions: "入力候補", "Control character": "制御文字",
    Diagnostics: "診断", "No diagnostics": "診断はありません",
  };
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
