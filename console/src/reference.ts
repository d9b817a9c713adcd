/* Names for the codes the API returns: districts (九龙坡区), departments, work-list items
   and, for the roles that may read staff, stewards' names. Loaded once per sign-in. */
import { reactive } from "vue";
import { api, type Schemas } from "./http";

interface Reference {
  loaded: boolean;
  districts: Schemas["DistrictOut"][];
  departments: Schemas["DepartmentOut"][];
  items: Schemas["WorkListItemOut"][];
  staff: Map<string, Schemas["StaffOut"]>;
}

export const lists = reactive<Reference>({ loaded: false, districts: [], departments: [], items: [], staff: new Map() });
let listsLoad: Promise<void> | null = null;
let staff: Promise<void> | null = null;

/** Districts, departments and this year's work list: what every staff role may read.
   Started as early as the session is known, beside `GET /auth/me`. */
export function loadLists(): Promise<void> {
  listsLoad ??= (async () => {
    const year = new Date().getFullYear();
    const [districts, departments, items] = await Promise.all([
      api.get("/api/v1/districts"),
      api.get("/api/v1/departments"),
      api.get("/api/v1/work-list-items", { query: { year } }),
    ]);
    lists.districts = districts;
    lists.departments = departments;
    lists.items = items;
    lists.loaded = true;
  })().catch((error: unknown) => {
    listsLoad = null;
    throw error;
  });
  return listsLoad;
}

/** Staff names, for the roles that may read staff. */
export function loadStaff(): Promise<void> {
  staff ??= (async () => {
    const found = new Map<string, Schemas["StaffOut"]>();
    for (let offset = 0; ; offset += 200) {
      const page = await api.get("/api/v1/staff", { query: { limit: 200, offset } });
      page.items.forEach((s) => found.set(s.id, s));
      if (offset + page.items.length >= page.total || page.items.length === 0) break;
    }
    lists.staff = found;
  })().catch((error: unknown) => {
    staff = null;
    throw error;
  });
  return staff;
}

export function loadReference(canReadStaff: boolean): Promise<void> {
  return Promise.all([loadLists(), canReadStaff ? loadStaff() : Promise.resolve()]).then(() => undefined);
}

export function forgetReference(): void {
  listsLoad = null;
  staff = null;
  lists.loaded = false;
  lists.staff = new Map();
}

export function districtName(code: string | null | undefined): string {
  if (!code) return "—";
  return lists.districts.find((d) => d.code === code)?.name_zh ?? code;
}

export function departmentName(code: string | null | undefined): string {
  if (!code) return "—";
  return lists.departments.find((d) => d.code === code)?.name_zh ?? code;
}

export function itemTitle(idOrCode: string | null | undefined): string {
  if (!idOrCode) return "—";
  const item = lists.items.find((i) => i.id === idOrCode || i.code === idOrCode);
  return item ? item.title_zh : idOrCode;
}

export function staffName(id: string | null | undefined): string {
  if (!id) return "—";
  return lists.staff.get(id)?.name ?? "—";
}
