/* The sign-in kept for this tab only (sessionStorage): the access token and the user
   name shown in the header. Nothing else about the worker is stored in the browser. */

export interface Session {
  token: string;
  username: string;
}

const KEY = "banshi.session";
let memory: Session | null = null; // when the browser refuses storage (some private modes)

export function currentSession(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(KEY);
    if (raw === null) return memory;
    const parsed: unknown = JSON.parse(raw);
    if (isSession(parsed)) return parsed;
  } catch {
    return memory;
  }
  return null;
}

export function saveSession(session: Session): void {
  memory = session;
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // kept in memory only
  }
}

export function clearSession(): void {
  memory = null;
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record["token"] === "string" && typeof record["username"] === "string";
}
