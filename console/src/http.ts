/* The one way the console talks to the service: `/api/v1`, like any other client.
   Paths and their request and response shapes come from the generated `api.d.ts`
   (openapi/openapi.json), so an API change that breaks a screen breaks the build. */
import type { components, paths } from "./api";
import { clearSession, currentSession, touchSession } from "./session";

export type Schemas = components["schemas"];

type Method = "get" | "post" | "put" | "patch" | "delete";
type Json<R> = R extends { content: { "application/json": infer T } } ? T : undefined;
type Answer<O> = O extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer B }
      ? Json<B>
      : undefined
  : never;
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B
    : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type PathOf<O> = O extends { parameters: { path: infer P } } ? P : never;

export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never;
}[keyof paths];

export interface Call<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  form?: FormData;
  headers?: Record<string, string>;
  /** A request the page makes by itself (the unread count): not a sign of the user at work,
      so it does not reset the console's idle clock. */
  background?: boolean;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

/** A problem+json answer (RFC 9457), with the fields it names. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldProblem[],
    readonly type: string,
  ) {
    super(detail || title);
  }

}

const LANGUAGE = "zh-CN, zh;q=0.9";
let onSignedOut: (reason: string) => void = () => undefined;

export function whenSignedOut(handler: (reason: string) => void): void {
  onSignedOut = handler;
}

function fill(template: string, values: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(String(values?.[key] ?? "")));
}

export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, String(v)));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function problemOf(response: Response): Promise<ApiProblem> {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  const errors = Array.isArray(body["errors"]) ? (body["errors"] as FieldProblem[]) : [];
  return new ApiProblem(
    response.status,
    typeof body["title"] === "string" ? body["title"] : `HTTP ${response.status}`,
    typeof body["detail"] === "string" ? body["detail"] : "",
    errors,
    typeof body["type"] === "string" ? body["type"] : "about:blank",
  );
}

/** Any request to the service, with the token, Chinese problem texts and the idle clock. */
export async function send(method: string, url: string, init: RequestInit = {}, background = false): Promise<Response> {
  const session = currentSession();
  const headers = new Headers(init.headers);
  headers.set("Accept-Language", LANGUAGE);
  if (session) headers.set("Authorization", `Bearer ${session.token}`);
  let response: Response;
  try {
    response = await fetch(url, { ...init, method, headers, credentials: "same-origin" });
  } catch {
    throw new ApiProblem(0, "无法连接服务", "网络连接失败，请检查网络后重试。", [], "network");
  }
  if (response.status === 401 && session) {
    clearSession();
    onSignedOut("登录已失效，请重新登录。");
  }
  if (!response.ok) throw await problemOf(response);
  if (session && !background) touchSession();
  return response;
}

async function call<M extends Method, P extends PathsWith<M>>(
  method: M,
  path: P,
  options: Call<paths[P][M]> = {},
): Promise<Answer<paths[P][M]>> {
  const url = fill(path, options.path as Record<string, unknown> | undefined) + queryString(options.query as Record<string, unknown> | undefined);
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await send(method.toUpperCase(), url, { headers, body }, options.background === true);
  if (response.status === 204 || response.headers.get("Content-Length") === "0") return undefined as Answer<paths[P][M]>;
  return (await response.json()) as Answer<paths[P][M]>;
}

export const api = {
  get: <P extends PathsWith<"get">>(path: P, options?: Call<paths[P]["get"]>) => call("get", path, options),
  post: <P extends PathsWith<"post">>(path: P, options?: Call<paths[P]["post"]>) => call("post", path, options),
  put: <P extends PathsWith<"put">>(path: P, options?: Call<paths[P]["put"]>) => call("put", path, options),
  patch: <P extends PathsWith<"patch">>(path: P, options?: Call<paths[P]["patch"]>) => call("patch", path, options),
  delete: <P extends PathsWith<"delete">>(path: P, options?: Call<paths[P]["delete"]>) => call("delete", path, options),
};

/** A file the service hands out (an export, a receipt, an attachment), fetched with the token. */
export async function fetchBlob(url: string): Promise<{ blob: Blob; filename: string | null }> {
  const response = await send("GET", url);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const filename = star?.[1] ? decodeURIComponent(star[1]) : (plain?.[1] ?? null);
  return { blob: await response.blob(), filename };
}

export async function download(url: string, fallbackName: string): Promise<void> {
  const { blob, filename } = await fetchBlob(url);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename ?? fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
