/* The checks a steward's typing gets before anything is sent: the 18-character
   national ID with its GB 11643 check character, and a mainland mobile number. The
   service checks both again. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

export function nationalIdProblem(value: string): string | null {
  const id = value.trim().toUpperCase();
  if (!id) return "必填";
  if (!/^\d{17}[\dX]$/.test(id)) return "须为 18 位，前 17 位为数字，最后一位为数字或 X";
  const month = Number(id.slice(10, 12));
  const dayOfMonth = Number(id.slice(12, 14));
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31) return "出生日期不正确";
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  if (CHECK[sum % 11] !== id[17]) return "校验位不正确，请核对号码";
  return null;
}

export function mobileProblem(value: string): string | null {
  const mobile = value.trim();
  if (!mobile) return "必填";
  if (!/^1[3-9]\d{9}$/.test(mobile)) return "须为 11 位手机号码";
  return null;
}
