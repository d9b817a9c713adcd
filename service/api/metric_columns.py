"""The columns of each metrics export, with the Chinese titles officials read.

Every code has its name beside it: people read the names, and machines (and the people
who filter by them) use the codes."""

from __future__ import annotations

from service.api.exports import Column

FIGURES = [
    Column("received", "收件数"),
    Column("accepted", "受理数"),
    Column("submitted", "待受理"),
    Column("in_progress", "办理中"),
    Column("awaiting_materials", "待补件"),
    Column("resolved", "办结数"),
    Column("closed", "已归档"),
    Column("rejected", "不予受理"),
    Column("withdrawn", "已撤回"),
    Column("open", "未办结"),
    Column("overdue", "超期未办结"),
    Column("due_soon", "临期预警"),
    Column("resolved_on_time", "按时办结"),
    Column("resolved_late", "超期办结"),
    Column("on_time_rate", "按时办结率", "rate"),
    Column("median_working_days", "办结用时中位数（工作日）"),
    Column("p90_working_days", "办结用时90分位（工作日）"),
    Column("rated", "评价数"),
    Column("very_satisfied", "非常满意"),
    Column("satisfied", "满意"),
    Column("basically_satisfied", "基本满意"),
    Column("dissatisfied", "不满意"),
    Column("very_dissatisfied", "非常不满意"),
    Column("satisfaction_rate", "满意率", "rate"),
    Column("follow_ups_open", "待回访整改"),
    Column("follow_ups_overdue", "回访整改超期"),
]

ITEMS = [
    Column("code", "事项编号", "text"),
    Column("title_zh", "事项名称", "text"),
    Column("lead_department_code", "牵头部门编码", "text"),
    Column("lead_department_name_zh", "牵头部门", "text"),
    *FIGURES,
    Column("annual_target", "年度目标"),
    Column("target_unit", "目标单位", "text"),
    Column("target_rate", "目标完成率", "rate"),
]

BREAKDOWN_KEYS = {
    "district": ("区县编码", "区县"),
    "department": ("部门编码", "部门"),
    "steward": ("科技专员编号", "科技专员"),
}


def breakdown(by: str) -> list[Column]:
    key, name = BREAKDOWN_KEYS[by]
    return [Column("key", key, "text"), Column("name_zh", name, "text"), *FIGURES]


TREND = [
    Column("first_day", "起始日", "date"),
    Column("last_day", "截止日", "date"),
    Column("received", "收件数"),
    Column("resolved", "办结数"),
    Column("overdue_backlog", "期末超期积压"),
]

CASES = [
    Column("case_no", "受理编号", "text", 22),
    Column("item_code", "事项编号", "text"),
    Column("item_title_zh", "事项名称", "text", 24),
    Column("status_zh", "状态", "text"),
    Column("district_code", "区县编码", "text"),
    Column("district_name_zh", "区县", "text"),
    Column("department_code", "承办部门编码", "text"),
    Column("department_name_zh", "承办部门", "text", 22),
    Column("steward_id", "科技专员编号", "text", 37),
    Column("steward_name", "科技专员", "text"),
    Column("received_on", "收件日期", "date"),
    Column("accepted_at", "受理时间", "datetime"),
    Column("due_at", "承诺办结时间", "datetime"),
    Column("resolved_at", "办结时间", "datetime"),
    Column("resolved_on_time", "是否按时办结", "bool"),
    Column("working_days_used", "办结用时（工作日）"),
    Column("rating", "评价", "text", 20),
    Column("follow_up_due_at", "回访整改期限", "datetime"),
]
