/* Pieces shared by the lookup and the worker's own pages: status and due-date badges
   (always with text, never colour alone), the timeline, a definition list, and the pager
   of a paged list. */

import { h } from "./dom.js";
import { dateTime } from "./format.js";
import type { Schemas } from "./http.js";

type Status = Schemas["LookupOut"]["status"];
type Due = Schemas["PublicDue"];
type Event = Schemas["PublicEvent"];

const STATUS_TONE: Record<Status, string> = {
  submitted: "neutral",
  accepted: "info",
  in_progress: "info",
  awaiting_materials: "warn",
  resolved: "ok",
  closed: "ok",
  rejected: "bad",
  withdrawn: "neutral",
};

export function statusBadge(status: Status, label: string): HTMLElement {
  return h("span", { class: `badge tone-${STATUS_TONE[status]}` }, h("span", { class: "sr-only" }, "办理状态："), label);
}

interface DueLook {
  text: string;
  tone: string;
  mark: string;
}

const DUE_LOOK: Record<NonNullable<Due["state"]>, DueLook> = {
  on_track: { text: "按期办理中", tone: "ok", mark: "✓" },
  due_soon: { text: "即将到期", tone: "warn", mark: "!" },
  overdue: { text: "已超期", tone: "bad", mark: "!" },
  paused: { text: "暂停计时", tone: "paused", mark: "Ⅱ" },
};

function dueLook(due: Due, status: Status): DueLook | null {
  if (due.state !== null) return DUE_LOOK[due.state];
  if (due.resolved_on_time === true) return { text: "按期办结", tone: "ok", mark: "✓" };
  if (due.resolved_on_time === false) return { text: "超期办结", tone: "bad", mark: "!" };
  if (status === "submitted") return { text: "待受理", tone: "neutral", mark: "…" };
  return null;
}

/** 按期办理中 / 即将到期 / 已超期 / 暂停计时 from `due.state`, or nothing where no clock applies. */
export function dueBadge(due: Due, status: Status): HTMLElement | null {
  const look = dueLook(due, status);
  if (look === null) return null;
  return h(
    "span",
    { class: `badge tone-${look.tone}` },
    h("span", { class: "badge-mark", "aria-hidden": "true" }, look.mark),
    h("span", { class: "sr-only" }, "办理时限："),
    look.text,
  );
}

/** One sentence on the time limit: days left, the due time, or why the clock stands. */
export function dueText(due: Due, status: Status): string {
  const left = due.working_days_left;
  switch (due.state) {
    case "paused":
      return "等待补正材料期间暂停计时，收到材料后继续计时。";
    case "overdue":
      return left !== null && left < 0
        ? `已超过承诺时限 ${-left} 个工作日${due.due_at ? `（应于 ${dateTime(due.due_at)} 前办结）` : ""}。`
        : "已超过承诺时限。";
    case "on_track":
    case "due_soon":
      if (due.due_at === null) return `承诺 ${due.promised_working_days} 个工作日内办结。`;
      return left !== null && left <= 0
        ? `今天到期，应于 ${dateTime(due.due_at)} 前办结。`
        : `剩余 ${left ?? "—"} 个工作日，应于 ${dateTime(due.due_at)} 前办结。`;
    default:
      if (due.resolved_on_time === true) return "已在承诺时限内办结。";
      if (due.resolved_on_time === false) return "办结时已超过承诺时限。";
      if (status === "submitted") return `受理后 ${due.promised_working_days} 个工作日内办结（补正材料期间不计时）。`;
      return "不适用。";
  }
}

/** A description list of label/value pairs; a null value leaves its row out. */
export function details(rows: [string, Node | string | null][]): HTMLElement {
  const list = h("dl", { class: "details" });
  for (const [label, value] of rows) {
    if (value === null || value === "") continue;
    list.append(h("div", { class: "row" }, h("dt", null, label), h("dd", null, value)));
  }
  return list;
}

/** The public timeline, the newest line first. */
export function timeline(events: Event[], headingId: string): HTMLElement {
  const newest = [...events].reverse();
  const section = h(
    "section",
    { class: "card", "aria-labelledby": headingId },
    h("h2", { id: headingId }, "办理进度"),
    h("p", { class: "hint" }, "最新的记录在最上方。"),
  );
  if (newest.length === 0) {
    section.append(h("p", null, "暂无记录。"));
    return section;
  }
  const list = h("ol", { class: "timeline", reversed: true });
  for (const event of newest) {
    list.append(
      h(
        "li",
        null,
        h("p", { class: "event-head" }, h("strong", null, event.label), " ", h("time", { datetime: event.at }, dateTime(event.at))),
        h("p", { class: "event-status" }, `状态：${event.status_label}`),
        event.note ? h("p", { class: "event-note" }, event.note) : null,
      ),
    );
  }
  section.append(list);
  return section;
}

/** What the worker is asked to provide, as a highlighted box. */
export function awaitedBox(text: string, extra: Node | string | null): HTMLElement {
  return h(
    "div",
    { class: "callout tone-warn" },
    h("p", { class: "callout-title" }, h("span", { "aria-hidden": "true" }, "! "), "需要您补充的材料"),
    h("p", { class: "prewrap" }, text),
    extra,
  );
}

/** 上一页 / 第 n / m 页 / 下一页 for a list at `route?page=n`; nothing when there is one page. */
export function pager(route: string, page: number, total: number, pageSize: number): HTMLElement | null {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  return h(
    "nav",
    { class: "pager", "aria-label": "翻页" },
    page > 1 ? h("a", { href: `${route}?page=${page - 1}`, class: "button" }, "上一页") : null,
    h("span", null, `第 ${page} / ${pages} 页`),
    page < pages ? h("a", { href: `${route}?page=${page + 1}`, class: "button" }, "下一页") : null,
  );
}
