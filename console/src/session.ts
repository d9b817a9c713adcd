/* The sign-in kept for this tab only (sessionStorage), as the worker's page does: the
   access token, the user name and role shown in the header, and the idle clock. The
   service ends a token unused for `expiresIn` seconds; each request extends it up to
   `expiresAt`. The idle clock here counts what the user does (requests they cause), not
   what the page asks by itself; the console warns a minute before the end and signs out
   when it comes, so an unattended console does not stay signed in. */
import { reactive } from "vue";

export interface Session {
  token: string;
  username: string;
  role: string;
  expiresIn: number;
  expiresAt: string;
  lastUsed?: number;
}

const KEY = "banshi.staff.session";
export const state = reactive<{ session: Session | null }>({ session: read() });

function read(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== "string" || typeof parsed.username !== "string") return null;
    return {
      token: parsed.token,
      username: parsed.username,
      role: typeof parsed.role === "string" ? parsed.role : "",
      expiresIn: typeof parsed.expiresIn === "number" ? parsed.expiresIn : 1800,
      expiresAt: typeof parsed.expiresAt === "string" ? parsed.expiresAt : new Date(Date.now() + 8 * 3600_000).toISOString(),
      lastUsed: typeof parsed.lastUsed === "number" ? parsed.lastUsed : Date.now(),
    };
  } catch {
    return null;
  }
}

function write(): void {
  try {
    if (state.session) window.sessionStorage.setItem(KEY, JSON.stringify(state.session));
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // storage refused: kept in memory for this page
  }
}

export function currentSession(): Session | null {
  return state.session;
}

export function saveSession(session: Session): void {
  state.session = { ...session, lastUsed: Date.now() };
  write();
}

export function touchSession(): void {
  if (!state.session) return;
  state.session.lastUsed = Date.now();
  write();
}

/** The role, kept once `/auth/me` has told it, so that a reload can ask for its first
   screen's data early (a hint only: the API decides). */
export function rememberRole(role: string): void {
  if (!state.session || state.session.role === role) return;
  state.session.role = role;
  write();
}

export function clearSession(): void {
  state.session = null;
  write();
}

/** The service notes a session's last use at most once a minute, so its idle end can come
    up to a minute before the one counted here: the console counts a minute short. */
const SERVICE_SLACK_MS = 60_000;

/** Milliseconds until the token ends: idle limit or absolute end, whichever comes first. */
export function msLeft(now = Date.now()): number {
  const s = state.session;
  if (!s) return 0;
  const idleEnd = (s.lastUsed ?? now) + s.expiresIn * 1000 - SERVICE_SLACK_MS;
  const hardEnd = Date.parse(s.expiresAt);
  return Math.min(idleEnd, Number.isNaN(hardEnd) ? idleEnd : hardEnd) - now;
}

/** Milliseconds since the user last caused a request. */
export function msSinceUse(now = Date.now()): number {
  return now - (state.session?.lastUsed ?? 0);
}
