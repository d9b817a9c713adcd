/* The API's problem+json, shown next to the field it names, in Chinese: the console asks
   for Chinese (Accept-Language: zh-CN). A whole-request message falls back to a Chinese
   sentence by status when the service's text is not Chinese. */
import { ElMessage } from "element-plus";
import { ApiProblem } from "./http";

const BY_STATUS: Record<number, string> = {
  0: "无法连接服务，请检查网络后重试。",
  400: "填写的内容有误，请按提示修改。",
  401: "请先登录。",
  403: "当前账号没有这项操作的权限。",
  404: "没有找到，或不在您的办理范围内。",
  409: "与当前状态冲突，请刷新后再试。",
  412: "案件已被他人修改，请刷新后再试。",
  413: "文件或内容过大。",
  415: "不支持的文件类型。",
  422: "内容不符合要求，请按提示修改。",
  428: "请刷新后再试。",
  429: "操作过于频繁，请稍后再试。",
  503: "服务暂时不可用，请稍后再试。",
};

/** A field's reason as the service gave it: the console asks for Chinese, and the
    service's own table (service/api/problem_language.py) is the one place texts are put
    into Chinese. */
export function reasonZh(reason: string): string {
  return reason;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiProblem) {
    const text = error.detail || error.title;
    if (/[\u4e00-\u9fff]/.test(text)) return text;
    return BY_STATUS[error.status] ?? `操作未完成（${error.status}）`;
  }
  return "操作未完成，请稍后再试。";
}

/** Field errors keyed by the form's own field names (`body.title` → `title`). */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (error instanceof ApiProblem) {
    for (const e of error.errors) {
      const name = e.field.replace(/^(body|query|path|header)\./, "");
      out[name] = reasonZh(e.reason);
    }
  }
  return out;
}

/** Tell the user what went wrong, at the top of the screen (field errors stay by the fields). */
export function complain(error: unknown): void {
  const fields = fieldErrors(error);
  const first = Object.entries(fields)[0];
  ElMessage.error({ message: first ? `${messageOf(error)}（${first[1]}）` : messageOf(error), duration: 6000, showClose: true });
}
