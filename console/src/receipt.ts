/* The printable pages, the receipt (受理回执) and the completion notice (办结通知书), need
   the token, so they are fetched here and shown from a blob in a frame of this page, where
   they can be printed. */
import type { paths } from "./api";
import { fetchBlob } from "./http";

export async function receiptUrl(url: string): Promise<string> {
  const { blob } = await fetchBlob(url);
  return URL.createObjectURL(new Blob([blob], { type: "text/html" }));
}

const COMPLETION_NOTICE: keyof paths = "/api/v1/cases/{case_id}/completion-notice";

/** The completion notice of a resolved or archived case. */
export function completionNoticeUrl(caseId: string): Promise<string> {
  return receiptUrl(COMPLETION_NOTICE.replace("{case_id}", encodeURIComponent(caseId)));
}
