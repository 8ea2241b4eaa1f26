// The helpers every screen uses, over the DOM builder shared with the dashboard (h.ts).
import type { AppError } from "./backend";
import { errorDetailShown, errorText, t } from "./i18n";

export { append, h, type Attrs, type Child } from "./h";
import { append, h, type Child } from "./h";

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
