/* Dates in China Standard Time, file sizes, and Chinese labels for API values. */

import type { Schemas } from "./http.js";

// China Standard Time is UTC+8 all year (no daylight saving since 1991), so Beijing
// time is computed directly instead of relying on the browser's time-zone data.
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

function two(n: number): string {
  return String(n).padStart(2, "0");
}

function beijing(iso: string): Date {
  return new Date(Date.parse(iso) + CST_OFFSET_MS);
}

/** 2026-06-02 (Beijing time). */
export function date(iso: string): string {
  const d = beijing(iso);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}

/** 2026-06-02 10:00 (Beijing time). */
export function dateTime(iso: string): string {
  const d = beijing(iso);
  return `${date(iso)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** The current year in Beijing, for the work list. */
export function currentYear(): number {
  return beijing(new Date().toISOString()).getUTCFullYear();
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} 字节`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export type RatingLevel = Schemas["RatingIn"]["level"];

export const RATING_LABELS: Record<RatingLevel, string> = {
  very_satisfied: "非常满意",
  satisfied: "满意",
  basically_satisfied: "基本满意",
  dissatisfied: "不满意",
  very_dissatisfied: "非常不满意",
};

export function ratingLabel(level: string | null): string | null {
  if (level === null) return null;
  return level in RATING_LABELS ? RATING_LABELS[level as RatingLevel] : level;
}
