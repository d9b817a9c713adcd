/*
 * Banshi web front end: the science worker's pages, served by the service at "/".
 *
 * No framework and no bundler: tsc compiles each src/*.ts to an ES module in dist/,
 * and index.html loads this one with <script type="module">. The page talks only to
 * /api/v1 on the same origin.
 *
 *   main.ts        this file: the header navigation, the route table, rendering a page
 *   router.ts      hash routes (#/lookup, #/login, #/my, #/my/{id}, #/new, #/notices) and page-to-page state
 *   http.ts        typed calls over the generated src/api.d.ts (npm run gen:api), ApiError
 *   session.ts     the access token in sessionStorage
 *   messages.ts    problem+json answers as Chinese messages
 *   dom.ts         building elements (text nodes only, never HTML strings), labelled fields
 *   format.ts      Beijing-time dates, file sizes, rating labels
 *   components.ts  status and due-date badges, the timeline
 *   lookup.ts, login.ts, mycases.ts, detail.ts, newcase.ts, notices.ts: one module per page
 *
 * Every page starts with an <h1 tabindex="-1"> that takes the focus when the route
 * changes, so keyboard and screen-reader users land on the new page's title.
 */

import { caseView } from "./detail.js";
import { h, replaceChildren } from "./dom.js";
import { call, setUnauthorizedHandler } from "./http.js";
import { loginView } from "./login.js";
import { lookupView } from "./lookup.js";
import { errorMessage } from "./messages.js";
import { myCasesView } from "./mycases.js";
import { newCaseView } from "./newcase.js";
import { noticesView, unreadCount } from "./notices.js";
import { navigate, parse, rememberReturn, setFlash, takeFlash, type Route } from "./router.js";
import { clearSession, currentSession } from "./session.js";

const SITE = "为科技工作者办实事";

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
let generation = 0;
let firstRender = true;

function needsSignIn(route: Route): boolean {
  return route.name === "my" || route.name === "case" || route.name === "new" || route.name === "notices";
}

async function viewFor(route: Route): Promise<HTMLElement> {
  switch (route.name) {
    case "lookup":
      return lookupView();
    case "login":
      return loginView();
    case "my":
      return myCasesView(route.page ?? 1);
    case "case":
      return caseView(route.id ?? "");
    case "new":
      return newCaseView();
    case "notices":
      return noticesView(route.page ?? 1);
    case "missing":
      return h(
        "div",
        { class: "view" },
        h("h1", { tabindex: -1 }, "页面不存在"),
        h("p", null, "您访问的页面不存在。", h("a", { href: "#/lookup" }, "返回办件查询"), "。"),
      );
  }
}

async function render(): Promise<void> {
  const mine = ++generation;
  const route = parse(window.location.hash);
  if (route.name === "lookup" && window.location.hash !== "#/lookup") {
    window.history.replaceState(null, "", "#/lookup");
  }
  if (needsSignIn(route) && currentSession() === null) {
    rememberReturn(window.location.hash);
    navigate("#/login");
    return;
  }
  if (route.name === "login" && currentSession() !== null) {
    navigate("#/my");
    return;
  }
  drawNav(route);
  main.setAttribute("aria-busy", "true");
  let view: HTMLElement;
  try {
    view = await viewFor(route);
  } catch (error) {
    view = h(
      "div",
      { class: "view" },
      h("h1", { tabindex: -1 }, "无法打开页面"),
      h("p", { class: "alert", role: "alert" }, errorMessage(error)),
      h("p", null, h("a", { href: window.location.hash }, "重试"), " · ", h("a", { href: "#/lookup" }, "返回办件查询")),
    );
  }
  if (mine !== generation) return; // a newer navigation has started
  const flash = takeFlash();
  replaceChildren(main, flash === null ? null : h("p", { class: "callout tone-info", role: "status" }, flash), view);
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  document.title = `${heading?.textContent ?? "办件服务"} · ${SITE}`;
  if (!firstRender) {
    window.scrollTo(0, 0);
    heading?.focus();
  }
  firstRender = false;
}

function drawNav(route: Route): void {
  const signedIn = currentSession();
  const link = (href: string, label: string, current: boolean): HTMLElement =>
    h("li", null, h("a", { href, "aria-current": current ? "page" : null }, label));
  const items: HTMLElement[] = [link("#/lookup", "办件查询", route.name === "lookup")];
  if (signedIn === null) {
    items.push(link("#/login", "登录", route.name === "login"));
  } else {
    items.push(link("#/my", "我的办件", route.name === "my" || route.name === "case"));
    items.push(link("#/new", "新的申请", route.name === "new"));
    items.push(noticesLink(route.name === "notices"));
    const out = h("button", { type: "button", class: "nav-button" }, "退出登录");
    out.addEventListener("click", () => void signOut());
    items.push(h("li", null, out));
  }
  replaceChildren(nav, h("ul", null, ...items));
  const who = document.getElementById("who");
  if (who !== null) {
    replaceChildren(who, signedIn === null ? null : `已登录：${signedIn.username}`);
  }
}

/** 消息, with the number unread as a badge once the service has answered (read aloud as
    "消息，3 条未读"). */
function noticesLink(current: boolean): HTMLElement {
  const count = h("span", { class: "count", hidden: true });
  const anchor = h("a", { href: "#/notices", "aria-current": current ? "page" : null }, "消息", count);
  void unreadCount().then((unread) => {
    if (unread > 0) {
      count.textContent = String(unread);
      count.removeAttribute("hidden");
      anchor.setAttribute("aria-label", `消息，${unread} 条未读`);
    }
  });
  return h("li", null, anchor);
}

async function signOut(): Promise<void> {
  await call("post", "/api/v1/auth/logout", {}).catch(() => undefined);
  clearSession();
  setFlash("您已退出登录。");
  navigate("#/lookup");
}

setUnauthorizedHandler(() => {
  const route = parse(window.location.hash);
  if (needsSignIn(route)) rememberReturn(window.location.hash);
  setFlash("登录已过期，请重新登录。");
  navigate("#/login");
});

// The skip link moves the focus itself: "#main" as a URL would be read as a route.
document.getElementById("skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  const target = main.querySelector("h1") ?? main;
  target.focus();
});

window.addEventListener("hashchange", () => void render());
void render();
