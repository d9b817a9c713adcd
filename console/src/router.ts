/* Screens by hash (`/staff/#/queue?due=overdue`), so that the service serves one file
   and every view, with its filters, can be bookmarked and shared. */
import Layout from "./Layout.vue";
import { createRouter, createWebHashHistory, type RouteRecordRaw } from "vue-router";
import { can, homeOf, loadMe, me } from "./access";
import { askEarly } from "./dashboardData";
import { loadLists } from "./reference";

/** Roles that read the districts, departments and work list (`reference.read`). */
const READERS_OF_LISTS = new Set(["steward", "liaison", "official", "admin"]);
/** Roles whose dashboard data may be asked for before `/auth/me` answers. */
const METRICS_ROLES = new Set(["official", "liaison", "admin"]);
import { currentSession } from "./session";

declare module "vue-router" {
  interface RouteMeta {
    title: string;
    permission?: string;
    /** Any one of these permissions opens the screen. */
    anyOf?: string[];
    public?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/login", component: () => import("./views/Login.vue"), meta: { title: "登录", public: true } },
  {
    path: "/",
    component: Layout,
    meta: { title: "工作台" },
    children: [
      // The role's own first screen: decided in the guard, once the role is known.
      { path: "", component: () => import("./views/Forbidden.vue"), meta: { title: "工作台" } },
      { path: "queue", component: () => import("./views/Queue.vue"), meta: { title: "待办案件", permission: "cases.read" } },
      { path: "cases/new", component: () => import("./views/NewCase.vue"), meta: { title: "登记案件", permission: "cases.create" } },
      { path: "cases/:id", component: () => import("./views/CaseDetail.vue"), meta: { title: "案件详情", permission: "cases.read" } },
      { path: "workers", component: () => import("./views/Workers.vue"), meta: { title: "科技工作者", permission: "workers.read" } },
      { path: "supervisions", component: () => import("./views/Supervisions.vue"), meta: { title: "督办", permission: "supervision.read" } },
      { path: "dashboard", component: () => import("./views/Dashboard.vue"), meta: { title: "办理情况", permission: "metrics.read" } },
      { path: "figures", component: () => import("./views/FigureCases.vue"), meta: { title: "数据明细", permission: "metrics.read" } },
      { path: "imports", component: () => import("./views/Imports.vue"), meta: { title: "导入台账", permission: "imports" } },
      { path: "notices", component: () => import("./views/Notices.vue"), meta: { title: "消息", permission: "notifications" } },
      { path: "admin/accounts", component: () => import("./views/admin/Accounts.vue"), meta: { title: "账号管理", permission: "accounts.read" } },
      { path: "admin/calendar", component: () => import("./views/admin/Calendar.vue"), meta: { title: "工作日历", permission: "calendar.write" } },
      { path: "admin/items", component: () => import("./views/admin/Items.vue"), meta: { title: "清单事项", permission: "reference.write" } },
      { path: "admin/audit", component: () => import("./views/admin/Audit.vue"), meta: { title: "审计日志", anyOf: ["audit.read", "audit.verify"] } },
      { path: "admin/security", component: () => import("./views/admin/Security.vue"), meta: { title: "安全设置", permission: "security.settings" } },
      { path: "forbidden", component: () => import("./views/Forbidden.vue"), meta: { title: "无权访问" } },
      { path: ":rest(.*)*", component: () => import("./views/Forbidden.vue"), meta: { title: "页面不存在" } },
    ],
  },
];

export function mayOpen(meta: { permission?: string; anyOf?: string[] }): boolean {
  const needed = meta.anyOf ?? (meta.permission ? [meta.permission] : []);
  return needed.length === 0 || needed.some(can);
}

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!currentSession()) return { path: "/login", query: { next: to.fullPath } };
  if (!me.who) {
    const role = currentSession()?.role;
    // Beside /auth/me, not after it, for the roles that read the reference lists (the
    // security officer and the auditor do not: asking would only be refused).
    if (role && READERS_OF_LISTS.has(role)) void loadLists().catch(() => undefined);
    if (to.path === "/dashboard" && role && METRICS_ROLES.has(role)) {
      const period = typeof to.query["period"] === "string" ? to.query["period"] : String(new Date().getFullYear());
      const district = typeof to.query["district"] === "string" && to.query["district"] ? to.query["district"] : undefined;
      askEarly({ period, ...(district ? { district } : {}) });
    }
    try {
      await loadMe();
    } catch {
      return { path: "/login", query: { next: to.fullPath } };
    }
  }
  if (me.who && me.who.scope !== "full") return { path: "/login", query: { step: me.who.scope } };
  if (to.path === "/") return homeOf(me.who?.role);
  if (!mayOpen(to.meta)) return { path: "/forbidden", query: { from: to.fullPath } };
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title} · 办实事工作台`;
});
