/* 消息通知: the signed-in worker's notices, the newest first, twenty to a page. Opening
   one marks it read and goes to its case; "全部标为已读" marks them all. Below them, 通知方式:
   whether notices also come by text message or e-mail, among the ways the service offers. */
import { pager } from "./components.js";
import { errorBox, field, h, setBusy, statusLine, uid } from "./dom.js";
import { dateTime } from "./format.js";
import { call } from "./http.js";
import { errorMessage, fieldErrors } from "./messages.js";
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
    const choices = await call("get", "/api/v1/notifications/preferences", {});
    root.append(preferencesForm(choices));
    return root;
}
/** 通知方式: a box per channel the service offers (none: a line saying notices come here
    only), and an e-mail address of one's own, shown masked once saved. */
function preferencesForm(current) {
    const heading = h("h2", { id: "preferences-heading" }, "通知方式");
    if (!current.offered.sms && !current.offered.email) {
        return h("section", { class: "card", "aria-labelledby": "preferences-heading" }, heading, h("p", null, "消息只在本页提供；短信和邮件通知暂未开通。"));
    }
    const sms = h("input", { type: "checkbox", name: "sms", id: uid("sms"), checked: current.sms });
    const email = h("input", { type: "checkbox", name: "email", id: uid("email"), checked: current.email });
    const check = (box, label) => h("div", { class: "check" }, box, h("label", { for: box.id }, label));
    const address = field("电子邮箱", h("input", { type: "email", name: "email_address", maxlength: 254, autocomplete: "email" }), {
        optional: true,
        hint: current.email_address === null
            ? "接收邮件通知的地址。"
            : `已设置为 ${current.email_address}；留空则保持不变。`,
    });
    const notice = errorBox();
    const status = statusLine();
    const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "preferences-heading" }, heading, h("p", { class: "hint" }, current.chosen ? "以下为您选择的方式。" : "您尚未选择，以下为默认方式。"), current.offered.sms ? check(sms, "短信通知（发送到登记的手机号；22:00 至次日 8:00 不发送）") : null, current.offered.email ? check(email, "邮件通知") : null, current.offered.email ? address.root : null, notice.root, status.root, h("button", { type: "submit", class: "button" }, "保存通知方式"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void save();
    });
    async function save() {
        notice.clear();
        address.setError(null);
        status.say("");
        const typed = address.control.value.trim();
        setBusy(form, true);
        try {
            const saved = await call("put", "/api/v1/notifications/preferences", {
                body: {
                    sms: current.offered.sms && sms.checked,
                    email: current.offered.email && email.checked,
                    ...(typed === "" ? {} : { email_address: typed }),
                },
            });
            address.control.value = "";
            status.say(saved.email_address === null ? "已保存。" : `已保存；邮件将发送到 ${saved.email_address}。`);
        }
        catch (error) {
            const problem = fieldErrors(error).get("email_address");
            if (problem !== undefined)
                address.setError(`电子邮箱${problem}。`);
            notice.error(errorMessage(error, "preferences"), problem === undefined ? [] : [address]);
        }
        finally {
            setBusy(form, false);
        }
    }
    return form;
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
