/* 消息通知: the signed-in worker's notices, the newest first, twenty to a page. Opening
   one marks it read and goes to its case; "全部标为已读" marks them all. */
import { pager } from "./components.js";
import { h } from "./dom.js";
import { dateTime } from "./format.js";
import { call } from "./http.js";
import { errorMessage } from "./messages.js";
import { navigate } from "./router.js";
const PAGE_SIZE = 20;
const LAST_PAGE = 500000; // the API's largest offset, 10,000,000, in pages of twenty
/** How many notices are unread, for the header's badge (0 when it cannot be asked). */
export async function unreadCount() {
    try {
        return (await call("get", "/api/v1/notifications/unread-count", {})).unread;
    }
    catch {
        return 0;
    }
}
export async function noticesView(asked) {
    const page = Math.min(Math.max(asked, 1), LAST_PAGE);
    const offset = (page - 1) * PAGE_SIZE;
    const found = await call("get", "/api/v1/notifications", { query: { limit: PAGE_SIZE, offset } });
    const markAll = h("button", { type: "button", class: "button" }, "全部标为已读");
    const failed = h("p", { class: "alert", role: "alert", hidden: true });
    markAll.addEventListener("click", () => {
        markAll.setAttribute("disabled", "");
        call("post", "/api/v1/notifications/read-all", {})
            .then(() => navigate(window.location.hash))
            .catch((error) => {
            markAll.removeAttribute("disabled");
            failed.textContent = errorMessage(error);
            failed.removeAttribute("hidden");
        });
    });
    const root = h("div", { class: "view" }, h("h1", { tabindex: -1 }, "消息通知"), h("div", { class: "toolbar" }, h("p", { class: "lead" }, found.total === 0 ? "暂无消息。" : `共 ${found.total} 条，未读 ${found.unread} 条。`), found.unread > 0 ? markAll : null), failed);
    if (found.items.length > 0) {
        root.append(h("ul", { class: "notice-list", "aria-label": "消息列表" }, ...found.items.map(noticeItem)));
    }
    const paging = pager("#/notices", page, found.total, PAGE_SIZE);
    if (paging !== null)
        root.append(paging);
    return root;
}
function noticeItem(notice) {
    const unread = notice.read_at === null;
    const target = notice.case_id === null ? null : `#/my/${notice.case_id}`;
    const open = async (event) => {
        event.preventDefault();
        if (unread) {
            // Going to the case matters more than the mark: a failed mark is tried again next time.
            await call("post", "/api/v1/notifications/{notice_id}/read", { path: { notice_id: notice.id } }).catch(() => undefined);
        }
        navigate(target ?? window.location.hash);
    };
    const content = [
        h("span", { class: "notice-title" }, unread ? h("span", { class: "badge tone-info strong" }, "未读") : null, " ", notice.title),
        h("span", { class: "notice-body" }, notice.body),
        h("span", { class: "case-meta" }, dateTime(notice.created_at)),
    ];
    const link = h("a", { href: target ?? "#/notices", class: unread ? "unread" : null }, ...content);
    link.addEventListener("click", (event) => void open(event));
    return h("li", { class: "notice-card" }, link);
}
