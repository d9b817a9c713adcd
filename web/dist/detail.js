/* 办件详情 (#/my/{id}): one of the worker's cases with its time limit, steward, files
   and timeline, and what the worker can do: answer a request for materials, rate a
   resolved case and print its completion notice, withdraw an open one. Each action re-reads and redraws the case. */
import { awaitedBox, details, dueBadge, dueText, statusBadge, timeline } from "./components.js";
import { errorBox, field, h, replaceChildren, setBusy, statusLine, uid } from "./dom.js";
import { dateTime, fileSize, RATING_LABELS, ratingLabel } from "./format.js";
import { call, fetchPage, fetchWithToken, uploadAttachment } from "./http.js";
import { errorMessage, fieldErrors } from "./messages.js";
import { printableButton } from "./printable.js";
const MAX_FILE_BYTES = 20 * 1024 * 1024;
const MAX_FILES = 10; // MaterialsAnswerIn.attachment_ids holds at most ten
const ACCEPT = ".pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp";
export async function caseView(id) {
    const root = h("div", { class: "view" });
    render(root, await load(id), null);
    return root;
}
async function load(id) {
    return call("get", "/api/v1/my/cases/{case_id}", { path: { case_id: id } });
}
/** Draw the case; after an action, `message` says what happened and focus goes to it. */
function render(root, found, message) {
    const done = message === null ? null : h("p", { class: "callout tone-ok", role: "status", tabindex: -1 }, message);
    replaceChildren(root, h("p", { class: "back" }, h("a", { href: "#/my" }, h("span", { "aria-hidden": "true" }, "← "), "返回我的办件")), h("h1", { tabindex: -1 }, found.title), done, summary(found), isFinished(found) ? completionCard(found) : null, found.can_answer_materials ? materialsCard(root, found) : null, stewardCard(found.steward), found.attachments.length > 0 ? attachmentsCard(found.attachments) : null, timeline(found.timeline, uid("timeline")), found.can_rate ? ratingCard(root, found) : null, found.can_withdraw ? withdrawCard(root, found) : null);
    done?.focus();
}
function summary(found) {
    return h("section", { class: "card", "aria-label": "办件概况" }, h("p", { class: "badges" }, statusBadge(found.status, found.status_label), " ", dueBadge(found.due, found.status)), details([
        ["受理编号", h("span", { class: "mono" }, found.case_no)],
        ["服务事项", `${found.item_code} ${found.item_title}`],
        ["提交时间", dateTime(found.received_at)],
        ["当前状态", found.status_label],
        ["办理时限", dueText(found.due, found.status)],
        ["详细说明", found.description ? h("span", { class: "prewrap" }, found.description) : null],
        ["办理结果", found.outcome ? h("span", { class: "prewrap" }, found.outcome) : null],
        ["不予受理原因", found.reject_reason],
        ["撤回原因", found.withdraw_reason],
        ["我的评价", ratingLabel(found.rating)],
    ]));
}
/** Resolved or archived: the case has a completion notice (the service answers 409 otherwise). */
function isFinished(found) {
    return found.status === "resolved" || found.status === "closed";
}
function completionCard(found) {
    const headingId = uid("completion");
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "办结通知书"), h("p", null, "通知书载明办理结果、办理时效和评价方式，可打开后打印或保存。"), printableButton("打开办结通知书（可打印）", "点此查看办结通知书", () => fetchPage("/api/v1/my/cases/{case_id}/completion-notice", { path: { case_id: found.id } })));
}
function stewardCard(steward) {
    const headingId = uid("steward");
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "我的科技专员"), details([
        ["姓名", steward.name],
        ["工作电话", steward.work_phone ? h("a", { href: `tel:${steward.work_phone.replace(/[^0-9+]/g, "")}` }, steward.work_phone) : null],
        ["电子邮箱", steward.email ? h("a", { href: `mailto:${steward.email}` }, steward.email) : null],
    ]), steward.work_phone || steward.email ? null : h("p", { class: "hint" }, "专员暂未登记联系方式。"));
}
function attachmentsCard(files) {
    const headingId = uid("files");
    const notice = errorBox();
    const list = h("ul", { class: "file-list" });
    for (const file of files) {
        const button = h("button", { type: "button", class: "link-button", "aria-label": `下载 ${file.filename}` }, "下载");
        button.addEventListener("click", () => {
            notice.clear();
            void download(file).catch((error) => notice.error(errorMessage(error)));
        });
        list.append(h("li", null, h("span", { class: "file-name" }, file.filename), h("span", { class: "file-meta" }, `${fileSize(file.size_bytes)} · ${dateTime(file.uploaded_at)}`), button));
    }
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "附件"), notice.root, list);
}
async function download(file) {
    const response = await fetchWithToken(file.download_url);
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: file.filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}
function materialsCard(root, found) {
    const headingId = uid("materials");
    const note = field("补正说明", h("textarea", { name: "note", rows: 4, maxlength: 2000, required: true }), { hint: "简要说明您补充了哪些材料。" });
    const input = h("input", { type: "file", name: "file", multiple: true, accept: ACCEPT });
    const files = field("添加文件", input, {
        hint: "附上所需材料：可选择多个文件，最多 10 个；每个文件不超过 20 MB；支持 PDF、JPEG、PNG 图片和 Office 文档。",
        fileButton: true,
    });
    const chosen = [];
    const list = h("ul", { class: "file-list", "aria-label": "已选择的文件" });
    const progress = statusLine();
    const notice = errorBox();
    const drawList = () => {
        replaceChildren(list, ...chosen.map((entry, index) => {
            const remove = h("button", { type: "button", class: "link-button", "aria-label": `移除 ${entry.file.name}` }, "移除");
            remove.addEventListener("click", () => {
                chosen.splice(index, 1);
                drawList();
                progress.say(`已移除 ${entry.file.name}。`);
                input.focus();
            });
            return h("li", null, h("span", { class: "file-name" }, entry.file.name), h("span", { class: "file-meta" }, fileSize(entry.file.size), entry.uploadedId ? " · 已上传" : null), remove);
        }));
        list.hidden = chosen.length === 0;
    };
    drawList();
    input.addEventListener("change", () => {
        const refused = [];
        for (const file of Array.from(input.files ?? [])) {
            if (file.size > MAX_FILE_BYTES)
                refused.push(`“${file.name}”太大（${fileSize(file.size)}），每个文件不能超过 20 MB`);
            else if (file.size === 0)
                refused.push(`“${file.name}”是空文件`);
            else if (chosen.length >= MAX_FILES)
                refused.push(`“${file.name}”：最多只能选择 ${MAX_FILES} 个文件`);
            else if (!chosen.some((c) => sameFile(c.file, file)))
                chosen.push({ file, uploadedId: null });
        }
        input.value = "";
        files.setError(refused.length > 0 ? `${refused.join("；")}。以上文件未添加。` : null);
        drawList();
        progress.say(chosen.length > 0 ? `已选择 ${chosen.length} 个文件。` : "");
    });
    const form = h("form", { novalidate: true, "aria-labelledby": headingId }, note.root, files.root, list, progress.root, notice.root, h("button", { type: "submit", class: "primary" }, "提交补正材料"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        const text = note.control.value.trim();
        note.setError(text === "" ? "请填写补正说明。" : null);
        if (text === "") {
            note.control.focus();
            return;
        }
        setBusy(form, true);
        try {
            for (const [index, entry] of chosen.entries()) {
                if (entry.uploadedId !== null)
                    continue;
                progress.say(`正在上传第 ${index + 1} / ${chosen.length} 个文件：${entry.file.name}`);
                try {
                    entry.uploadedId = (await uploadAttachment(found.id, entry.file)).id;
                }
                catch (error) {
                    throw new UploadFailed(entry.file.name, error);
                }
            }
            progress.say("正在提交…");
            const ids = chosen.map((entry) => entry.uploadedId).filter((id) => id !== null);
            const updated = await call("post", "/api/v1/my/cases/{case_id}/materials", {
                path: { case_id: found.id },
                body: { note: text, attachment_ids: ids },
            });
            render(root, updated, "补正材料已提交，请等待科技专员确认。");
        }
        catch (error) {
            progress.say("");
            drawList();
            if (error instanceof UploadFailed) {
                notice.error(`“${error.filename}”未能上传：${errorMessage(error.failure, "upload")}`);
            }
            else {
                const reason = fieldErrors(error).get("note");
                if (reason !== undefined)
                    note.setError(`补正说明${reason}。`);
                notice.error(errorMessage(error));
            }
        }
        finally {
            setBusy(form, false);
        }
    }
    const answered = found.materials_answered_at
        ? h("p", { class: "hint" }, `您已于 ${dateTime(found.materials_answered_at)} 提交补正材料，正在等待科技专员确认。如还需补充，可再次提交。`)
        : null;
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "提交补正材料"), found.awaited_materials ? awaitedBox(found.awaited_materials, null) : null, answered, form);
}
class UploadFailed extends Error {
    constructor(filename, failure) {
        super(`upload of ${filename} failed`);
        this.filename = filename;
        this.failure = failure;
    }
}
function sameFile(a, b) {
    return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
}
function ratingCard(root, found) {
    const headingId = uid("rating");
    const notice = errorBox();
    const levels = Object.entries(RATING_LABELS);
    const radios = levels.map(([level, label]) => {
        const radio = h("input", { type: "radio", name: "level", value: level, id: uid("level") });
        return { radio, row: h("div", { class: "check" }, radio, h("label", { for: radio.id }, label)) };
    });
    const comment = field("评价意见", h("textarea", { name: "comment", rows: 3, maxlength: 500 }), { optional: true });
    const choices = h("fieldset", { class: "choices", "aria-describedby": notice.root.id }, h("legend", null, "您对本次办理是否满意？"), ...radios.map((r) => r.row));
    const form = h("form", { novalidate: true, "aria-labelledby": headingId }, choices, comment.root, notice.root, h("button", { type: "submit", class: "primary" }, "提交评价"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        const picked = radios.find((r) => r.radio.checked);
        if (picked === undefined) {
            notice.error("请选择满意程度。");
            radios[0]?.radio.focus();
            return;
        }
        setBusy(form, true);
        try {
            const text = comment.control.value.trim();
            await call("post", "/api/v1/cases/{case_id}/ratings", {
                path: { case_id: found.id },
                body: { level: picked.radio.value, comment: text === "" ? null : text },
            });
            render(root, await load(found.id), "感谢您的评价。");
        }
        catch (error) {
            notice.error(errorMessage(error));
        }
        finally {
            setBusy(form, false);
        }
    }
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "评价本次服务"), form);
}
function withdrawCard(root, found) {
    const headingId = uid("withdraw");
    const formId = uid("withdraw-form");
    const reason = field("撤回原因", h("textarea", { name: "reason", rows: 3, maxlength: 2000, required: true }));
    const notice = errorBox();
    const open = h("button", { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": formId }, "撤回申请…");
    const cancel = h("button", { type: "button", class: "secondary" }, "取消");
    const form = h("form", { id: formId, novalidate: true, hidden: true, "aria-labelledby": headingId }, h("p", { class: "callout tone-bad" }, "撤回后本申请将终止办理，不能恢复。确定要撤回吗？"), reason.root, notice.root, h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "确认撤回"), cancel));
    const toggle = (show) => {
        form.hidden = !show;
        open.hidden = show;
        open.setAttribute("aria-expanded", String(show));
        (show ? reason.control : open).focus();
    };
    open.addEventListener("click", () => toggle(true));
    cancel.addEventListener("click", () => toggle(false));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        const text = reason.control.value.trim();
        reason.setError(text === "" ? "请填写撤回原因。" : null);
        if (text === "") {
            reason.control.focus();
            return;
        }
        setBusy(form, true);
        try {
            const updated = await call("post", "/api/v1/my/cases/{case_id}/withdraw", {
                path: { case_id: found.id },
                body: { reason: text },
            });
            render(root, updated, "申请已撤回。");
        }
        catch (error) {
            notice.error(errorMessage(error));
        }
        finally {
            setBusy(form, false);
        }
    }
    return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, "撤回申请"), h("p", null, "如果不再需要办理，可以撤回申请。"), open, form);
}
