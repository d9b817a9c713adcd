"""The printable completion notice (办结通知书): like the receipt, a self-contained HTML
page sized for A4 or a phone, with no script and nothing fetched from elsewhere. Every
text staff or the worker typed is escaped."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from html import escape

from service.domain.satisfaction import LEVEL_LABELS_ZH
from service.domain.time_limit import CST
from service.services.completion_notices import CompletionNotice

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>办结通知书 {case_no}</title>
<style>
  body {{ font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0;
         color: #1a1a1a; background: #fff; }}
  main {{ max-width: 640px; margin: 0 auto; padding: 24px 16px; line-height: 1.6; }}
  h1 {{ font-size: 1.4rem; text-align: center; margin: 0 0 4px; }}
  h1 span {{ display: inline-block; }}
  h2 {{ font-size: 1.05rem; margin: 20px 0 4px; }}
  p {{ margin: 0 0 8px; }}
  p.sub {{ text-align: center; margin: 0 0 20px; color: #444; }}
  dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 10px 16px; margin: 12px 0 0;
        border-top: 2px solid #1a1a1a; border-bottom: 2px solid #1a1a1a; padding: 16px 0; }}
  dt {{ font-weight: 600; }}
  dd {{ margin: 0; overflow-wrap: anywhere; }}
  .outcome {{ white-space: pre-wrap; }}
  .late {{ font-weight: 600; }}
  ol {{ padding-left: 1.2em; margin: 0; }}
  li {{ margin-bottom: 6px; overflow-wrap: anywhere; }}
  p.foot {{ margin-top: 20px; color: #555; font-size: 0.85rem; text-align: right; }}
  @media print {{ main {{ padding: 0; }} @page {{ size: A4; margin: 20mm; }} }}
</style>
</head>
<body>
<main>
<h1><span>为科技工作者办实事</span> · <span>办结通知书</span></h1>
<p class="sub">受理编号 {case_no}</p>
<p>{worker_name}：</p>
<p>您申请的“{title}”已办结{again}，办理情况如下。</p>
<dl>
  <dt>受理编号</dt><dd>{case_no}</dd>
  <dt>申请人</dt><dd>{worker_name}</dd>
  <dt>服务事项</dt><dd>{item_code} {item_title}</dd>
  <dt>申请内容</dt><dd>{title}</dd>
  <dt>提交日期</dt><dd>{received_on}</dd>
  <dt>受理日期</dt><dd>{accepted_on}</dd>
  <dt>办结日期</dt><dd>{resolved_on}</dd>
  <dt>办理结果</dt><dd class="outcome">{outcome}</dd>
  <dt>承办部门</dt><dd>{department_name}</dd>
  <dt>科技专员</dt><dd>{steward_name}</dd>
  <dt>办理时效</dt><dd>{timeliness}</dd>
</dl>
<h2>评价与意见</h2>
<ol>
{advice}</ol>
<p class="foot">本通知书生成于 {generated_at}</p>
</main>
</body>
</html>
"""


def _day(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(CST)
    return f"{local.year}年{local.month}月{local.day}日"


def _minute(moment: datetime) -> str:
    local = moment.astimezone(CST)
    return f"{_day(local)} {local:%H:%M}"


def _until(moment: datetime) -> str:
    """A deadline: one at midnight reads as the end of the day before (24:00), the last
    day on which it can still be met."""
    local = moment.astimezone(CST)
    if local.time() == time(0, 0):
        return f"{_day(local - timedelta(days=1))} 24:00"
    return _minute(local)


def _timeliness(notice: CompletionNotice) -> str:
    parts = []
    if notice.promised_working_days is not None:
        parts.append(f"承诺 {notice.promised_working_days} 个工作日")
    if notice.working_days_used is not None:
        parts.append(f"实际用时 {notice.working_days_used} 个工作日（补正材料期间不计）")
    if notice.on_time is True:
        parts.append("按期办结")
    elif notice.on_time is False:
        parts.append('<span class="late">超期办结</span>')
    return "，".join(parts) or "—"


def _advice(notice: CompletionNotice, portal_url: str, lookup_url: str) -> str:
    """How to rate the service, what to do when dissatisfied, and how to look the case up."""
    items = [
        f"欢迎对本次服务进行评价（好差评，分{'、'.join(LEVEL_LABELS_ZH.values())}五档）："
        f"登录科技工作者服务页面 {escape(portal_url)}，在“我的办件”中打开本件评价；"
        "没有账号的，可请科技专员代为评价。",
        "对办理结果不满意的，请在评价时选择“不满意”或“非常不满意”并写明意见，"
        f"科技专员将在 {notice.follow_up_working_days} 个工作日内回访答复。",
    ]
    if notice.reopen_until is not None:
        items.append(
            f"问题仍未解决的，可在 {_until(notice.reopen_until)} 前联系科技专员"
            f"{escape(notice.steward_name)}，申请重新办理。"
        )
    items.append(
        f"凭受理回执上的受理编号和查询码，可在 {escape(lookup_url)} 查询办理记录，无需登录；"
        "查询码遗失的，请联系科技专员重新发放。"
    )
    return "".join(f"  <li>{item}</li>\n" for item in items)


def completion_notice_html(notice: CompletionNotice, portal_url: str, lookup_url: str, now: datetime) -> str:
    again = f"（重新办理后第 {notice.resolutions} 次办结）" if notice.resolutions > 1 else ""
    return _PAGE.format(
        case_no=escape(notice.case_no),
        worker_name=escape(notice.worker_name),
        item_code=escape(notice.item_code),
        item_title=escape(notice.item_title),
        title=escape(notice.title),
        again=again,
        received_on=_day(notice.received_at),
        accepted_on=_day(notice.accepted_at),
        resolved_on=_day(notice.resolved_at),
        outcome=escape(notice.outcome) or "—",
        department_name=escape(notice.department_name),
        steward_name=escape(notice.steward_name),
        timeliness=_timeliness(notice),
        advice=_advice(notice, portal_url, lookup_url),
        generated_at=_minute(now),
    )
