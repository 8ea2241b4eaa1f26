// The SQL editor: CodeMirror 6 with the SQLite dialect and completion of the current
// problem's tables and columns. Tab moves focus out (no tab capture), so keyboard users
// are never trapped in it.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorSelection, EditorState, Prec } from "@codemirror/state";
import { sql, SQLite } from "@codemirror/lang-sql";
import { syntaxTree } from "@codemirror/language";
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import type { TableInfo } from "./backend";
import { editorPhrases } from "./i18n";

export interface SqlEditor {
  view: EditorView;
  get(): string;
  /** Replaces the text; `silent` skips the change callback (restoring a draft). */
  set(text: string, silent?: boolean): void;
  setSchema(tables: TableInfo[]): void;
  /** The content's accessible name and CodeMirror's phrases, after a language switch. */
  setLabel(label: string): void;
  setEditable(on: boolean): void;
  goTo(line: number, column: number): void;
  focus(): void;
}

export function createEditor(o: {
  label: string;
  onChange: (text: string) => void;
  onRun: () => void;
  onSubmit: () => void;
}): SqlEditor {
  const lang = new Compartment();
  const attrs = new Compartment();
  const editable = new Compartment();
  const phrases = new Compartment();
  let silent = false;
  const contentAttrs = (label: string) =>
    EditorView.contentAttributes.of({ "aria-label": label, "data-testid": "editor", id: "editor" });

  const view = new EditorView({
    doc: "",
    extensions: [
      basicSetup,
      lang.of(sql({ dialect: SQLite, upperCaseKeywords: true })),
      attrs.of(contentAttrs(o.label)),
      phrases.of(EditorState.phrases.of(editorPhrases())),
      editable.of(EditorView.editable.of(true)),
      EditorView.lineWrapping,
      Prec.highest(
        keymap.of([
          { key: "Mod-Shift-Enter", run: () => { o.onSubmit(); return true; } },
          { key: "Mod-Enter", run: () => { o.onRun(); return true; } },
        ]),
      ),
      EditorView.updateListener.of((u) => {
        if (u.docChanged && !silent) o.onChange(u.state.doc.toString());
      }),
    ],
  });
  view.dom.classList.add("editor");

  return {
    view,
    get: () => view.state.doc.toString(),
    set(text, quiet = false) {
      silent = quiet;
      try {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          selection: EditorSelection.cursor(text.length),
        });
      } finally {
        silent = false;
      }
    },
    setSchema(tables) {
      const schema: Record<string, string[]> = {};
      for (const tb of tables) schema[tb.name] = tb.columns.map((c) => c.name);
      view.dispatch({
        effects: lang.reconfigure([
          sql({ dialect: SQLite, schema, upperCaseKeywords: true }),
          SQLite.language.data.of({ autocomplete: columnSource(tables) }),
        ]),
      });
    },
    setLabel(label) {
      view.dispatch({
        effects: [attrs.reconfigure(contentAttrs(label)), phrases.reconfigure(EditorState.phrases.of(editorPhrases()))],
      });
    },
    setEditable(on) {
      view.dispatch({ effects: editable.reconfigure(EditorView.editable.of(on)) });
    },
    goTo(line, column) {
      const doc = view.state.doc;
      const l = doc.line(Math.min(Math.max(1, line), doc.lines));
      const pos = Math.min(l.from + Math.max(0, column - 1), l.to);
      view.dispatch({ selection: EditorSelection.cursor(pos), scrollIntoView: true });
      view.focus();
    },
    focus: () => view.focus(),
  };
}

/**
 * lang-sql completes table names, and columns after `table.`; candidates mostly write bare
 * column names, so offer every column of the problem's tables too (not after a dot, nor
 * inside strings and comments).
 */
function columnSource(tables: TableInfo[]): (ctx: CompletionContext) => CompletionResult | null {
  const seen = new Map<string, Completion>();
  for (const tb of tables) {
    for (const c of tb.columns) {
      const prev = seen.get(c.name);
      if (prev) prev.detail = `${prev.detail}, ${tb.name}`;
      else seen.set(c.name, { label: c.name, type: "property", detail: tb.name });
    }
  }
  const options = [...seen.values()];
  return (ctx) => {
    const word = ctx.matchBefore(/[\w$]*/);
    if (!word || (word.from === word.to && !ctx.explicit)) return null;
    if (ctx.state.sliceDoc(word.from - 1, word.from) === ".") return null;
    const node = syntaxTree(ctx.state).resolveInner(ctx.pos, -1).name;
    if (/String|Comment|QuotedIdentifier/.test(node)) return null;
    return { from: word.from, options, validFor: /^[\w$]*$/ };
  };
}
