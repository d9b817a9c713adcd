/* The periods an official picks: this and last year, their quarters and months, in the
   API's own notation (2026, 2026-Q2, 2026-03). */
export interface PeriodOption {
  value: string;
  label: string;
}

export function periodOptions(now = new Date()): { label: string; options: PeriodOption[] }[] {
  const year = now.getFullYear();
  const groups: { label: string; options: PeriodOption[] }[] = [];
  for (const y of [year, year - 1]) {
    const lastMonth = y === year ? now.getMonth() + 1 : 12;
    groups.push({
      label: `${y} 年`,
      options: [
        { value: String(y), label: `${y} 年全年` },
        ...[1, 2, 3, 4].filter((q) => (q - 1) * 3 < lastMonth).map((q) => ({ value: `${y}-Q${q}`, label: `${y} 年第${"一二三四"[q - 1]}季度` })),
        ...Array.from({ length: lastMonth }, (_, i) => lastMonth - i).map((m) => ({ value: `${y}-${String(m).padStart(2, "0")}`, label: `${y} 年 ${m} 月` })),
      ],
    });
  }
  return groups;
}

/** The month a monthly report is for: the period's own month, or the last month of a
   quarter or year that has begun (this month at the latest), as `2026-11`. */
export function reportMonth(period: string, now = new Date()): string {
  const current = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  if (/^\d{4}-\d{2}$/.test(period)) return period;
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  const year = /^(\d{4})$/.exec(period);
  const last = quarter ? `${quarter[1]}-${String(Number(quarter[2]) * 3).padStart(2, "0")}` : year ? `${year[1]}-12` : current;
  return last < current ? last : current;
}
