"""The printable receipt (受理回执) a worker keeps: a self-contained HTML page sized for
A4 or a phone, with no script and nothing fetched from elsewhere."""

from __future__ import annotations

from html import escape

from service.domain.time_limit import CST
from service.services.query_codes import Receipt

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>受理回执 {case_no}</title>
<style>
  body {{ font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0;
         color: #1a1a1a; background: #fff; }}
  main {{ max-width: 640px; margin: 0 auto; padding: 24px 16px; }}
  h1 {{ font-size: 1.4rem; text-align: center; margin: 0 0 4px; }}
  h1 span {{ display: inline-block; }}
  p.sub {{ text-align: center; margin: 0 0 20px; color: #444; }}
  dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 10px 16px; margin: 0;
        border-top: 2px solid #1a1a1a; border-bottom: 2px solid #1a1a1a; padding: 16px 0; }}
  dt {{ font-weight: 600; }}
  dd {{ margin: 0; overflow-wrap: anywhere; }}
  .code {{ font-family: "DejaVu Sans Mono", monospace; font-size: 1.6rem; letter-spacing: 0.15em; }}
  ol {{ padding-left: 1.2em; line-height: 1.7; }}
  @media print {{ main {{ padding: 0; }} @page {{ size: A4; margin: 20mm; }} }}
</style>
</head>
<body>
<main>
<h1><span>为科技工作者办实事</span> · <span>受理回执</span></h1>
<p class="sub">请妥善保管本回执，查询码只在此显示</p>
<dl>
  <dt>受理编号</dt><dd>{case_no}</dd>
  <dt>服务事项</dt><dd>{item_code} {item_title}</dd>
  <dt>申请内容</dt><dd>{title}</dd>
  <dt>提交时间</dt><dd>{received_at}</dd>
  <dt>承诺时限</dt><dd>受理后 {days} 个工作日内办结（补正材料期间不计时）</dd>
  <dt>查询码</dt><dd class="code">{query_code}</dd>
</dl>
<ol>
  <li>打开 {lookup_url}，选择「办件查询」。</li>
  <li>输入受理编号和查询码，即可查看办理进度，无需登录。</li>
  <li>查询码遗失或泄露时，请联系您的科技专员重新发放，原查询码随即失效。</li>
</ol>
</main>
</body>
</html>
"""


def receipt_html(receipt: Receipt, lookup_url: str) -> str:
    return _PAGE.format(
        case_no=escape(receipt.case_no),
        item_code=escape(receipt.item_code),
        item_title=escape(receipt.item_title),
        title=escape(receipt.title),
        received_at=receipt.received_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
        days=receipt.promised_working_days,
        query_code=escape(receipt.query_code),
        lookup_url=escape(lookup_url),
    )
