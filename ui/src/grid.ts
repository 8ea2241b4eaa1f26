// Result sets as tables, and the comparison of a produced result with the expected one.
import type { Cell, ResultSet } from "./backend";
import { f, t } from "./i18n";
import { h } from "./dom";

/** Rows shown per grid before "… and N more". */
const MAX_ROWS = 200;

/** A cell as SQLite's shell shows it: NULL, 2, 2.0, 0.1, 1.0e+20, text as is, X'…'. */
export function cellText(c: Cell): string {
  if (c === null) return "NULL";
  if (typeof c === "object") return "real" in c ? realText(c.real) : `X'${c.blob}'`;
  return String(c);
}

/** SQLite prints a REAL with 15 significant digits ("%!.15g") and always a fraction. */
export function realText(r: number): string {
  if (!Number.isFinite(r)) return Number.isNaN(r) ? "NULL" : r > 0 ? "Inf" : "-Inf";
  let s = r.toPrecision(15);
  let exp = "";
  const e = s.indexOf("e");
  if (e >= 0) {
    exp = s.slice(e);
    s = s.slice(0, e);
  }
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, ".0");
  else s += ".0";
  if (exp) exp = exp.replace(/^e([+-])(\d)$/, "e$10$2");
  return s + exp;
}

const isNumber = (c: Cell): boolean => typeof c === "number" || (c !== null && typeof c === "object" && "real" in c);

// 2 and 2.0 are the same value to the grader, so they mark the same rows.
const cellKey = (c: Cell): string =>
  c === null ? "n"
  : typeof c === "object" ? ("real" in c ? `d${c.real}` : `b${c.blob}`)
  : typeof c === "number" ? `d${c}` : `s${c}`;
export const rowKey = (r: Cell[]): string => JSON.stringify(r.map(cellKey));

export function rowText(r: Cell[] | null): string {
  return r ? `(${r.map(cellText).join(", ")})` : t("no_row");
}

export interface GridOptions {
  caption?: string;
  /** Row indexes (0-based) to highlight, and the class to use. */
  marks?: Map<number, string>;
  /** 1-based column to outline in a marked row (first difference). */
  cell?: { row: number; column: number };
  testid?: string;
}

let gridIds = 0;

export function grid(rs: ResultSet, o: GridOptions = {}): HTMLElement {
  const shown = rs.rows.slice(0, MAX_ROWS);
  const capId = `grid-cap-${++gridIds}`;
  const table = h(
    "table",
    { class: "grid", "data-testid": o.testid ?? null, "aria-labelledby": capId },
    h("thead", null, h("tr", null, rs.columns.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      shown.map((row, i) =>
        h(
          "tr",
          { class: o.marks?.get(i) ?? null },
          row.map((c, j) =>
            h(
              "td",
              {
                class: [
                  c === null ? "null" : isNumber(c) ? "num" : null,
                  o.cell && o.cell.row === i && o.cell.column === j + 1 ? "diff-cell" : null,
                ].filter(Boolean).join(" ") || null,
              },
              cellText(c),
            ),
          ),
        ),
      ),
      rs.rows.length === 0
        ? h("tr", null, h("td", { colspan: Math.max(1, rs.columns.length), class: "muted" }, t("no_rows")))
        : null,
    ),
  );
  return h(
    "div",
    { class: "grid-block" },
    h("div", { class: "grid-caption", id: capId }, o.caption ? [o.caption, " "] : null, h("span", { class: "muted" }, `(${f.rows(rs.rows.length)})`)),
    h("div", { class: "grid-wrap", tabindex: 0, role: "region", "aria-labelledby": capId }, table),
    rs.rows.length > MAX_ROWS ? h("p", { class: "muted small" }, f.moreRows(rs.rows.length - MAX_ROWS)) : null,
  );
}

/**
 * Marks the rows of `rows` that match entries of `wanted` (as a multiset), e.g. the extra
 * rows the grader listed, inside the produced result.
 */
export function markRows(rows: Cell[][], wanted: Cell[][], cls: string): Map<number, string> {
  const counts = new Map<string, number>();
  for (const w of wanted) counts.set(rowKey(w), (counts.get(rowKey(w)) ?? 0) + 1);
  const marks = new Map<number, string>();
  rows.forEach((r, i) => {
    const k = rowKey(r);
    const n = counts.get(k) ?? 0;
    if (n > 0) {
      marks.set(i, cls);
      counts.set(k, n - 1);
    }
  });
  return marks;
}
