/* 新的申请 (#/new): a request for a work-list item, then the one-time view of its query
   code with the printable receipt. The code lives only in this page's memory: the
   service keeps a hash of it and never shows it again. */
import { errorBox, field, h, replaceChildren, setBusy } from "./dom.js";
import { currentYear, dateTime } from "./format.js";
import { call, fetchWithToken } from "./http.js";
import { errorMessage, fieldErrors } from "./messages.js";
import { printableButton } from "./printable.js";
/** This year's active items; in a new year with no list yet, the latest list there is. */
async function loadItems() {
    const year = currentYear();
    const items = await call("get", "/api/v1/work-list-items", { query: { year, active: true } });
    if (items.length > 0)
        return items;
    const all = await call("get", "/api/v1/work-list-items", { query: { active: true } });
    const latest = Math.max(...all.map((item) => item.year).filter((y) => y <= year));
    return all.filter((item) => item.year === latest);
}
export async function newCaseView() {
    const items = await loadItems();
    const root = h("div", { class: "view" });
    const select = h("select", { name: "item_id", required: true }, h("option", { value: "" }, "请选择服务事项"), ...items.map((item) => h("option", { value: item.id }, `${item.code} ${item.title_zh}（${item.promised_working_days} 个工作日）`)));
    const item = field("服务事项", select, { hint: "括号内为受理后的承诺办理时限（补正材料期间不计时）。" });
    const title = field("申请事项名称", h("input", { name: "title", type: "text", maxlength: 200, required: true }), {
        hint: "一句话说明您要办理什么，例如：申请青年人才公租房。",
    });
    const description = field("详细说明", h("textarea", { name: "description", rows: 5, maxlength: 4000 }), {
        hint: "补充情况说明，便于专员尽快办理。请不要填写身份证号等敏感信息。",
        optional: true,
    });
    const notice = errorBox();
    const form = h("form", { class: "card", novalidate: true, "aria-label": "新的申请" }, item.root, title.root, description.root, notice.root, h("button", { type: "submit", class: "primary" }, "提交申请"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        const itemId = select.value;
        const text = title.control.value.trim();
        item.setError(itemId === "" ? "请选择服务事项。" : null);
        title.setError(text === "" ? "请填写申请事项名称。" : null);
        if (itemId === "" || text === "") {
            (itemId === "" ? select : title.control).focus();
            return;
        }
        setBusy(form, true);
        try {
            const created = await call("post", "/api/v1/my/cases", {
                body: { item_id: itemId, title: text, description: description.control.value.trim() },
            });
            replaceChildren(root, ...createdView(created));
            root.querySelector("h1")?.focus();
        }
        catch (error) {
            const problems = fieldErrors(error);
            const titleProblem = problems.get("title");
            if (titleProblem !== undefined)
                title.setError(`申请事项名称${titleProblem}。`);
            notice.error(errorMessage(error));
        }
        finally {
            setBusy(form, false);
        }
    }
    replaceChildren(root, h("h1", { tabindex: -1 }, "新的申请"), h("p", { class: "lead" }, "提交后，申请会交给您的科技专员，受理后按承诺时限办理。"), items.length > 0 ? form : h("p", { class: "callout tone-warn" }, "暂时没有可以申请的服务事项，请联系您的科技专员。"));
    return root;
}
function createdView(created) {
    const receiptUrl = created.receipt_url;
    const receipt = printableButton("打开受理回执（可打印）", "点此查看受理回执", async () => (await fetchWithToken(receiptUrl)).text());
    return [
        h("h1", { tabindex: -1 }, "申请已提交"),
        h("section", { class: "card code-card", "aria-labelledby": "query-code-heading" }, h("h2", { id: "query-code-heading" }, "您的查询码"), h("p", { class: "query-code mono", id: "query-code" }, created.query_code), h("p", { class: "callout tone-warn" }, h("strong", null, "查询码只显示这一次。"), "请抄下或截图保存，也可打开受理回执打印。凭受理编号和查询码，无需登录即可查询进度。"), receipt),
        h("section", { class: "card", "aria-label": "申请信息" }, h("dl", { class: "details" }, row("受理编号", h("span", { class: "mono" }, created.case_no)), row("服务事项", `${created.item_code} ${created.item_title}`), row("申请事项", created.title), row("提交时间", dateTime(created.received_at)), row("当前状态", created.status_label), row("科技专员", created.steward.name))),
        h("p", { class: "actions" }, h("a", { class: "button", href: `#/my/${created.id}` }, "查看办件详情"), h("a", { class: "button", href: "#/my" }, "返回我的办件")),
    ];
}
function row(label, value) {
    return h("div", { class: "row" }, h("dt", null, label), h("dd", null, value));
}
