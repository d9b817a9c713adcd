"""The monthly report (月度通报) as a page to print on A4: self-contained HTML with no
script and nothing fetched from elsewhere, its trend chart an SVG drawn here with the
figures in a table beneath it. Every text that comes from data is escaped."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from html import escape

from schemas.metrics import Figures, TrendPoint
from service.domain.time_limit import CST
from service.services.reports import OVERDUE_LISTED, ItemLine, MonthlyReport, OverdueLine, RankLine

_STYLE = """
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
         margin: 0; color: #1a1a1a; background: #fff; font-size: 13px; line-height: 1.5;
         -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: 210mm; margin: 0 auto; padding: 16px 14px 32px; }
  header.masthead { text-align: center; border-bottom: 3px solid #b3121b; padding-bottom: 8px; margin-bottom: 10px; }
  .masthead .programme { color: #b3121b; font-size: 26px; font-weight: 700; letter-spacing: 0.06em; margin: 0; }
  .masthead h1 { color: #b3121b; font-size: 22px; font-weight: 700; letter-spacing: 0.3em; margin: 2px 0 0; }
  .masthead .issue { margin: 6px 0 0; font-size: 15px; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 12px; margin: 0 0 6px;
            font-size: 12px; }
  dl.meta dt { color: #555; }
  dl.meta dd { margin: 0; }
  h2 { font-size: 16px; margin: 18px 0 6px; padding-left: 8px; border-left: 4px solid #b3121b; break-after: avoid; }
  p { margin: 4px 0; }
  p.lead { text-indent: 2em; }
  p.note, .muted { color: #555; font-size: 11px; }
  table { width: 100%; border-collapse: collapse; font-size: 11.5px; margin: 4px 0; }
  caption { text-align: left; font-size: 12px; color: #555; padding-bottom: 2px; }
  th, td { border: 1px solid #9a9a9a; padding: 3px 4px; vertical-align: top; }
  thead th { background: #efefef; font-weight: 600; text-align: center; vertical-align: middle; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  td.c { text-align: center; white-space: nowrap; }
  td.code { font-family: "DejaVu Sans Mono", monospace; white-space: nowrap; font-size: 11px; }
  tr.total td { font-weight: 700; background: #f7f7f7; }
  table.items { table-layout: fixed; }
  table.items col.code { width: 7%; } table.items col.title { width: 18%; } table.items col.dept { width: 15%; }
  table.items col.num { width: 5.5%; } table.items col.rate { width: 8%; } table.items col.target { width: 11%; }
  table.items col.progress { width: 8%; }
  table.trend th, table.trend td { white-space: nowrap; padding: 3px; }
  thead th.sub { white-space: nowrap; }
  td.bad { color: #b3121b; font-weight: 600; }
  svg.bar { display: block; width: 100%; height: 5px; margin-top: 2px; }
  table.headline td, table.headline th { text-align: center; font-size: 12.5px; padding: 5px 4px; }
  table.headline td.n { text-align: center; font-size: 15px; font-weight: 700; }
  figure { margin: 6px 0; }
  figure svg { display: block; width: 100%; height: auto; }
  figcaption { font-size: 12px; color: #555; }
  tr, .keep { break-inside: avoid; }
  footer { margin-top: 18px; border-top: 1px solid #9a9a9a; padding-top: 6px; break-inside: avoid; }
  @page { size: A4; margin: 14mm 12mm 16mm;
          @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; font-size: 9pt; color: #555; } }
  @media print {
    main { max-width: none; padding: 0; }
    body { font-size: 10.5pt; }
    table { font-size: 9pt; }
    h2 { margin-top: 12px; }
    figure svg { height: 58mm; }
  }
"""

_RANKED_BY = {"district": "区县", "department": "部门"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _progress(value: float | None) -> str:
    if value is None:
        return "—"
    if 0 < value < 0.001:
        return "&lt;0.1%"
    return f"{value * 100:.1f}%"


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _moment(value: datetime, seconds: bool = False) -> str:
    local = value.astimezone(CST)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _cells(cells: Iterable[str]) -> str:
    return "".join(cells)


def _headline(report: MonthlyReport) -> str:
    def row(label: str, f: Figures) -> str:
        overdue = f'<td class="n{" bad" if f.overdue else ""}">{_number(f.overdue)}</td>'
        return (
            f'<tr><th scope="row">{label}</th><td class="n">{_number(f.received)}</td>'
            f'<td class="n">{_number(f.resolved)}</td><td class="n">{_rate(f.on_time_rate)}</td>'
            f'{overdue}<td class="n">{_rate(f.satisfaction_rate)}</td></tr>'
        )

    m, y = report.month_total, report.year_total

    def on_time(f: Figures) -> str:
        return "尚无办结案件" if f.on_time_rate is None else f"按时办结率 {_rate(f.on_time_rate)}"

    satisfied = "尚无满意度评价" if y.satisfaction_rate is None else f"满意率 {_rate(y.satisfaction_rate)}"
    summary = (
        f"{report.month.month}月，{_e(report.scope_zh)}共收到办件申请 {_number(m.received)} 件，"
        f"目前已办结 {_number(m.resolved)} 件，{on_time(m)}，超期未办结 {_number(m.overdue)} 件。"
        f"本年累计收件 {_number(y.received)} 件，办结 {_number(y.resolved)} 件，{on_time(y)}，"
        f"{satisfied}，超期未办结 {_number(y.overdue)} 件。"
    )
    return (
        '<section aria-labelledby="s1"><h2 id="s1">一、总体情况</h2>'
        f'<p class="lead">{summary}</p>'
        '<table class="headline"><thead><tr><th scope="col">期间</th><th scope="col">收件数</th>'
        '<th scope="col">办结数</th><th scope="col">按时办结率</th><th scope="col">超期未办结</th>'
        '<th scope="col">满意率</th></tr></thead><tbody>'
        f"{row(f'本月（{report.month.month}月）', m)}{row('本年累计', y)}</tbody></table></section>"
    )


def _item_row(line: ItemLine) -> str:
    m, y = line.month, line.year
    if y.annual_target:
        share = min(1.0, y.target_rate or 0.0)
        target = f"{_number(y.annual_target)} {_e(line.target_unit_zh)}"
        progress = (
            f"{_progress(y.target_rate)}"
            '<svg class="bar" viewBox="0 0 100 5" preserveAspectRatio="none" aria-hidden="true">'
            '<rect width="100" height="5" fill="#e4e4e4"/>'
            f'<rect width="{share * 100:.1f}" height="5" fill="#2e7d4f"/></svg>'
        )
    else:
        target, progress = '<span class="muted">未设</span>', "—"
    return (
        f'<tr><td class="code">{_e(y.code)}</td><td>{_e(y.title_zh)}</td><td>{_e(line.lead_department_zh)}</td>'
        f'<td class="n">{_number(m.received)}</td><td class="n">{_number(m.resolved)}</td>'
        f'<td class="n">{_number(y.received)}</td><td class="n">{_number(y.resolved)}</td>'
        f'<td class="n">{_rate(y.on_time_rate)}</td>'
        f'<td class="n{" bad" if y.overdue else ""}">{_number(y.overdue)}</td>'
        f'<td class="n">{target}</td><td class="n">{progress}</td></tr>'
    )


def _items(report: MonthlyReport) -> str:
    m, y = report.month_total, report.year_total
    total = (
        f'<tr class="total"><td colspan="3">合计</td><td class="n">{_number(m.received)}</td>'
        f'<td class="n">{_number(m.resolved)}</td><td class="n">{_number(y.received)}</td>'
        f'<td class="n">{_number(y.resolved)}</td><td class="n">{_rate(y.on_time_rate)}</td>'
        f'<td class="n">{_number(y.overdue)}</td><td></td><td></td></tr>'
    )
    return (
        '<section aria-labelledby="s2"><h2 id="s2">二、二十项工作清单推进情况</h2>'
        '<table class="items"><colgroup><col class="code"><col class="title"><col class="dept">'
        '<col class="num"><col class="num"><col class="num"><col class="num"><col class="rate"><col class="rate">'
        '<col class="target"><col class="progress"></colgroup><thead>'
        '<tr><th scope="col" rowspan="2">编号</th><th scope="col" rowspan="2">事项</th>'
        '<th scope="col" rowspan="2">牵头部门</th><th scope="colgroup" colspan="2">本月</th>'
        '<th scope="colgroup" colspan="4">本年累计</th><th scope="col" rowspan="2">年度目标</th>'
        '<th scope="col" rowspan="2">完成进度</th></tr>'
        '<tr><th scope="col" class="sub">收件</th><th scope="col" class="sub">办结</th>'
        '<th scope="col" class="sub">收件</th><th scope="col" class="sub">办结</th>'
        '<th scope="col">按时<br>办结率</th><th scope="col">超期<br>未办结</th></tr>'
        f"</thead><tbody>{_cells(_item_row(line) for line in report.items)}{total}</tbody></table>"
        '<p class="note">完成进度 = 本年累计办结数 ÷ 年度目标。</p></section>'
    )


def _rank_row(line: RankLine) -> str:
    r = line.row
    return (
        f'<tr><td class="c">{"—" if line.rank is None else line.rank}</td><td>{_e(r.name_zh or r.key)}</td>'
        f'<td class="n">{_rate(r.on_time_rate)}</td><td class="n">{_number(r.resolved_on_time)}</td>'
        f'<td class="n">{_number(r.resolved)}</td><td class="n">{_number(r.received)}</td>'
        f'<td class="n{" bad" if r.overdue else ""}">{_number(r.overdue)}</td>'
        f'<td class="n">{_rate(r.satisfaction_rate)}</td></tr>'
    )


def _ranking(report: MonthlyReport) -> str:
    unit = _RANKED_BY[report.ranked_by]
    return (
        f'<section aria-labelledby="s3"><h2 id="s3">三、{unit}办理情况排名（本年累计）</h2>'
        f'<table><thead><tr><th scope="col">名次</th><th scope="col">{unit}</th>'
        '<th scope="col">按时办结率</th><th scope="col">按时办结</th><th scope="col">办结数</th>'
        '<th scope="col">收件数</th><th scope="col">超期未办结</th><th scope="col">满意率</th></tr></thead>'
        f"<tbody>{_cells(_rank_row(line) for line in report.ranking)}</tbody></table>"
        '<p class="note">以按时办结率从高到低排列，相同时超期件数少者在前；'
        f"本年尚无办结案件的{unit}不排名次，列于最后。</p>"
        "</section>"
    )


def _overdue_row(index: int, line: OverdueLine) -> str:
    days = "—" if line.working_days_overdue is None else f"{line.working_days_overdue}"
    due = "—" if line.due_at is None else line.due_at.astimezone(CST).strftime("%Y-%m-%d")
    paused = '<br><span class="muted">待补件</span>' if line.paused else ""
    return (
        f'<tr><td class="c">{index}</td><td class="code">{_e(line.case_no)}</td><td>{_e(line.item_title_zh)}</td>'
        f"<td>{_e(line.district_zh)}</td><td>{_e(line.department_zh)}</td><td>{_e(line.steward_name)}</td>"
        f'<td class="c">{due}</td><td class="n bad">{days}{paused}</td></tr>'
    )


def _overdue(report: MonthlyReport) -> str:
    total = report.overdue_total
    heading = '<section aria-labelledby="s4"><h2 id="s4">四、超期未办结案件</h2>'
    period = f"{_day(report.year_period.first_day)}至{_day(report.year_period.last_day)}"
    scope = f"本年（{period}）受理、目前已超过承诺时限仍未办结的案件"
    if total == 0:
        return f"{heading}<p>{scope}：无。</p></section>"
    shown = len(report.overdue)
    listed = f"以下按超期先后列出最早超期的 {shown} 件" if total > shown else "逐件列出如下"
    count = f"共 {_number(total)} 件，{listed}"
    return (
        f"{heading}<p>{scope}{count}（超期天数按工作日计，不含节假日）。</p>"
        '<table><thead><tr><th scope="col">序号</th><th scope="col">受理编号</th><th scope="col">服务事项</th>'
        '<th scope="col">区县</th><th scope="col">承办部门</th><th scope="col">科技专员</th>'
        '<th scope="col">承诺办结日</th><th scope="col">超期工作日</th></tr></thead>'
        f"<tbody>{_cells(_overdue_row(i, line) for i, line in enumerate(report.overdue, start=1))}</tbody></table>"
        "</section>"
    )


def _step(rough: float) -> int:
    """A tick step of 1, 2 or 5 times a power of ten, at least ``rough``."""
    if rough <= 1:
        return 1
    power = 10 ** math.floor(math.log10(rough))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


_WIDTH, _HEIGHT = 720, 270
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 34, 46
_COLOURS = (("收件", "#1d5fc4"), ("办结", "#2e9e5b"))


def trend_svg(points: Sequence[TrendPoint]) -> str:
    """Received and resolved per month as grouped bars, with their values, a scale and a
    legend; drawn here, so the page needs no script."""
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    peak = max([1, *(p.received for p in points), *(p.resolved for p in points)])
    step = _step(peak / 4)
    ceiling = step * math.ceil(peak / step)
    base = _TOP + plot_h

    def y(value: int) -> float:
        return base - value / ceiling * plot_h

    parts = [
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-labelledby="trend-title" font-size="11">',
        '<title id="trend-title">近十二个月每月收件数与办结数柱状图</title>',
    ]
    for tick in range(0, ceiling + 1, step):
        ty = y(tick)
        parts.append(
            f'<line x1="{_LEFT}" y1="{ty:.1f}" x2="{_WIDTH - _RIGHT}" y2="{ty:.1f}" '
            f'stroke="{"#666" if tick == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">{tick:,}</text>'
        )
    parts.append(f'<text x="{_LEFT - 6}" y="{_TOP - 14}" text-anchor="end" fill="#555">件</text>')
    slot = plot_w / max(len(points), 1)
    bar = slot * 0.34
    for index, point in enumerate(points):
        x0 = _LEFT + index * slot + slot * 0.14
        for offset, (value, (_, colour)) in enumerate(zip((point.received, point.resolved), _COLOURS, strict=True)):
            x = x0 + offset * (bar + slot * 0.04)
            top = y(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{base - top:.1f}" fill="{colour}"/>'
            )
            if value:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{top - 3:.1f}" text-anchor="middle" font-size="9.5" '
                    f'fill="#333">{value:,}</text>'
                )
        centre = _LEFT + (index + 0.5) * slot
        parts.append(f'<text x="{centre:.1f}" y="{base + 15}" text-anchor="middle">{point.first_day.month}月</text>')
        if index == 0 or point.first_day.month == 1:
            parts.append(
                f'<text x="{centre:.1f}" y="{base + 30}" text-anchor="middle" fill="#555">'
                f"{point.first_day.year}年</text>"
            )
    legend_x = _WIDTH - _RIGHT - 130
    for offset, (label, colour) in enumerate(_COLOURS):
        lx = legend_x + offset * 66
        parts.append(
            f'<rect x="{lx}" y="8" width="12" height="12" fill="{colour}"/><text x="{lx + 17}" y="18.5">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _trend(report: MonthlyReport) -> str:
    points = report.trend
    years: list[tuple[int, int]] = []  # (year, months of it shown)
    for p in points:
        if years and years[-1][0] == p.first_day.year:
            years[-1] = (p.first_day.year, years[-1][1] + 1)
        else:
            years.append((p.first_day.year, 1))
    year_head = _cells(f'<th scope="colgroup" colspan="{n}">{year}年</th>' for year, n in years)
    month_head = _cells(f'<th scope="col">{p.first_day.month}月</th>' for p in points)

    def row(label: str, values: Iterable[int | None]) -> str:
        cells = _cells(f'<td class="n">{_number(v)}</td>' for v in values)
        return f'<tr><th scope="row">{label}</th>{cells}</tr>'

    return (
        '<section aria-labelledby="s5" class="keep"><h2 id="s5">五、近十二个月收件与办结趋势</h2>'
        f"<figure>{trend_svg(points)}"
        "<figcaption>收件：当月收到的申请；办结：当月办结的案件（含此前收到的）。</figcaption></figure>"
        '<table class="trend"><caption>趋势数据（单位：件）</caption>'
        f'<thead><tr><th scope="col" rowspan="2">月份</th>{year_head}</tr><tr>{month_head}</tr></thead><tbody>'
        f"{row('收件', (p.received for p in points))}{row('办结', (p.resolved for p in points))}"
        f"{row('月末超期积压', (p.overdue_backlog for p in points))}</tbody></table></section>"
    )


def monthly_report_html(report: MonthlyReport) -> str:
    month = f"{report.month.year}年{report.month.month}月"
    scope = _e(report.scope_zh)
    generated = _moment(report.generated_at, seconds=True)
    meta = (
        '<dl class="meta">'
        f"<dt>通报范围</dt><dd>{scope}</dd><dt>通报月份</dt><dd>{month}</dd>"
        f"<dt>数据截至</dt><dd>{_moment(report.generated_at)}</dd><dt>生成时间</dt><dd>{generated}</dd>"
        f"<dt>本月统计</dt><dd>{_day(report.month_period.first_day)}至{_day(report.month_period.last_day)}受理的案件</dd>"
        f"<dt>本年累计</dt><dd>{_day(report.year_period.first_day)}至{_day(report.year_period.last_day)}受理的案件</dd>"
        "</dl>"
    )
    return (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>为科技工作者办实事工作月度通报 {month} {scope}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<header class="masthead"><p class="programme">为科技工作者办实事</p><h1>工作月度通报</h1>'
        f'<p class="issue">{month} · {scope}</p></header>\n{meta}\n'
        f"{_headline(report)}\n{_items(report)}\n{_ranking(report)}\n{_overdue(report)}\n{_trend(report)}\n"
        '<footer><p class="note">说明：统计口径为各期间内受理（收件）的案件，各项状态以“数据截至”时为准，'
        "故同一月份不同时间生成的通报数字可能不同。按时办结率 = 按时办结数 ÷ 办结数；"
        "满意率 =（非常满意 + 满意 + 基本满意）÷ 已评价数；超期未办结指已超过承诺时限（按工作日计）仍未办结的案件，"
        f"含超期后等待补正材料的案件。超期案件清单最多列出 {OVERDUE_LISTED} 件。"
        "本通报不含科技工作者个人信息。</p></footer>\n"
        "</main>\n</body>\n</html>\n"
    )
