/* Building the page from elements, never from HTML strings: every text the service
   sends (titles, notes, file names) goes in as a text node. */

type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;
type Handler = (event: Event) => void;
export type Attrs = Record<string, AttrValue | Handler>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, ""), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

let counter = 0;
/** A page-unique id, for label/hint/error links. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export interface Field<C extends Control> {
  root: HTMLElement;
  control: C;
  /** The field's own error line (null clears it). */
  setError(message: string | null): void;
  /** Mark the field wrong because of a message shown elsewhere (a form's alert), or clear that. */
  linkError(alertId: string | null): void;
}

/** A labelled control with an optional hint and an error line, wired for screen readers
    (the label's `for`, `aria-describedby` to the hint and the errors, `aria-invalid`). */
export function field<C extends Control>(
  label: string,
  control: C,
  options: { hint?: string; optional?: boolean; fileButton?: boolean } = {},
): Field<C> {
  const id = control.id || uid("f");
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const hint = options.hint === undefined ? null : h("p", { class: "hint", id: hintId }, options.hint);
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  let ownError = false;
  let linked: string | null = null;
  const describe = (): void => {
    const ids = [hint ? hintId : null, ownError ? errorId : null, linked].filter((x): x is string => x !== null);
    if (ids.length > 0) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
    if (ownError || linked !== null) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  };
  describe();
  const labelElement = h(
    "label",
    { for: id, class: options.fileButton ? "button file-button" : null },
    label,
    options.optional ? h("span", { class: "optional" }, "（选填）") : null,
  );
  // A file input shows the browser's own button, in the browser's language; this one
  // is hidden (still focusable) and its label is the button the user sees.
  if (options.fileButton) control.classList.add("file-input");
  const root = options.fileButton
    ? h("div", { class: "field file-field" }, hint, control, labelElement, error)
    : h("div", { class: "field" }, labelElement, hint, control, error);
  return {
    root,
    control,
    setError(message) {
      ownError = message !== null;
      error.hidden = !ownError;
      error.textContent = message ?? "";
      describe();
    },
    linkError(alertId) {
      linked = alertId;
      describe();
    },
  };
}

/** A form's message area, announced when filled (`role="alert"`, present while empty so
    every screen reader notices the change). An error can point at the fields it concerns. */
export interface Notice {
  root: HTMLElement;
  error(message: string, fields?: Field<Control>[]): void;
  clear(): void;
}

export function errorBox(): Notice {
  const root = h("div", { class: "alert", role: "alert", id: uid("alert") });
  let marked: Field<Control>[] = [];
  return {
    root,
    error(message, fields = []) {
      root.textContent = message;
      marked = fields;
      for (const f of marked) f.linkError(root.id);
    },
    clear() {
      root.textContent = "";
      for (const f of marked) f.linkError(null);
      marked = [];
    },
  };
}

/** A polite status line for progress ("正在上传…") and results that need no action. */
export function statusLine(): { root: HTMLElement; say(message: string): void } {
  const root = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
  return {
    root,
    say(message) {
      root.textContent = message;
    },
  };
}

/** Disable a form's controls while a request runs, so it is not sent twice. */
export function setBusy(form: HTMLFormElement, busy: boolean): void {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  for (const element of Array.from(form.elements)) {
    if (element instanceof HTMLButtonElement || element instanceof HTMLInputElement) element.disabled = busy;
    if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) element.disabled = busy;
  }
}
