/* The one way the page talks to the service. `call` takes a path and method of the
   generated `paths` (src/api.d.ts), so its path and query parameters, its JSON body and
   its answer are typed by the OpenAPI document: an API change that breaks the page
   breaks the build. Every refusal becomes an ApiError carrying the RFC 9457 problem. */
import { clearSession, currentSession } from "./session.js";
export class ApiError extends Error {
    constructor(status, problem, retryAfter) {
        super(problem?.detail ?? (status === 0 ? "network error" : `HTTP ${status}`));
        this.name = "ApiError";
        this.status = status;
        this.problem = problem;
        this.retryAfter = retryAfter;
    }
}
let onUnauthorized = () => undefined;
/** What to do when the service no longer accepts the token (the router sends the user to sign in). */
export function setUnauthorizedHandler(handler) {
    onUnauthorized = handler;
}
export async function call(method, path, init) {
    const parts = init;
    const url = buildUrl(path, parts.path, parts.query);
    const headers = { Accept: "application/json" };
    let body;
    if (parts.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(parts.body);
    }
    const credential = init.auth === false ? { kind: "none" } : init.token !== undefined ? { kind: "token", token: init.token } : SESSION;
    const response = await send(url, { method: method.toUpperCase(), headers, body }, credential);
    if (response.status === 204)
        return undefined;
    return (await response.json());
}
/** One file to a case (multipart field `file`); the service checks its type from its content. */
export async function uploadAttachment(caseId, file) {
    const form = new FormData();
    form.append("file", file, file.name);
    const url = buildUrl("/api/v1/cases/{case_id}/attachments", { case_id: caseId }, undefined);
    const response = await send(url, { method: "POST", headers: { Accept: "application/json" }, body: form }, SESSION);
    return (await response.json());
}
/** A URL the service handed out (a download or a receipt), fetched with the token. */
export async function fetchWithToken(serviceUrl) {
    if (!serviceUrl.startsWith("/api/v1/"))
        throw new ApiError(400, null, null);
    return send(serviceUrl, { method: "GET", headers: {} }, SESSION);
}
/** A printable page of the service (HTML) by its path in the generated `paths`: with the
    session's token, or none (`auth: false`) for the public lookup's. */
export async function fetchPage(path, init) {
    const url = buildUrl(path, init.path, init.query);
    const credential = init.auth === false ? { kind: "none" } : SESSION;
    const response = await send(url, { method: "GET", headers: { Accept: "text/html" } }, credential);
    return response.text();
}
const SESSION = { kind: "session" };
async function send(url, request, credential) {
    const session = credential.kind === "session" ? currentSession() : null;
    const token = credential.kind === "token" ? credential.token : session?.token;
    if (token !== undefined)
        request.headers["Authorization"] = `Bearer ${token}`;
    let response;
    try {
        response = await fetch(url, { ...request, credentials: "same-origin", cache: "no-store" });
    }
    catch {
        throw new ApiError(0, null, null);
    }
    if (response.ok)
        return response;
    const error = await toError(response);
    if (error.status === 401 && session !== null) {
        clearSession();
        onUnauthorized();
    }
    throw error;
}
async function toError(response) {
    let problem = null;
    try {
        const parsed = await response.json();
        if (typeof parsed === "object" && parsed !== null && "status" in parsed)
            problem = parsed;
    }
    catch {
        problem = null;
    }
    const header = response.headers.get("Retry-After");
    const seconds = header === null ? NaN : Number.parseInt(header, 10);
    return new ApiError(response.status, problem, Number.isFinite(seconds) ? seconds : null);
}
function buildUrl(template, pathParams, query) {
    const path = template.replace(/\{([^}]+)\}/g, (_, name) => {
        const value = pathParams?.[name];
        if (value === undefined || value === null)
            throw new Error(`missing path parameter ${name}`);
        return encodeURIComponent(String(value));
    });
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
        if (value !== undefined && value !== null)
            search.append(name, String(value));
    }
    const text = search.toString();
    return text === "" ? path : `${path}?${text}`;
}
