/* The one way the page talks to the service. `call` takes a path and method of the
   generated `paths` (src/api.d.ts), so its path and query parameters, its JSON body and
   its answer are typed by the OpenAPI document: an API change that breaks the page
   breaks the build. Every refusal becomes an ApiError carrying the RFC 9457 problem. */

import type { components, paths } from "./api.js";
import { clearSession, currentSession } from "./session.js";

export type Schemas = components["schemas"];

/** RFC 9457 problem details, as every error of the API is sent. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; reason: string }[] | null;
  allowed_actions?: string[] | null;
}

type Method = "get" | "post" | "put";
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type PathsFor<M extends Method> = {
  [P in keyof paths]: [Op<P, M>] extends [never] ? never : P;
}[keyof paths];

type ParamsOf<O> = O extends { parameters: infer X } ? X : never;
type PathPart<O> = ParamsOf<O> extends { path: infer A } ? { path: A } : { path?: undefined };
type QueryPart<O> =
  ParamsOf<O> extends { query: infer Q }
    ? { query: Q }
    : ParamsOf<O> extends { query?: infer Q }
      ? { query?: Q }
      : { query?: undefined };
type BodyPart<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? { body: B }
  : { body?: undefined };
type Success<O> = O extends { responses: infer R }
  ? R extends { 200: infer S }
    ? S
    : R extends { 201: infer S }
      ? S
      : R extends { 204: infer S }
        ? S
        : never
  : never;
type JsonOf<S> = S extends { content: { "application/json": infer J } } ? J : undefined;

/** What a call sends: path and query parameters, the JSON body, and which token: the
    session's (the default), none (`auth: false`), or one given (`token`, during sign-in). */
export type Init<O> = PathPart<O> & QueryPart<O> & BodyPart<O> & { auth?: boolean; token?: string };
/** The JSON of a call's success answer (undefined for 204). */
export type Result<O> = JsonOf<Success<O>>;

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: number | null) {
    super(problem?.detail ?? (status === 0 ? "network error" : `HTTP ${status}`));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

let onUnauthorized: () => void = () => undefined;

/** What to do when the service no longer accepts the token (the router sends the user to sign in). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function call<M extends Method, P extends PathsFor<M> & keyof paths>(
  method: M,
  path: P,
  init: Init<Op<P, M>>,
): Promise<Result<Op<P, M>>> {
  const parts = init as { path?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
  const url = buildUrl(path, parts.path, parts.query);
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: string | undefined;
  if (parts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(parts.body);
  }
  const credential: Credential =
    init.auth === false ? { kind: "none" } : init.token !== undefined ? { kind: "token", token: init.token } : SESSION;
  const response = await send(url, { method: method.toUpperCase(), headers, body }, credential);
  if (response.status === 204) return undefined as Result<Op<P, M>>;
  return (await response.json()) as Result<Op<P, M>>;
}

type UploadOp = Op<"/api/v1/cases/{case_id}/attachments", "post">;

/** One file to a case (multipart field `file`); the service checks its type from its content. */
export async function uploadAttachment(caseId: string, file: File): Promise<Result<UploadOp>> {
  const form = new FormData();
  form.append("file", file, file.name);
  const url = buildUrl("/api/v1/cases/{case_id}/attachments", { case_id: caseId }, undefined);
  const response = await send(url, { method: "POST", headers: { Accept: "application/json" }, body: form }, SESSION);
  return (await response.json()) as Result<UploadOp>;
}

/** A URL the service handed out (a download or a receipt), fetched with the token. */
export async function fetchWithToken(serviceUrl: string): Promise<Response> {
  if (!serviceUrl.startsWith("/api/v1/")) throw new ApiError(400, null, null);
  return send(serviceUrl, { method: "GET", headers: {} }, SESSION);
}

/** A printable page of the service (HTML) by its path in the generated `paths`: with the
    session's token, or none (`auth: false`) for the public lookup's. */
export async function fetchPage(
  path: keyof paths,
  init: { path?: Record<string, string>; query?: Record<string, string>; auth?: boolean },
): Promise<string> {
  const url = buildUrl(path, init.path, init.query);
  const credential: Credential = init.auth === false ? { kind: "none" } : SESSION;
  const response = await send(url, { method: "GET", headers: { Accept: "text/html" } }, credential);
  return response.text();
}

/** Which token a request carries: the signed-in one, none, or one given during sign-in. */
type Credential = { kind: "session" } | { kind: "none" } | { kind: "token"; token: string };
const SESSION: Credential = { kind: "session" };

async function send(url: string, request: RequestInit & { headers: Record<string, string> }, credential: Credential) {
  const session = credential.kind === "session" ? currentSession() : null;
  const token = credential.kind === "token" ? credential.token : session?.token;
  if (token !== undefined) request.headers["Authorization"] = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { ...request, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, null, null);
  }
  if (response.ok) return response;
  const error = await toError(response);
  if (error.status === 401 && session !== null) {
    clearSession();
    onUnauthorized();
  }
  throw error;
}

async function toError(response: Response): Promise<ApiError> {
  let problem: Problem | null = null;
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === "object" && parsed !== null && "status" in parsed) problem = parsed as Problem;
  } catch {
    problem = null;
  }
  const header = response.headers.get("Retry-After");
  const seconds = header === null ? NaN : Number.parseInt(header, 10);
  return new ApiError(response.status, problem, Number.isFinite(seconds) ? seconds : null);
}

function buildUrl(
  template: string,
  pathParams: Record<string, unknown> | undefined,
  query: Record<string, unknown> | undefined,
): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParams?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) search.append(name, String(value));
  }
  const text = search.toString();
  return text === "" ? path : `${path}?${text}`;
}
