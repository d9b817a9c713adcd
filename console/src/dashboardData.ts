/* The dashboard's three tables, asked for as early as possible: when the browser opens
   the dashboard with a session whose role reads metrics, the requests leave beside
   `GET /auth/me` instead of after the screen's code has loaded. The screen takes them
   if its filters are the same, and asks again otherwise. */
import { api } from "./http";

export interface DashboardQuery {
  period: string;
  district?: string;
}

const ask = (query: DashboardQuery) =>
  Promise.all([
    api.get("/api/v1/metrics/items", { query }),
    api.get("/api/v1/metrics/by/{by}", { path: { by: "district" }, query }),
    api.get("/api/v1/metrics/trend", { query: { ...query, interval: "month" } }),
  ]);

type Tables = Awaited<ReturnType<typeof ask>>;
let early: { key: string; tables: Promise<Tables> } | null = null;

const keyOf = (query: DashboardQuery): string => `${query.period}|${query.district ?? ""}`;

export function askEarly(query: DashboardQuery): void {
  const tables = ask(query);
  tables.catch(() => undefined); // the screen reports errors when it takes them
  early = { key: keyOf(query), tables };
}

export function dashboardTables(query: DashboardQuery): Promise<Tables> {
  const taken = early;
  early = null;
  return taken && taken.key === keyOf(query) ? taken.tables : ask(query);
}

/** Forget a prefetch made for a session that has ended. */
export function forgetEarly(): void {
  early = null;
}
