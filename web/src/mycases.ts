/* 我的办件: the signed-in worker's cases, the newest first, twenty to a page. */

import { dueBadge, pager, statusBadge } from "./components.js";
import { h } from "./dom.js";
import { date } from "./format.js";
import { call, type Schemas } from "./http.js";

const PAGE_SIZE = 20;

export async function myCasesView(page: number): Promise<HTMLElement> {
  const offset = (page - 1) * PAGE_SIZE;
  const found = await call("get", "/api/v1/my/cases", { query: { limit: PAGE_SIZE, offset } });
  const waiting = found.items.filter((item) => item.awaiting_me).length;
  const root = h(
    "div",
    { class: "view" },
    h("h1", { tabindex: -1 }, "我的办件"),
    h(
      "div",
      { class: "toolbar" },
      h("p", { class: "lead" }, found.total === 0 ? "您还没有办件。" : `共 ${found.total} 件。`),
      h("a", { class: "button primary", href: "#/new" }, "新的申请"),
    ),
    waiting > 0
      ? h("p", { class: "callout tone-warn" }, h("span", { "aria-hidden": "true" }, "! "), `有 ${waiting} 件需要您补充材料。`)
      : null,
  );
  if (found.items.length > 0) {
    root.append(h("ul", { class: "case-list", "aria-label": "办件列表" }, ...found.items.map(caseCard)));
  }
  const paging = pager("#/my", page, found.total, PAGE_SIZE);
  if (paging !== null) root.append(paging);
  return root;
}

function caseCard(item: Schemas["OwnCaseSummary"]): HTMLElement {
  return h(
    "li",
    { class: "case-card" },
    h(
      "a",
      { href: `#/my/${item.id}` },
      h("span", { class: "case-title" }, item.title),
      h("span", { class: "case-meta" }, `${item.item_code} ${item.item_title}`),
      h("span", { class: "case-meta mono" }, `${item.case_no} · ${date(item.received_at)} 提交`),
      h(
        "span",
        { class: "badges" },
        statusBadge(item.status, item.status_label),
        " ",
        dueBadge(item.due, item.status),
        item.awaiting_me ? h("span", { class: "badge tone-warn strong" }, "待您补件") : null,
      ),
    ),
  );
}
