// A grading as the candidate sees it: verdict, score, datasets, and for sample datasets
// the produced result against the expected one.
import type { DatasetOutcome, Grading, Mismatch, ProblemDetail, ResultSet, SampleData, Verdict } from "./backend";
import { h, type Child } from "./dom";
import { f, refusalText, t, verdictName } from "./i18n";
import { grid, markRows, rowText } from "./grid";

export function verdictBadge(v: Verdict, tid: string | null = null): HTMLElement {
  return h("span", { class: `verdict v-${v}`, "data-testid": tid, "data-verdict": v }, verdictName(v));
}

/** The problem's sample matching a dataset name such as "sample/01-small". */
function findSample(p: ProblemDetail | undefined, name: string): SampleData | undefined {
  if (!p) return undefined;
  const base = name.replace(/^sample\//, "");
  return p.samples.find((s) => s.name === name || s.name === base || s.name.replace(/^sample\//, "") === base);
}

export interface GradingView {
  grading: Grading;
  problem: ProblemDetail | undefined;
  submission?: number;
  goTo(line: number, column: number): void;
}

export function renderGrading(v: GradingView): HTMLElement {
  const g = v.grading;
  const scored = g.scope === "all";
  const head = h(
    "div",
    { class: "verdict-line" },
    verdictBadge(g.verdict, "verdict"),
    scored
      ? h("span", { class: "score", "data-testid": "score" }, f.score(g.score, g.max_score))
      : h("span", { class: "muted" }, t("sample_only")),
    v.submission !== undefined ? h("span", { class: "muted small" }, f.submissionNo(v.submission)) : null,
  );
  const feedback: Child[] = [];
  const d = g.diagnostic;
  if (d?.kind === "forbidden") {
    feedback.push(
      h("div", { class: "diag", "data-refusal": d.refusal.code },
        h("p", null, h("strong", null, t("refused"))),
        h("p", { class: "refusal" }, refusalText(d.refusal))),
    );
  } else if (d?.kind === "sql_error") {
    feedback.push(
      h("div", { class: "diag" },
        h("p", null, t("sql_error_hint")),
        h("pre", { class: "sql-message" }, d.message),
        h("p", null,
          h("button", { type: "button", class: "link-button", tid: "goto-error", title: t("goto_line"), onclick: () => v.goTo(d.line, d.column) },
            f.sqlErrorAt(d.line, d.column), " — ", t("goto_line")))),
    );
  }
  if (g.datasets.length) {
    feedback.push(
      h("h3", null, t("datasets")),
      h("ul", { class: "datasets" },
        g.datasets.map((ds) =>
          h("li", { class: ds.verdict === "accepted" ? "pass" : "fail", "data-dataset": ds.name, "data-verdict": ds.verdict },
            h("span", { class: "mark", "aria-hidden": "true" }, ds.verdict === "accepted" ? "✓" : "✗"),
            " ", h("span", { class: "ds-name" }, ds.name), " ",
            h("span", { class: "muted small" }, `(${t(ds.visibility === "sample" ? "sample" : "hidden")})`), " — ",
            ds.verdict === "accepted" ? t("passed") : [t("failed"), ": ", verdictName(ds.verdict)]))),
    );
    if (g.datasets.some((ds) => ds.visibility === "secret")) feedback.push(h("p", { class: "muted small" }, t("secret_note")));
  }
  if (scored && g.groups.length > 1) {
    feedback.push(h("p", { class: "small" }, `${t("groups")}: `, g.groups.map((gr) => `${gr.name} ${gr.earned}/${gr.points}`).join(", ")));
  }
  // Sample feedback: every sample on a sample run; failed ones after a submission.
  for (const ds of g.datasets) {
    if (ds.visibility !== "sample") continue;
    if (scored && ds.verdict === "accepted") continue;
    feedback.push(renderDataset(ds, findSample(v.problem, ds.name), v.problem, v.goTo));
  }
  return h("div", { class: `grading ${g.verdict === "accepted" ? "ok" : "bad"}` }, head, h("div", { tid: "feedback", class: "feedback" }, feedback));
}

function renderDataset(ds: DatasetOutcome, sample: SampleData | undefined, p: ProblemDetail | undefined, goTo: (l: number, c: number) => void): HTMLElement {
  const out: Child[] = [h("h3", null, f.sampleName(ds.name.replace(/^sample\//, "")), " ", verdictBadge(ds.verdict))];
  const det = ds.detail;
  let mismatch: Mismatch | null = null;
  if (det?.kind === "mismatch") {
    mismatch = det.mismatch;
    out.push(mismatchText(det.mismatch, p));
  } else if (det?.kind === "runtime_error") {
    out.push(
      h("p", null, f.runtimeError(det.line)),
      h("pre", { class: "sql-message" }, det.message),
      h("p", null, h("button", { type: "button", class: "link-button", onclick: () => goTo(det.line, 1) }, t("goto_line"))),
    );
  } else if (det?.kind === "time_limit") {
    out.push(h("p", null, f.timeLimit(det.steps, det.limit, det.by_wall_clock)));
  } else if (det?.kind === "output_limit") {
    out.push(h("p", null, f.outputLimit(det.rows, det.row_limit, det.bytes)));
  }
  // Produced against expected, side by side.
  const produced = ds.produced;
  const expected = sample?.expected;
  if (produced && "rows" in produced) {
    const exp = expected && "rows" in expected ? expected.rows : null;
    out.push(compare(produced.rows, exp, mismatch, null));
  } else if (produced && "tables" in produced) {
    const names = p?.check_tables ?? [];
    const exps = expected && "tables" in expected ? expected.tables : [];
    produced.tables.forEach((rs, i) => {
      const name = names[i] ?? String(i + 1);
      const m = mismatch && (mismatch.kind !== "rows" || mismatch.table === null || mismatch.table === name) ? mismatch : null;
      out.push(compare(rs, exps[i] ?? null, m, name));
    });
  }
  return h("section", { class: "dataset", "data-dataset": ds.name }, out);
}

function compare(actual: ResultSet, expected: ResultSet | null, m: Mismatch | null, table: string | null): HTMLElement {
  let actualMarks: Map<number, string> | undefined;
  let expectedMarks: Map<number, string> | undefined;
  let cell: { row: number; column: number } | undefined;
  let legend = false;
  if (m?.kind === "rows" && (m.table === null || m.table === table)) {
    actualMarks = markRows(actual.rows, m.extra, "extra");
    if (expected) expectedMarks = markRows(expected.rows, m.missing, "missing");
    legend = true;
  } else if (m?.kind === "order") {
    const r = m.first_difference.row - 1;
    actualMarks = new Map([[r, "diff-row"]]);
    expectedMarks = new Map([[r, "diff-row"]]);
    if (m.first_difference.column !== null) cell = { row: r, column: m.first_difference.column };
  }
  return h(
    "div",
    { class: "compare" },
    h("div", null,
      grid(actual, { caption: table ? f.yourTable(table) : t("your_result"), marks: actualMarks, cell, testid: "produced" }),
      legend && actualMarks?.size ? h("p", { class: "legend extra small" }, t("legend_extra")) : null),
    expected
      ? h("div", null,
          grid(expected, { caption: table ? f.expectedTable(table) : t("expected"), marks: expectedMarks, cell, testid: "expected" }),
          legend && expectedMarks?.size ? h("p", { class: "legend missing small" }, t("legend_missing")) : null)
      : null,
  );
}

function mismatchText(m: Mismatch, p: ProblemDetail | undefined): HTMLElement {
  switch (m.kind) {
    case "column_count":
      return h("p", { class: "explain", "data-mismatch": "column_count" }, f.columnCount(m.expected, m.actual));
    case "column_names":
      return h("p", { class: "explain", "data-mismatch": "column_names" }, f.columnNames(m.expected, m.actual));
    case "order":
      return h("div", { class: "explain", "data-mismatch": "order" },
        h("p", null, h("strong", null, t("wrong_order")), " ", p?.order_required !== false ? t("wrong_order_hint") : ""),
        diffLine(m.first_difference.row, m.first_difference.column, m.first_difference.expected, m.first_difference.actual));
    case "rows":
      return h("div", { class: "explain", "data-mismatch": "rows" },
        h("p", null, f.rowsSummary(m.table, m.expected_rows, m.actual_rows, m.missing_count, m.extra_count)),
        m.missing.length ? rowList(t("missing_rows"), m.missing.map((r) => rowText(r)), m.missing_count, "missing") : null,
        m.extra.length ? rowList(t("extra_rows"), m.extra.map((r) => rowText(r)), m.extra_count, "extra") : null,
        m.first_difference
          ? diffLine(m.first_difference.row, m.first_difference.column, m.first_difference.expected, m.first_difference.actual)
          : null);
  }
}

function rowList(title: string, rows: string[], total: number, cls: string): HTMLElement {
  return h("div", { class: `rowlist ${cls}` },
    h("p", { class: "small" }, h("strong", null, title)),
    h("ul", null, rows.map((r) => h("li", null, h("code", null, r))),
      total > rows.length ? h("li", { class: "muted" }, f.moreRows(total - rows.length)) : null));
}

function diffLine(row: number, col: number | null, exp: Parameters<typeof rowText>[0], act: Parameters<typeof rowText>[0]): HTMLElement {
  return h("p", { class: "small" }, f.firstDiff(row, col), ": ",
    `${t("expected")} `, h("code", null, rowText(exp)), " / ", `${t("your_result")} `, h("code", null, rowText(act)));
}
