/* What the user reads when something is refused: the API's problem details mapped to
   Chinese where the case is known, else the service's own detail. */

import { ApiError } from "./http.js";

export type Context = "lookup" | "login" | "password" | "upload" | "preferences" | "general";

export function errorMessage(error: unknown, context: Context = "general"): string {
  if (!(error instanceof ApiError)) return "页面出现错误，请刷新后重试。";
  const { status, problem } = error;
  if (status === 0) return "网络连接失败，请检查网络后重试。";
  if (status === 429) {
    const minutes = Math.max(1, Math.ceil((error.retryAfter ?? 60) / 60));
    return `尝试次数过多，请 ${minutes} 分钟后再试。`;
  }
  if (status === 404 && context === "lookup") return "受理编号或查询码不正确。";
  if (status === 401) return context === "login" ? "用户名或密码不正确。" : "登录已过期，请重新登录。";
  if (status === 413) return "文件超过 20 MB，请压缩或拆分后再上传。";
  if (status === 403) return "您没有权限进行此操作。";
  if (status === 404) return "没有找到该办件，或您无权查看。";
  // On the case pages a conflict is a case that moved; on 通知方式 it is a channel not offered.
  if (status === 409 && context !== "preferences") return "办件状态已经变化，请刷新页面后再试。";
  if (status === 503) return "服务暂时不可用，请稍后再试。";
  if (status >= 500) return "服务出现错误，请稍后再试。";
  const first = problem?.errors?.[0];
  if (context === "upload" && first?.field === "file") return fileReason(first.reason);
  if (first !== undefined) {
    const label = fieldLabel(first.field);
    const reason = reasonText(first.reason);
    return label === "" ? `请求未成功${reason.startsWith("：") ? reason : `：${reason}`}` : `${label}${reason}`;
  }
  return problem?.detail ? `请求未成功：${problem.detail}` : `请求未成功（错误 ${status}）。`;
}

/** The refusals tied to one field, as field name → Chinese reason. */
export function fieldErrors(error: unknown): Map<string, string> {
  const found = new Map<string, string>();
  if (!(error instanceof ApiError)) return found;
  for (const item of error.problem?.errors ?? []) {
    const name = item.field.replace(/^(body|query|path)\./, "");
    if (!found.has(name)) found.set(name, reasonText(item.reason));
  }
  return found;
}

function fileReason(reason: string): string {
  if (reason.includes("empty")) return "文件是空的，请重新选择。";
  if (reason.includes("larger")) return "文件超过 20 MB，请压缩或拆分后再上传。";
  if (reason.includes("accepted type")) return "文件类型不支持：请上传 PDF、JPEG、PNG 图片或 Office 文档。";
  if (reason.includes("takes no more files")) return "该办件当前不能再上传文件。";
  return `文件未能上传：${reason}`;
}

const FIELD_LABELS: Record<string, string> = {
  username: "用户名",
  password: "密码",
  current_password: "当前密码",
  new_password: "新密码",
  title: "申请事项名称",
  description: "详细说明",
  item_id: "服务事项",
  note: "补正说明",
  reason: "撤回原因",
  comment: "评价意见",
  level: "满意程度",
  attachment_ids: "附件",
  case_no: "受理编号",
  code: "查询码",
  email_address: "电子邮箱",
  email: "邮件通知",
  sms: "短信通知",
};

function fieldLabel(name: string): string {
  return FIELD_LABELS[name.replace(/^(body|query|path)\./, "")] ?? "";
}

/** The service's reasons (English) in Chinese, for the ones a worker can meet. */
export function reasonText(reason: string): string {
  // The service answers in Chinese when the browser asks for it (Accept-Language): its
  // reason reads on from the field's name (电子邮箱 + 格式不正确).
  if (/[\u4e00-\u9fff]/.test(reason)) return reason;
  let match = /at least (\d+) characters/.exec(reason);
  if (match) return `至少需要 ${match[1]} 个字符`;
  match = /at most (\d+) characters/.exec(reason);
  if (match) return `不能超过 ${match[1]} 个字符`;
  if (reason.includes("must mix")) return "需包含大写字母、小写字母、数字、其他符号中的至少三类";
  if (reason.includes("user name")) return "不能包含用户名";
  if (reason.includes("must differ")) return "不能与当前密码相同";
  if (reason === "is wrong") return "不正确";
  match = /length >= (\d+)/.exec(reason);
  if (match) return match[1] === "1" ? "不能为空" : `至少需要 ${match[1]} 个字符`;
  match = /length <= (\d+)/.exec(reason);
  if (match) return `不能超过 ${match[1]} 个字符`;
  if (reason.includes("not files you uploaded")) return "中有文件已提交过或不属于本办件，请重新选择文件";
  if (reason.includes("matching regex")) return "格式不正确";
  if (reason.includes("is the masked address")) return "请填写完整的地址，或留空保持不变";
  if (reason.includes("no e-mail address is on record")) return "尚未设置，请填写接收邮件的地址";
  if (reason.includes("not offered")) return "暂未开通";
  return `：${reason}`;
}
