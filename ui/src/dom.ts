// A tiny DOM builder and the helpers every screen uses.
import type { AppError } from "./backend";
import { errorDetailShown, errorText, t } from "./i18n";

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (ev: Event) => void;
export interface Attrs {
  [name: string]: string | number | boolean | Handler | null | undefined;
}

/**
 * h("button", {tid: "submit", onclick: …}, "Submit"). `tid` sets both id and data-testid;
 * `on*` functions become listeners; booleans toggle attributes; null/undefined/false skip.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "tid") {
      el.id = String(value);
      el.setAttribute("data-testid", String(value));
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value as Handler);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/**
 * Replaces a region's content and keeps keyboard focus where it was when the focused
 * element has a stable id (or data-testid) in the new content.
 */
export function replace(region: Element, ...children: Child[]): void {
  const active = document.activeElement;
  let key: string | null = null;
  if (active && active !== document.body && region.contains(active)) {
    if (active.id) key = `#${CSS.escape(active.id)}`;
    else if (active.getAttribute("data-testid")) key = `[data-testid="${CSS.escape(active.getAttribute("data-testid")!)}"]`;
  }
  region.replaceChildren();
  append(region, children);
  if (key) {
    const again = region.querySelector<HTMLElement>(key);
    again?.focus({ preventScroll: true });
  }
}

/** Any rejection from invoke() or a plugin, as {code, message}. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && typeof (e as AppError).code === "string") {
    const a = e as AppError;
    return { code: a.code, message: typeof a.message === "string" ? a.message : "" };
  }
  if (typeof e === "string") return { code: "internal", message: e };
  if (e instanceof Error) return { code: "internal", message: e.message };
  return { code: "internal", message: String(e) };
}

/**
 * A translated error sentence. The backend's English message is shown only where it adds
 * facts (a path, what is damaged), labelled as technical detail for the proctor.
 */
export function errorBox(err: AppError | null, tid: string): HTMLElement {
  const box = h("div", { tid, class: "error", role: "alert", tabindex: -1, "data-code": err?.code ?? null, hidden: !err });
  if (err) {
    append(box, [
      h("p", { class: "error-main" }, errorText(err)),
      errorDetailShown(err) ? h("p", { class: "error-detail" }, h("span", { class: "detail-label" }, `${t("details")}: `), err.message) : null,
    ]);
  }
  return box;
}

export function debounce(ms: number, fn: () => void): { schedule(): void; flush(): void; cancel(): void } {
  let timer: number | undefined;
  return {
    schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => { timer = undefined; fn(); }, ms);
    },
    flush() {
      if (timer !== undefined) { window.clearTimeout(timer); timer = undefined; fn(); }
    },
    cancel() { window.clearTimeout(timer); timer = undefined; },
  };
}
