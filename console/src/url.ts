/* Filters, sorting and paging kept in the URL's query, so that a view can be bookmarked
   and shared, and the browser's back button returns to it. */
import { computed } from "vue";
import { useRoute, useRouter } from "vue-router";

export function useQueryState<T extends Record<string, string>>(defaults: T) {
  const route = useRoute();
  const router = useRouter();
  const values = computed<T>(() => {
    const out = { ...defaults };
    for (const key of Object.keys(defaults) as (keyof T & string)[]) {
      const raw = route.query[key];
      if (typeof raw === "string") (out as Record<string, string>)[key] = raw;
    }
    return out;
  });
  function set(changes: Partial<T>, resetPage = true): void {
    const next: Record<string, string> = {};
    const merged = { ...values.value, ...(resetPage && !("page" in changes) ? { page: "1" } : {}), ...changes };
    for (const [key, value] of Object.entries(merged)) {
      if (value !== undefined && value !== "" && value !== defaults[key]) next[key] = String(value);
    }
    void router.replace({ path: route.path, query: next });
  }
  return { values, set };
}

export function int(value: string, fallback: number): number {
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** For a screen that asks again whenever its filters change: each call marks a new request,
    and the function it returns says whether that request is still the latest, so an answer
    that comes back late is dropped rather than shown over a newer one. */
export function latestRequest(): () => () => boolean {
  let asked = 0;
  return () => {
    const mine = ++asked;
    return () => mine === asked;
  };
}
