/* The printable receipt (受理回执) needs the token, so it is fetched here and shown from
   a blob in a frame of this page, where it can be printed. */
import { fetchBlob } from "./http";

export async function receiptUrl(url: string): Promise<string> {
  const { blob } = await fetchBlob(url);
  return URL.createObjectURL(new Blob([blob], { type: "text/html" }));
}
