/* Hash routes (#/lookup, #/login, #/my, #/my/{id}, #/new, #/notices) and the small state that
   travels between pages: a one-line message for the next page and where to return
   after signing in. The route table itself is in main.ts. */

export interface Route {
  name: "lookup" | "login" | "my" | "case" | "new" | "notices" | "missing";
  id?: string;
  page?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parse(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter((part) => part !== "");
  const query = new URLSearchParams(search);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "lookup")) return { name: "lookup" };
  if (parts.length === 1 && parts[0] === "login") return { name: "login" };
  if (parts.length === 1 && parts[0] === "new") return { name: "new" };
  if (parts.length === 1 && parts[0] === "my") {
    const page = Number.parseInt(query.get("page") ?? "1", 10);
    return { name: "my", page: Number.isFinite(page) && page > 0 ? page : 1 };
  }
  if (parts.length === 1 && parts[0] === "notices") {
    const page = Number.parseInt(query.get("page") ?? "1", 10);
    return { name: "notices", page: Number.isFinite(page) && page > 0 ? page : 1 };
  }
  if (parts.length === 2 && parts[0] === "my" && UUID.test(parts[1] ?? "")) return { name: "case", id: parts[1] ?? "" };
  return { name: "missing" };
}

export function navigate(hash: string): void {
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = hash;
}

let flash: string | null = null;

/** A message shown once at the top of the next page ("您已退出登录"). */
export function setFlash(message: string): void {
  flash = message;
}

export function takeFlash(): string | null {
  const message = flash;
  flash = null;
  return message;
}

let returnTo: string | null = null;

/** Where to go after signing in: the page that asked for it, else my cases. */
export function rememberReturn(hash: string): void {
  returnTo = hash;
}

export function takeReturn(): string {
  const target = returnTo ?? "#/my";
  returnTo = null;
  return target;
}
