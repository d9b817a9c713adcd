/* 办件查询: a case's progress by case number and query code, without signing in, and
   the completion notice of a resolved case by the same two. */

import { awaitedBox, details, dueBadge, dueText, statusBadge, timeline } from "./components.js";
import { errorBox, field, h, replaceChildren, setBusy } from "./dom.js";
import { dateTime } from "./format.js";
import { call, fetchPage, type Schemas } from "./http.js";
import { errorMessage } from "./messages.js";
import { printableButton } from "./printable.js";
import { currentSession } from "./session.js";

/** Full-width letters and dashes typed on a phone become the ASCII the service expects. */
function tidy(value: string): string {
  return value.normalize("NFKC").replace(/[\u2010-\u2015\u2212\u30FC]/g, "-").replace(/\s+/g, "").toUpperCase();
}

export function lookupView(): HTMLElement {
  const caseNo = field(
    "受理编号",
    h("input", {
      name: "case_no",
      type: "text",
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      maxlength: 24,
      required: true,
    }),
    { hint: "见受理回执，例如 BS-20261123-000042-7" },
  );
  const code = field(
    "查询码",
    h("input", {
      name: "code",
      type: "text",
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      maxlength: 16,
      required: true,
    }),
    { hint: "8 位字母和数字，例如 K7MX-4QPA" },
  );
  const notice = errorBox();
  const result = h("div", { class: "result" });
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": "办件查询" },
    caseNo.root,
    code.root,
    notice.root,
    h("button", { type: "submit", class: "primary" }, "查询"),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit();
  });

  async function submit(): Promise<void> {
    notice.clear();
    const number = tidy(caseNo.control.value);
    const query = tidy(code.control.value);
    caseNo.setError(number === "" ? "请输入受理编号。" : null);
    code.setError(query === "" ? "请输入查询码。" : null);
    if (number === "" || query === "") {
      (number === "" ? caseNo.control : code.control).focus();
      return;
    }
    setBusy(form, true);
    try {
      const found = await call("get", "/api/v1/lookup", { query: { case_no: number, code: query }, auth: false });
      replaceChildren(result, resultView(found, query));
      result.querySelector("h2")?.focus();
    } catch (error) {
      replaceChildren(result);
      notice.error(errorMessage(error, "lookup"), [caseNo, code]);
      code.control.focus();
    } finally {
      setBusy(form, false);
    }
  }

  return h(
    "div",
    { class: "view" },
    h("h1", { tabindex: -1 }, "办件查询"),
    h("p", { class: "lead" }, "输入受理回执上的受理编号和查询码，无需登录即可查看办理进度。"),
    form,
    result,
  );
}

function resultView(found: Schemas["LookupOut"], code: string): HTMLElement {
  const signedIn = currentSession() !== null;
  const answerHint = signedIn
    ? h("p", null, "请在", h("a", { href: "#/my" }, "我的办件"), "中提交补正材料，或联系您的科技专员。")
    : h("p", null, "请", h("a", { href: "#/login" }, "登录"), "后在「我的办件」中提交补正材料，或联系您的科技专员。");
  return h(
    "section",
    { class: "stack", "aria-labelledby": "lookup-result" },
    h(
      "div",
      { class: "card" },
      h("h2", { id: "lookup-result", tabindex: -1 }, "查询结果"),
      h("p", { class: "badges" }, statusBadge(found.status, found.status_label), " ", dueBadge(found.due, found.status)),
      details([
        ["受理编号", h("span", { class: "mono" }, found.case_no)],
        ["服务事项", `${found.item_code} ${found.item_title}`],
        ["申请人", found.worker_name_masked],
        ["提交时间", dateTime(found.received_at)],
        ["当前状态", found.status_label],
        ["办理时限", dueText(found.due, found.status)],
      ]),
      found.awaited_materials ? awaitedBox(found.awaited_materials, answerHint) : null,
      found.status === "resolved" || found.status === "closed"
        ? printableButton("打开办结通知书（可打印）", "点此查看办结通知书", () =>
            fetchPage("/api/v1/lookup/completion-notice", {
              query: { case_no: found.case_no, code },
              auth: false,
            }),
          )
        : null,
    ),
    timeline(found.timeline, "lookup-timeline"),
  );
}
