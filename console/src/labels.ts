/* The programme's words (DOMAIN.md) for the codes the API uses. The service's own
   Chinese labels (status_label, level_zh) are shown where the API gives them. */
import type { Schemas } from "./http";

export type Status = Schemas["CaseListItem"]["status"];
export type Action = Schemas["CaseOut"]["allowed_actions"][number];
export type Role = Schemas["MeOut"]["role"];

export const STATUS: Record<Status, string> = {
  submitted: "已提交",
  accepted: "已受理",
  in_progress: "办理中",
  awaiting_materials: "待补件",
  resolved: "已办结",
  closed: "已归档",
  rejected: "不予受理",
  withdrawn: "已撤回",
};

export const ACTION: Record<Action, string> = {
  accept: "受理",
  reject: "不予受理",
  start: "开始办理",
  request_materials: "要求补正材料",
  receive_materials: "确认收到材料",
  transfer: "转办",
  resolve: "办结",
  reopen: "重新办理",
  close: "归档",
  withdraw: "撤回",
};

export const EVENT: Record<string, string> = {
  create: "登记",
  accept: "受理",
  reject: "不予受理",
  start: "开始办理",
  request_materials: "要求补正材料",
  receive_materials: "补正材料已收到",
  transfer: "转办",
  resolve: "办结",
  reopen: "重新办理",
  close: "归档",
  withdraw: "撤回",
  note: "办理说明",
  update: "信息更新",
  rate: "满意度评价",
  follow_up: "回访",
  answer_materials: "科技工作者提交补正材料",
  attach: "上传附件",
  reissue_code: "重新发放查询码",
  import: "由台账导入",
  supervise: "督办",
  reply_supervision: "督办回复",
  escalate_supervision: "督办升级",
  supervision_unanswered: "督办逾期未回复",
};

export const ROLE: Record<Role, string> = {
  admin: "系统管理员",
  security: "安全管理员",
  auditor: "审计管理员",
  steward: "科技专员",
  liaison: "联络员",
  worker: "科技工作者",
  official: "主管领导",
};

export const CHANNEL: Record<Schemas["CaseIn"]["channel"], string> = {
  phone: "电话",
  in_person: "现场",
  wechat: "微信",
  website: "网站",
  platform: "服务平台",
};

export const DUE_STATE: Record<string, { label: string; tag: "danger" | "warning" | "success" | "info" }> = {
  overdue: { label: "已超期", tag: "danger" },
  due_soon: { label: "临期预警", tag: "warning" },
  on_track: { label: "正常办理", tag: "success" },
  paused: { label: "暂停计时", tag: "info" },
};

export const TALENT_CARD: Record<Schemas["WorkerOut"]["talent_card"], string> = { A: "A卡", B: "B卡", none: "无" };

export const RATING: Record<Schemas["RatingIn"]["level"], string> = {
  very_satisfied: "非常满意",
  satisfied: "满意",
  basically_satisfied: "基本满意",
  dissatisfied: "不满意",
  very_dissatisfied: "非常不满意",
};

export const VISIBILITY: Record<"internal" | "public", string> = { internal: "内部", public: "对科技工作者公开" };

/** The figures an official reads, named as the programme names them. */
export const FIGURE: Record<string, string> = {
  received: "受理量",
  resolved: "办结量",
  open: "在办",
  overdue: "超期",
  due_soon: "临期",
  resolved_on_time: "按时办结",
  resolved_late: "超期办结",
  awaiting_materials: "待补件",
  submitted: "待受理",
  follow_ups_open: "待回访",
  dissatisfied: "不满意",
  supervised: "督办",
};

export function formatRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

const DATE_TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});
const DATE = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });

export function dateTime(value: string | null | undefined): string {
  return value ? DATE_TIME.format(new Date(value)) : "—";
}

export function day(value: string | null | undefined): string {
  return value ? DATE.format(new Date(value)) : "—";
}
