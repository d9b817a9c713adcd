/* Who is signed in and what their role may do (`GET /auth/me`). The console hides what
   the role cannot do; the API still decides on every request. */
import { reactive } from "vue";
import { api, type Schemas } from "./http";
import { rememberRole } from "./session";

export const me = reactive<{ who: Schemas["MeOut"] | null }>({ who: null });

export async function loadMe(): Promise<Schemas["MeOut"]> {
  const who = await api.get("/api/v1/auth/me");
  me.who = who;
  rememberRole(who.role);
  return who;
}

export function forgetMe(): void {
  me.who = null;
}

export function can(permission: string): boolean {
  return me.who?.permissions.includes(permission) ?? false;
}

/** The screen a role opens on. */
export function homeOf(role: string | undefined): string {
  switch (role) {
    case "official":
      return "/dashboard";
    case "security":
      return "/admin/security";
    case "auditor":
      return "/admin/audit";
    case "admin":
      return "/admin/accounts";
    default:
      return "/queue";
  }
}
