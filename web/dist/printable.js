/* The service's printable pages (受理回执, 办结通知书): fetched here, with the token when
   they need it, and shown from a blob in a new tab. An in-app browser may refuse or ignore
   a new tab, so a link to tap is always offered too. */
import { errorBox, h, replaceChildren } from "./dom.js";
import { errorMessage } from "./messages.js";
/** A button that opens the page `load` fetches, with the fallback link and errors below it. */
export function printableButton(text, linkText, load) {
    const notice = errorBox();
    const button = h("button", { type: "button", class: "primary" }, text);
    const fallback = h("p", { hidden: true });
    button.addEventListener("click", () => {
        notice.clear();
        // Opened now, while the tap counts as the user's, and filled once the page arrives.
        const tab = window.open("", "_blank");
        void show(load(), tab, fallback, linkText).catch((error) => {
            tab?.close();
            notice.error(errorMessage(error));
        });
    });
    return h("div", { class: "printable" }, h("div", { class: "actions" }, button), fallback, notice.root);
}
async function show(html, tab, fallback, linkText) {
    const blobUrl = URL.createObjectURL(new Blob([await html], { type: "text/html;charset=utf-8" }));
    const opened = tab !== null && !tab.closed;
    if (opened)
        tab.location.href = blobUrl;
    replaceChildren(fallback, opened ? "已在新页面打开。如未看到，" : null, h("a", { href: blobUrl, target: "_blank", rel: "noopener" }, linkText));
    fallback.hidden = false;
    if (!opened)
        fallback.querySelector("a")?.focus();
}
