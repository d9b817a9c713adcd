/* Printable pages the service makes (the receipt, the completion notice, the monthly
   report) need the token, so they are fetched here and shown from a blob in a frame of
   this page, where they can be printed. */
import type { paths } from "./api";
import { fetchBlob } from "./http";

export async function printableUrl(url: string): Promise<string> {
  const { blob } = await fetchBlob(url);
  return URL.createObjectURL(new Blob([blob], { type: "text/html" }));
}

const COMPLETION_NOTICE: keyof paths = "/api/v1/cases/{case_id}/completion-notice";

/** The completion notice (办结通知书) of a resolved or archived case. */
export function completionNoticeUrl(caseId: string): Promise<string> {
  return printableUrl(COMPLETION_NOTICE.replace("{case_id}", encodeURIComponent(caseId)));
}
