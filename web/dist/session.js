/* The sign-in kept for this tab only (sessionStorage): the access token and the user
   name shown in the header. Nothing else about the worker is stored in the browser. */
const KEY = "banshi.session";
let memory = null; // when the browser refuses storage (some private modes)
export function currentSession() {
    try {
        const raw = window.sessionStorage.getItem(KEY);
        if (raw === null)
            return memory;
        const parsed = JSON.parse(raw);
        if (isSession(parsed))
            return parsed;
    }
    catch {
        return memory;
    }
    return null;
}
export function saveSession(session) {
    memory = session;
    try {
        window.sessionStorage.setItem(KEY, JSON.stringify(session));
    }
    catch {
        // kept in memory only
    }
}
export function clearSession() {
    memory = null;
    try {
        window.sessionStorage.removeItem(KEY);
    }
    catch {
        // nothing stored
    }
}
function isSession(value) {
    if (typeof value !== "object" || value === null)
        return false;
    const record = value;
    return typeof record["token"] === "string" && typeof record["username"] === "string";
}
