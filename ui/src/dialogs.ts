// Modal dialogs on <dialog>: focus moves in, Escape closes, focus returns where it was,
// and the content re-renders on a language switch.
import { h, replace } from "./dom";
import { t, type Key } from "./i18n";
import { onLang } from "./state";

export interface Modal {
  dialog: HTMLDialogElement;
  close(): void;
  rerender(): void;
}

export function openModal(o: {
  tid?: string;
  labelledBy: string;
  render: (dialog: HTMLDialogElement) => void;
  onClose?: () => void;
  /** Element (selector) to focus first. */
  initialFocus?: string;
}): Modal {
  const previous = document.activeElement as HTMLElement | null;
  const previousId = previous?.id;
  const dialog = h("dialog", { class: "modal", tid: o.tid ?? null, "aria-labelledby": o.labelledBy });
  let open = true;
  const stop = onLang(() => o.render(dialog));
  const close = () => {
    if (!open) return;
    open = false;
    stop();
    if (dialog.open) dialog.close();
    dialog.remove();
    o.onClose?.();
    // The opener may have been re-rendered meanwhile: find it again by id.
    const back = previous?.isConnected ? previous : previousId ? document.getElementById(previousId) : null;
    back?.focus();
  };
  // Escape: the browser fires "cancel"; we close ourselves so cleanup always runs.
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
  o.render(dialog);
  document.body.append(dialog);
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", ""); // very old WebKit: still shown, Escape still handled below
  dialog.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); close(); } });
  const first = o.initialFocus ? dialog.querySelector<HTMLElement>(o.initialFocus) : null;
  first?.focus();
  return { dialog, close, rerender: () => o.render(dialog) };
}

let confirmOpen = false;

/** Asks a yes/no question; resolves false on Cancel or Escape. */
export function confirmDialog(message: Key, ok: Key, cancel: Key = "cancel", danger = false): Promise<boolean> {
  if (confirmOpen) return Promise.resolve(false);
  confirmOpen = true;
  return new Promise((resolve) => {
    let answer = false;
    const m = openModal({
      tid: "confirm-dialog",
      labelledBy: "confirm-message",
      initialFocus: "#confirm-cancel",
      onClose: () => { confirmOpen = false; resolve(answer); },
      render: (d) =>
        replace(
          d,
          h("p", { id: "confirm-message", class: "confirm-message" }, t(message)),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", tid: "confirm-cancel", onclick: () => m.close() }, t(cancel)),
            h(
              "button",
              { type: "button", tid: "confirm-ok", class: danger ? "danger" : "primary", onclick: () => { answer = true; m.close(); } },
              t(ok),
            ),
          ),
        ),
    });
  });
}
