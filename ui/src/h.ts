// The DOM builder the app and the dashboard share: elements from tags, attributes and
// children, every text inserted as text (never as HTML).

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (ev: Event) => void;
export interface Attrs {
  [name: string]: string | number | boolean | Handler | null | undefined;
}

function build<E extends Element>(el: E, attrs: Attrs | null, children: Child[]): E {
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

/**
 * h("button", {tid: "submit", onclick: …}, "Submit"). `tid` sets both id and data-testid
 * (for an element that appears once; a repeated one sets "data-testid" itself); `on*`
 * functions become listeners; booleans toggle attributes; null/undefined/false skip.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements (charts). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  return build(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}
