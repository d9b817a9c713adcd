/* Printable pages the service makes (the receipt, the monthly report) need the token, so
   they are fetched here and shown from a blob in a frame of this page, where they can be
   printed. */
import { fetchBlob } from "./http";

export async function printableUrl(url: string): Promise<string> {
  const { blob } = await fetchBlob(url);
  return URL.createObjectURL(new Blob([blob], { type: "text/html" }));
}
