/* Building the page from elements, never from HTML strings: every text the service
   sends (titles, notes, file names) goes in as a text node. */
export function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs ?? {})) {
        if (typeof value === "function") {
            element.addEventListener(name.replace(/^on/, ""), value);
        }
        else if (value === true) {
            element.setAttribute(name, "");
        }
        else if (value !== false && value !== null && value !== undefined) {
            element.setAttribute(name, String(value));
        }
    }
    append(element, children);
    return element;
}
export function append(parent, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false)
            continue;
        if (Array.isArray(child))
            append(parent, child);
        else
            parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
}
export function replaceChildren(parent, ...children) {
    while (parent.firstChild)
        parent.removeChild(parent.firstChild);
    append(parent, children);
}
let counter = 0;
/** A page-unique id, for label/hint/error links. */
export function uid(prefix) {
    counter += 1;
    return `${prefix}-${counter}`;
}
/** A labelled control with an optional hint and an error line, wired for screen readers
    (the label's `for`, `aria-describedby` to the hint and the errors, `aria-invalid`). */
export function field(label, control, options = {}) {
    const id = control.id || uid("f");
    control.id = id;
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const hint = options.hint === undefined ? null : h("p", { class: "hint", id: hintId }, options.hint);
    const error = h("p", { class: "field-error", id: errorId, hidden: true });
    let ownError = false;
    let linked = null;
    const describe = () => {
        const ids = [hint ? hintId : null, ownError ? errorId : null, linked].filter((x) => x !== null);
        if (ids.length > 0)
            control.setAttribute("aria-describedby", ids.join(" "));
        else
            control.removeAttribute("aria-describedby");
        if (ownError || linked !== null)
            control.setAttribute("aria-invalid", "true");
        else
            control.removeAttribute("aria-invalid");
    };
    describe();
    const labelElement = h("label", { for: id, class: options.fileButton ? "button file-button" : null }, label, options.optional ? h("span", { class: "optional" }, "（选填）") : null);
    // A file input shows the browser's own button, in the browser's language; this one
    // is hidden (still focusable) and its label is the button the user sees.
    if (options.fileButton)
        control.classList.add("file-input");
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
export function errorBox() {
    const root = h("div", { class: "alert", role: "alert", id: uid("alert") });
    let marked = [];
    return {
        root,
        error(message, fields = []) {
            root.textContent = message;
            marked = fields;
            for (const f of marked)
                f.linkError(root.id);
        },
        clear() {
            root.textContent = "";
            for (const f of marked)
                f.linkError(null);
            marked = [];
        },
    };
}
/** A polite status line for progress ("正在上传…") and results that need no action. */
export function statusLine() {
    const root = h("p", { class: "status-line", role: "status", "aria-live": "polite" });
    return {
        root,
        say(message) {
            root.textContent = message;
        },
    };
}
/** Disable a form's controls while a request runs, so it is not sent twice. */
export function setBusy(form, busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    for (const element of Array.from(form.elements)) {
        if (element instanceof HTMLButtonElement || element instanceof HTMLInputElement)
            element.disabled = busy;
        if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement)
            element.disabled = busy;
    }
}
