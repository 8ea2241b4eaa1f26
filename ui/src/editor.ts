// The SQL editor: CodeMirror 6 with SQLite's own words and completion of the current
// problem's tables and columns. Enter always types a new line: a completion is taken with
// Tab, or with Enter only after moving into the list (arrow keys). Tab moves focus out
// when no list is open, so keyboard users are never trapped in the editor.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorSelection, EditorState, Prec } from "@codemirror/state";
import { schemaCompletionSource, SQLDialect, SQLite } from "@codemirror/lang-sql";
import { LanguageSupport, syntaxTree } from "@codemirror/language";
import {
  acceptCompletion, autocompletion, closeCompletion, completionStatus, moveCompletionSelection,
  selectedCompletionIndex, setSelectedCompletion, startCompletion,
  type Completion, type CompletionContext, type CompletionResult, type CompletionSource,
} from "@codemirror/autocomplete";
import type { TableInfo } from "./backend";
import { editorPhrases } from "./i18n";
import { FUNCTIONS, KEYWORDS, OFFERED_KEYWORDS, TYPES } from "./sqlite";

/** SQLite as the grader runs it: its tokenizer settings, its keywords, its functions. */
const dialect = SQLDialect.define({
  ...SQLite.spec,
  keywords: KEYWORDS.join(" "),
  types: TYPES.filter((t) => !FUNCTIONS.includes(t)).join(" "),
  builtin: FUNCTIONS.join(" "),
});

/** Keywords and functions, never inside strings, comments or after a dot. */
const wordOptions: Completion[] = [
  ...OFFERED_KEYWORDS.map((k) => ({ label: k.toUpperCase(), type: "keyword", boost: -1 })),
  ...FUNCTIONS.map((fn) => ({ label: fn, type: "function", detail: "()", boost: -1 })),
];
const wordSource: CompletionSource = (ctx) => {
  const word = ctx.matchBefore(/\w+/);
  if (!word && !ctx.explicit) return null;
  const from = word ? word.from : ctx.pos;
  if (ctx.state.sliceDoc(from - 1, from) === ".") return null;
  if (/String|Comment|QuotedIdentifier/.test(syntaxTree(ctx.state).resolveInner(ctx.pos, -1).name)) return null;
  return { from, options: wordOptions, validFor: /^\w*$/ };
};

function sqlSupport(tables: TableInfo[]): LanguageSupport {
  const schema: Record<string, string[]> = {};
  for (const tb of tables) schema[tb.name] = tb.columns.map((c) => c.name);
  return new LanguageSupport(dialect.language, [
    dialect.language.data.of({ autocomplete: wordSource }),
    tables.length ? dialect.language.data.of({ autocomplete: schemaCompletionSource({ dialect, schema }) }) : [],
    tables.length ? dialect.language.data.of({ autocomplete: columnSource(tables) }) : [],
  ]);
}

/** Tab takes the highlighted completion, or the first one when none is highlighted. */
const acceptWithTab = (view: EditorView): boolean => {
  if (completionStatus(view.state) !== "active") return false;
  if (selectedCompletionIndex(view.state) === null || selectedCompletionIndex(view.state)! < 0) {
    view.dispatch({ effects: setSelectedCompletion(0) });
  }
  return acceptCompletion(view);
};

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
      // Nothing is highlighted when the list opens, so Enter types a new line; the
      // default keymap (Enter accepts) is replaced by the one below.
      autocompletion({ selectOnOpen: false, defaultKeymap: false, icons: true }),
      Prec.highest(
        keymap.of([
          { key: "Ctrl-Space", run: startCompletion },
          { key: "Escape", run: closeCompletion },
          { key: "ArrowDown", run: moveCompletionSelection(true) },
          { key: "ArrowUp", run: moveCompletionSelection(false) },
          { key: "PageDown", run: moveCompletionSelection(true, "page") },
          { key: "PageUp", run: moveCompletionSelection(false, "page") },
          { key: "Tab", run: acceptWithTab },
          { key: "Enter", run: acceptCompletion },
        ]),
      ),
      lang.of(sqlSupport([])),
      EditorView.editorAttributes.of({ class: "editor" }),
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
      view.dispatch({ effects: lang.reconfigure(sqlSupport(tables)) });
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
