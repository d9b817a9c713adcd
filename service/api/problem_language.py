"""Problem+json bodies in the caller's language: English, or Simplified Chinese.

A caller whose ``Accept-Language`` prefers Chinese to English (``zh``, ``zh-CN``,
``zh-Hans``, with q-values honoured) reads a problem's ``title``, ``detail`` and each
``errors[].reason`` in Simplified Chinese; everyone else reads English, the default.
``type``, ``status``, ``field`` names, ``allowed_actions`` and the values a text quotes
(ids, case numbers, codes) stay as they are, since clients key on them.

The texts are written in English where they are raised; this module holds their Chinese,
keyed by the English: exact sentences, and patterns whose variable parts (lengths,
numbers, names, statuses) are carried over. A text the table does not know stays in
English: translating never fails a response. Problem responses also carry
``Content-Language`` and ``Vary: Accept-Language``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.types import Message, Scope

from schemas.base import CODE, LINES, ONE_LINE
from schemas.problem import FieldError, Problem
from service.domain.workflow import STATUS_LABELS_ZH, Status

log = logging.getLogger("banshi.errors")

ENGLISH = "en"
CHINESE = "zh-CN"
"""The ``Content-Language`` of each: the Chinese is Simplified, written for the mainland."""

# ------------------------------------------------------------------------ negotiation

_RANGE = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*|\*")
_QUALITY = re.compile(r"q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
_SIMPLIFIED = frozenset({"zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg"})
"""Ranges that name Simplified Chinese itself: they decide over a bare ``zh``, which
decides over another Chinese (``zh-TW``, ``zh-Hant``: Simplified is closer to those than
English is, so they count when nothing nearer is named)."""
MAX_RANGES = 32


def _ranges(header: str) -> Iterable[tuple[int, str, float]]:
    """(position, range, q) for each well-formed range; malformed ones are skipped."""
    for position, part in enumerate(header[:1024].split(",")[:MAX_RANGES]):
        name, *params = (piece.strip() for piece in part.split(";"))
        name = name.lower()
        if not _RANGE.fullmatch(name):
            continue
        quality = 1.0
        for param in params:
            if param.lower().startswith("q="):
                found = _QUALITY.fullmatch(param.lower().replace(" ", ""))
                quality = float(found.group(1)) if found else -1.0
        if quality >= 0:
            yield position, name, quality


def preferred_language(header: str | None) -> str:
    """``CHINESE`` when ``Accept-Language`` prefers Chinese to English, else ``ENGLISH``.

    Each language takes the q of the nearest range naming it (for Chinese: a Simplified
    tag, then ``zh``, then another Chinese; for English any ``en``), else that of ``*``,
    else 0. Chinese wins when its q is higher, or equal and named first; English is the
    default, also when neither is acceptable (the service never answers 406 for this)."""
    if not header:
        return ENGLISH
    chinese: tuple[int, float, int] | None = None  # (nearness, q, position)
    english: tuple[float, int] | None = None
    anything: tuple[float, int] | None = None
    for position, name, quality in _ranges(header):
        if name == "*":
            anything = anything or (quality, position)
        elif name == "en" or name.startswith("en-"):
            if english is None or quality > english[0]:
                english = (quality, position)
        elif name == "zh" or name.startswith("zh-"):
            nearness = 2 if name in _SIMPLIFIED else 1 if name == "zh" else 0
            if chinese is None or (nearness, quality) > chinese[:2]:
                chinese = (nearness, quality, position)
    zh = (chinese[1], chinese[2]) if chinese else anything or (0.0, MAX_RANGES)
    en = english or anything or (0.0, MAX_RANGES)
    if zh[0] > 0 and (zh[0] > en[0] or (zh[0] == en[0] and zh[1] < en[1])):
        return CHINESE
    return ENGLISH


# ------------------------------------------------------------------------------ titles

TITLES_ZH: dict[str, str] = {
    # service/errors.py and the DomainError subclasses elsewhere
    "Bad request": "请求有误",
    "Not found": "未找到",
    "Malformed request": "请求格式错误",
    "Unreadable request body": "请求体无法读取",
    "Invalid input": "不符合业务规则",
    "Conflict": "操作冲突",
    "Move not allowed": "不允许的办理操作",
    "If-Match required": "缺少 If-Match 请求头",
    "Stale version": "记录已被修改",
    "Idempotency key reused with a different request": "幂等键已用于其他请求",
    "Sign-in required": "身份认证未通过",
    "One-time code required": "需要动态口令",
    "Not allowed": "无权限",
    "Too many requests": "请求过于频繁",
    "Too large": "内容过大",
    # service/api/problems.py
    "Invalid request": "请求参数有误",
    "Request refused": "请求被拒绝",
    "Service unavailable": "服务暂时不可用",
    "Try again": "并发冲突，请重试",
    "Internal error": "系统内部错误",
}
"""Every title a problem is given, English to Chinese."""

STATUS_ZH: dict[int, str] = {
    400: "请求有误",
    401: "未授权",
    403: "禁止访问",
    404: "未找到",
    405: "请求方法不被允许",
    406: "无法提供可接受的内容格式",
    408: "请求超时",
    409: "操作冲突",
    411: "缺少 Content-Length 请求头",
    413: "请求内容过大",
    414: "请求地址过长",
    415: "不支持的内容类型",
    422: "无法处理的请求内容",
    429: "请求过于频繁",
    431: "请求头过大",
    500: "系统内部错误",
    501: "功能未实现",
    503: "服务暂时不可用",
}
"""The framework's own refusals (``/problems/http_<status>``): their title in Chinese, and
their detail when it is the status's English phrase."""


def title_zh(title: str, status: int) -> str | None:
    """The Chinese title, or None when the table has none."""
    if title == "Request refused" and status in STATUS_ZH:
        return STATUS_ZH[status]
    return TITLES_ZH.get(title)


# ------------------------------------------------------------------------------ words

ROLES_ZH = {
    "admin": "系统管理员",
    "security": "安全管理员",
    "auditor": "审计管理员",
    "steward": "科技专员",
    "liaison": "联络员",
    "worker": "科技工作者",
    "official": "领导",
}
ACTIONS_ZH = {
    "accept": "受理",
    "reject": "不予受理",
    "start": "开始办理",
    "request_materials": "要求补正材料",
    "receive_materials": "确认收到补正材料",
    "transfer": "转办",
    "resolve": "办结",
    "reopen": "重新办理",
    "close": "归档",
    "withdraw": "撤回",
}
DELIVERY_STATUSES_ZH = {"pending": "待发送", "sent": "已发送", "parked": "已搁置"}
RECORDS_ZH = {
    "case": "案件",
    "worker": "科技工作者",
    "staff member": "工作人员",
    "account": "账号",
    "work-list item": "清单事项",
    "attachment": "附件",
    "rating": "评价",
    "supervision": "督办",
    "import": "导入任务",
    "notification": "通知",
    "notice text": "通知文本",
    "delivery": "推送记录",
    "webhook subscription": "Webhook 订阅",
    "district": "区县",
    "department": "部门",
}
TYPES_ZH = {
    "int": "整数",
    "float": "数字",
    "str": "字符串",
    "bool": "布尔值",
    "null": "空值（null）",
    "array": "数组",
    "object": "对象",
    "uuid": "UUID",
    "datetime": "日期时间",
    "date": "日期",
    "time": "时间",
    "duration": "时长",
    "decimal": "小数",
    "bytes": "二进制数据",
}


def _role(value: str) -> str:
    return ROLES_ZH.get(value, value)


def _status(value: str) -> str:
    try:
        return "“" + STATUS_LABELS_ZH[Status(value)] + "”"
    except ValueError:
        return "“" + DELIVERY_STATUSES_ZH.get(value, value) + "”"


def _action(value: str) -> str | None:
    return ACTIONS_ZH.get(value)


def _record(value: str) -> str | None:
    return RECORDS_ZH.get(value)


def _type(value: str) -> str | None:
    parts = [TYPES_ZH.get(part.strip()) for part in value.split("|")]
    return "或".join(p for p in parts if p) if all(parts) else None


# ------------------------------------------------------------------------ exact texts

_JSON_ZH = {
    "invalid character": "存在无效字符",
    "invalid character in unicode escape": "Unicode 转义中存在无效字符",
    "invalid escape character in string": "字符串中存在无效的转义字符",
    "invalid escaped character": "无效的转义字符",
    "invalid number": "无效的数字",
    "invalid utf-16 surrogate pair": "无效的 UTF-16 代理对",
    "object keys must be strings": "对象的键必须是字符串",
    "trailing characters": "末尾有多余的字符",
    "trailing comma in array": "数组末尾有多余的逗号",
    "trailing comma in object": "对象末尾有多余的逗号",
    "expected '\"'": "此处应为 '\"'",
    "expected ',' or ']'": "此处应为 ',' 或 ']'",
    "expected ',' or '}'": "此处应为 ',' 或 '}'",
    "expected ':'": "此处应为 ':'",
    "unexpected end of escaped utf-16 surrogate pair": "UTF-16 代理对转义意外结束",
    "unexpected end of hex escape": "十六进制转义意外结束",
}
"""What msgspec says is wrong in ``JSON is malformed: ... (byte n)``."""

TEXTS_ZH: dict[str, str] = {
    # msgspec and Litestar
    "is required": "必填",
    "Invalid UUID": "不是有效的 UUID",
    "Invalid UUID bytes": "不是有效的 UUID",
    "Invalid RFC3339 encoded date": "不是有效的日期（格式如 2026-03-01）",
    "Invalid RFC3339 encoded datetime": "不是有效的日期时间（格式如 2026-03-01T09:00:00+08:00）",
    "Invalid RFC3339 encoded time": "不是有效的时间（格式如 09:00:00）",
    "Invalid ISO8601 duration": "不是有效的时长",
    "Invalid base64 encoded string": "不是有效的 Base64 编码",
    "Invalid decimal string": "不是有效的小数",
    "Invalid epoch timestamp": "不是有效的时间戳",
    "Integer value out of range": "数值超出范围",
    "Number out of range": "数值超出范围",
    "Duration is out of range": "时长超出范围",
    "Input data was truncated": "数据不完整，内容提前结束",
    "Invalid multipart/form-data": "不是有效的 multipart/form-data 内容",
    "Unexpected eof in multipart/form-data": "multipart/form-data 内容意外结束",
    "multipart boundary missing in Content-Type": "Content-Type 中缺少 multipart 分隔符（boundary）",
    "Invalid host header": "Host 请求头无效",
    "Not Found": "请求的资源不存在",
    "Method Not Allowed": "该地址不支持此请求方法",
    "Request Entity Too Large": "请求内容超过允许的大小",
    "Content Too Large": "请求内容超过允许的大小",
    # service/api
    "sign in first": "请先登录",
    "send `Authorization: Bearer <access token>`; get one from POST /api/v1/auth/login": (
        "请在请求头中携带 `Authorization: Bearer <访问令牌>`；访问令牌可通过 POST /api/v1/auth/login 获取"
    ),
    "send `Authorization: Bearer <BANSHI_METRICS_TOKEN>`": (
        "请在请求头中携带 `Authorization: Bearer <BANSHI_METRICS_TOKEN>`"
    ),
    "change your password first (POST /api/v1/auth/password)": "请先修改密码（POST /api/v1/auth/password）",
    "enrol a second factor first (POST /api/v1/auth/totp)": "请先绑定动态口令（POST /api/v1/auth/totp）",
    "is not valid UTF-8": "不是有效的 UTF-8 编码",
    "is not a case number such as BS-20260301-000001-7 (check its last digit)": (
        "不是有效的受理编号（格式如 BS-20260301-000001-7，请核对最后一位校验码）"
    ),
    "must be a day such as 2026-03-01": "必须是日期，格式如 2026-03-01",
    "must be an instant with its offset, such as 2026-03-01T09:00:00+08:00": (
        "必须是带时区偏移的时间，格式如 2026-03-01T09:00:00+08:00"
    ),
    "must be a whole number such as 20": "必须是整数，如 20",
    "the database is not reachable right now; try again shortly": "数据库暂时无法连接，请稍后重试",
    "the change collided with another one made at the same moment and was rolled back; "
    "nothing was written; send it again": "该修改与同一时刻的另一修改发生冲突，已回滚，未写入任何数据，请重新提交",
    "the database did not finish in time and cancelled the request; nothing was written; try again shortly": (
        "数据库未能按时完成处理，请求已取消，未写入任何数据，请稍后重试"
    ),
    "the attachment store is not available right now; nothing was written; try again shortly": (
        "附件存储暂时不可用，未写入任何数据，请稍后重试"
    ),
    "the lookup is unavailable right now; try again shortly": "查询服务暂时不可用，请稍后重试",
    "the figures and lists are unavailable right now; try again shortly": "统计数据和列表暂时不可用，请稍后重试",
    "an unexpected error occurred; it has been logged": "系统发生意外错误，已记录日志",
    # accounts and sign-in
    "this user name is taken": "该用户名已被使用",
    "you cannot change your own role or disable your own account": "不能修改本人账号的角色，也不能停用本人账号",
    "a worker account needs its worker record": "科技工作者账号须关联其科技工作者档案",
    "only an official's account is limited to a district": "只有领导账号可以限定区县",
    "the user name or password is wrong, or the account is locked for a while": "用户名或密码错误，或账号已被暂时锁定",
    "the access token is not valid or has expired; sign in again": "访问令牌无效或已过期，请重新登录",
    "too many sign-in attempts from this address; wait and try again": "该地址登录尝试次数过多，请稍后再试",
    "is wrong": "不正确",
    "must differ from the current password": "不能与当前密码相同",
    "must not contain the user name": "不能包含用户名",
    "second factors are for staff accounts": "动态口令仅适用于工作人员账号",
    "a second factor is already enrolled; a security officer can reset it": (
        "已绑定动态口令；如需重置，请联系安全管理员"
    ),
    "a second factor is already enrolled": "已绑定动态口令",
    "start the enrolment first (POST /api/v1/auth/totp)": "请先开始绑定动态口令（POST /api/v1/auth/totp）",
    "does not match the current one-time code": "与当前动态口令不符",
    "send the current one-time code in `otp`": "请在 `otp` 中填写当前动态口令",
    # reference data and people
    "no such worker": "该科技工作者不存在",
    "no such district": "该区县不存在",
    "no such department": "该部门不存在",
    "no such work-list item": "该清单事项不存在",
    "no such active steward": "该科技专员不存在或已不在岗",
    "the work-list item is not active": "该清单事项未启用",
    "a liaison belongs to a department": "联络员须隶属于一个部门",
    "a steward registers workers to themself": "科技专员只能为本人登记科技工作者",
    "a worker with this national ID number already exists": "已存在使用该身份证号码的科技工作者",
    "worker with this national ID number does not exist": "不存在使用该身份证号码的科技工作者",
    "this steward is already the worker's steward": "该科技专员已是这位科技工作者的专员",
    "must be 17 digits followed by a digit or X": "须为 17 位数字加 1 位数字或 X",
    "does not start with a known province code": "开头不是有效的省级行政区划代码",
    "does not contain a valid date of birth": "出生日期无效",
    "does not contain a plausible date of birth": "出生日期不合常理",
    "check character does not match": "校验码不正确",
    "must be an 11-digit mainland mobile number starting with 13 to 19": "须为以 13 至 19 开头的 11 位大陆手机号码",
    # cases
    "send If-Match with the case's current ETag": "请在 If-Match 请求头中提供案件当前的 ETag",
    "the case has changed since you read it; fetch it again": "案件在您读取后已被修改，请重新获取后再操作",
    "this Idempotency-Key was first used with a different body": "该 Idempotency-Key 首次使用时的请求内容与本次不同",
    "only an administrator hands a new case to another steward": "只有系统管理员可以将新案件交给其他科技专员",
    "the case is already with this department": "案件已由该部门办理",
    "the case is not waiting for materials": "该案件不在待补件状态",
    "the case is not resolved": "该案件尚未办结",
    "no case matches this case number and query code": "没有与该受理编号和查询码相符的案件",
    "the case has no query code yet; issue one first": "该案件尚未发放查询码，请先发放",
    "is not this case's current query code": "不是该案件当前的查询码",
    "too many lookups from this address; try again later": "该地址查询次数过多，请稍后再试",
    "too many wrong query codes for this case number; try again later": (
        "该受理编号的查询码输入错误次数过多，请稍后再试"
    ),
    "is empty": "内容为空",
    "appears twice": "重复出现",
    # satisfaction and supervision
    "only a resolved case can be rated": "只有已办结的案件才能评价",
    "this resolution of the case has been rated already": "该案件本次办结已评价",
    "this rating did not open a follow-up": "该评价未产生回访",
    "this follow-up has been answered already": "该回访已答复",
    "the case is neither overdue nor due soon": "案件既未超期，也未进入预警期",
    "only the case's steward or a liaison of the department handling it replies": (
        "只有该案件的科技专员或承办部门的联络员可以回复"
    ),
    "the supervision notice has been replied to already": "该督办通知已回复",
    # ledger imports
    "the import has no report yet: it is still running or the file could not be read": (
        "该导入任务还没有检查结果：仍在进行中，或文件无法读取"
    ),
    # metrics
    "no such work-list item in the period's years": "所选期间的年度中没有该清单事项",
    "give either period or from/to, not both": "period 与 from/to 只能二选一",
    "must look like 2026, 2026-Q2 or 2026-03": "格式应如 2026、2026-Q2 或 2026-03",
    "give both from and to": "from 和 to 须同时提供",
    "must not be before from": "不能早于 from",
    "must not be longer than three years": "期间不能超过三年",
    # the monthly report
    "must be a month such as 2026-11": "应为月份，如 2026-11",
    "must not be a month still to come": "不能是尚未到来的月份",
    # notices and deliveries
    "this is the masked address; leave the field out to keep the one on record": (
        "这是脱敏后的地址；如需保留已登记的地址，请不要提交该字段"
    ),
    "e-mail is not offered; only the inbox and the channels offered can be chosen": (
        "当前不提供电子邮件通知；只能选择站内信和已开通的渠道"
    ),
    "text messages are not offered; only the channels offered can be chosen": (
        "当前不提供短信通知；只能选择已开通的渠道"
    ),
    "text messages go to the mobile number on a worker's record; you have none": (
        "短信只发送至科技工作者档案中登记的手机号码，您没有登记手机号码"
    ),
    "no e-mail address is on record for you; give one to choose e-mail": (
        "您尚未登记电子邮箱地址，选择电子邮件通知前请先填写"
    ),
    "no such kind of notice": "没有这种通知类型",
    "a digest tells of many cases and is never sent by text message": "汇总通知涉及多个案件，不通过短信发送",
    "a template id is 1 to 64 of A-Z, a-z, 0-9, _ and -": "模板编号须为 1 至 64 个字符，只能包含 A-Z、a-z、0-9、_ 和 -",
    "the message was erased; there is nothing to send again": "消息内容已删除，无法重新发送",
    "a message to a person is erased once sent; only webhook deliveries are replayed": (
        "发给个人的消息发送后即删除，只有 Webhook 推送可以重放"
    ),
    "the webhook subscription is switched off; switch it on first": "该 Webhook 订阅已停用，请先启用",
    "a webhook URL must be an http:// or https:// address with a host": (
        "Webhook 地址须为带主机名的 http:// 或 https:// 地址"
    ),
    "Single '}' encountered in format string": "文本中出现了单独的 '}'",
    "Single '{' encountered in format string": "文本中出现了单独的 '{'",
    "expected '}' before end of string": "文本结束前缺少 '}'",
}
"""Details and reasons that are whole sentences, English to Chinese."""


# ----------------------------------------------------------------------------- patterns

Convert = Callable[[str], str | None]
Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]


def _rule(pattern: str, template: str, **convert: Convert) -> Rule:
    """A text matching ``pattern`` reads as ``template`` filled with its named groups,
    each passed through its converter (none: carried over as it is). A converter that
    answers None leaves the whole text untranslated."""

    def build(found: re.Match[str]) -> str | None:
        values: dict[str, str] = {}
        for name, value in found.groupdict().items():
            converted = convert[name](value) if name in convert else value
            if converted is None:
                return None
            values[name] = converted
        return template.format(**values)

    return re.compile(pattern, re.S), build


def _regex_reason(found: re.Match[str]) -> str:
    shown = found.group("regex")
    # A regular expression means nothing to the person filling the form: the field is named
    # in ``errors[].field``, and the reason says only that its form is wrong.
    return _KNOWN_PATTERNS.get(shown, "格式不正确")


_KNOWN_PATTERNS = {
    repr(ONE_LINE): "不能包含换行符等控制字符",
    repr(LINES): "不能包含控制字符（制表符和换行符除外）",
    repr(CODE): "格式不正确，只能包含小写字母、数字、下划线和连字符，且须以小写字母或数字开头",
}
"""The patterns the schemas share, said in words (msgspec quotes them with ``repr``)."""


def _length(found: re.Match[str]) -> str:
    kind, op, n = found.group("kind"), found.group("op"), found.group("n")
    unit = {"str": "个字符", "bytes": "字节", "array": "项", "object": "个键值"}[kind]
    if kind == "str" and op == ">=" and n == "1":
        return "必填，不能为空"
    if kind in ("str", "bytes"):
        return f"长度不能{'超过' if op == '<=' else '少于'} {n} {unit}"
    return f"{'最多' if op == '<=' else '至少'} {n} {unit}"


_BOUNDS_ZH = {">=": "不能小于", "<=": "不能大于", ">": "必须大于", "<": "必须小于"}


def _translated(text: str) -> str | None:
    return translate(text)


RULES: list[Rule] = [
    # msgspec (bodies, and query, path and header parameters through Litestar)
    _rule(
        r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`", "类型错误：应为{want}，实际为{got}", want=_type, got=_type
    ),
    (re.compile(r"Expected `(?P<kind>str|bytes|array|object)` of length (?P<op><=|>=) (?P<n>\d+)"), _length),
    (re.compile(r"Expected `str` matching regex (?P<regex>.+)", re.S), _regex_reason),
    _rule(
        r"Expected `(?:int|float)` (?P<op>>=|<=|>|<) (?P<n>-?[\d.e+-]+)",
        "{op} {n}",
        op=lambda op: _BOUNDS_ZH[op],
    ),
    _rule(r"Expected `int` that's a multiple of (?P<n>\d+)", "必须是 {n} 的整数倍"),
    _rule(r"Expected `array` of length (?P<n>\d+)", "应为 {n} 项"),
    _rule(r"Expected `array` of length (?P<n>\d+), got (?P<m>\d+)", "应为 {n} 项，实际为 {m} 项"),
    _rule(r"Expected `array` of length (?P<n>\d+) to (?P<m>\d+)(?:, got (?P<k>\d+))?", "应为 {n} 至 {m} 项"),
    _rule(r"Expected `array` of at least length (?P<n>\d+), got (?P<m>\d+)", "至少 {n} 项，实际为 {m} 项"),
    _rule(r"Expected `array` of at most length (?P<n>\d+)(?:, got (?P<m>\d+))?", "最多 {n} 项"),
    _rule(r"Expected `(?P<t>[^`]+)` with a timezone component", "{t}必须带时区偏移（如 +08:00）", t=_type),
    _rule(r"Expected `(?P<t>[^`]+)` with no timezone component", "{t}不能带时区偏移", t=_type),
    _rule(r"Expected `(?P<t>[^`]+)`", "应为{t}", t=_type),
    _rule(r"Object missing required field `(?P<name>[^`]+)`", "缺少必填字段 {name}"),
    _rule(r"Object contains unknown field `(?P<name>[^`]+)`", "包含不允许提交的字段 {name}"),
    _rule(r"Invalid enum value (?P<value>.+)", "{value} 不是有效的取值"),
    _rule(r"Invalid value (?P<value>.+)", "{value} 不是有效的取值"),
    _rule(r"Timestamp is out of range (?P<value>.*)", "时间超出范围 {value}"),
    _rule(
        r"JSON is malformed: (?P<why>.+) \(byte (?P<n>\d+)\)", "JSON 格式错误：{why}（第 {n} 字节）", why=_JSON_ZH.get
    ),
    # Litestar
    _rule(r"Validation failed for (?P<request>[A-Z]+ \S+)", "请求校验未通过：{request}"),
    _rule(r"Invalid content-length: (?P<value>.*)", "Content-Length 请求头无效：{value}"),
    _rule(r"the request body did not arrive within (?P<n>[\d.]+) seconds", "请求体未在 {n} 秒内送达"),
    _rule(r"no problem type (?P<code>.*)", "没有名为 {code} 的问题类型"),
    # service/api
    _rule(r"the (?P<role>\w+) role may not do this", "“{role}”角色无权执行此操作", role=_role),
    _rule(r"is nested more than (?P<n>\d+) levels deep", "嵌套层级超过 {n} 层"),
    _rule(r"is not valid JSON \((?P<why>.+)\)", "不是有效的 JSON（{why}）", why=_translated),
    _rule(
        r"the change conflicts with (?P<constraint>.+); nothing was written",
        "该修改与约束 {constraint} 冲突，未写入任何数据",
    ),
    # every service: records
    _rule(r"(?P<what>[a-z -]+?) (?P<key>\S+) does not exist", "{what} {key} 不存在", what=_record),
    # accounts and sign-in
    _rule(r"an? (?P<role>\w+) account needs its staff record", "{role}账号须关联其工作人员记录", role=_role),
    _rule(r"an? (?P<role>\w+) account has no staff record", "{role}账号不关联工作人员记录", role=_role),
    _rule(r"an? (?P<role>\w+) account has no worker record", "{role}账号不关联科技工作者档案", role=_role),
    _rule(r"no such active (?P<role>\w+)", "该{role}不存在或已不在岗", role=_role),
    _rule(
        r"(?P<n>\d+) imports of this account are still queued or running; wait for them",
        "本账号还有 {n} 个导入任务在排队或进行中，请等它们结束",
    ),
    # kept dashboard figures and streamed exports
    _rule(
        r"at most (?P<n>\d+) live metrics a minute per account; "
        r"without fresh=true the figures are at most a few seconds old",
        "每个账号每分钟最多查询 {n} 次实时数据；不加 fresh=true 时，数据最多晚几秒",
    ),
    _rule(
        r"(?P<total>\d+) cases are more than one XLSX sheet holds \((?P<n>\d+)\); "
        r"choose a shorter period or more filters, or format=csv",
        "共 {total} 件，超过一张 XLSX 工作表的容量（{n} 行）；请缩短时段、增加筛选条件，或改用 format=csv",
    ),
    # ledger imports from the command line
    _rule(r"no active account (?P<name>.+)", "没有在用的账号 {name}"),
    _rule(r"the (?P<role>\w+) role may not import ledgers", "“{role}”角色不能导入台账", role=_role),
    _rule(r"must be at least (?P<n>\d+) characters long", "长度不能少于 {n} 个字符"),
    _rule(r"must be at most (?P<n>\d+) characters long", "长度不能超过 {n} 个字符"),
    _rule(
        r"must mix at least (?P<n>\d+) of: lower case, upper case, digits, other characters",
        "须至少包含小写字母、大写字母、数字、其他字符中的 {n} 类",
    ),
    # cases
    _rule(r"a case that is (?P<status>\w+) cannot be withdrawn", "案件当前状态为{status}，不能撤回", status=_status),
    _rule(
        r"a case that is (?P<status>\w+) cannot (?P<action>\w+)",
        "案件当前状态为{status}，不能{action}",
        status=_status,
        action=_action,
    ),
    _rule(
        r"the (?P<role>\w+) role may not (?P<action>\w+) a case",
        "“{role}”角色无权{action}案件",
        role=_role,
        action=_action,
    ),
    _rule(
        r"the case can be reopened only within (?P<n>\d+) working days of resolution",
        "案件只能在办结后 {n} 个工作日内重新办理",
    ),
    _rule(
        r"a case that is (?P<status>\w+) takes no more files", "案件当前状态为{status}，不能再上传文件", status=_status
    ),
    _rule(r"is larger than (?P<n>\d+) MB", "超过 {n} MB"),
    _rule(
        r"is not an accepted type \(its content must be one of: (?P<types>.+)\)",
        "文件类型不受支持（内容须为以下类型之一：{types}）",
    ),
    _rule(
        r"not files you uploaded to this case and not yet sent: (?P<ids>.+)",
        "以下不是您为该案件上传且尚未提交的文件：{ids}",
    ),
    # calendar, metrics and supervision
    _rule(r"must be between (?P<a>\d+) and (?P<b>\d+) working days", "须为 {a} 至 {b} 个工作日"),
    _rule(r"must (?:be|lie) between (?P<a>\d+) and (?P<b>\d+)", "必须在 {a} 至 {b} 之间"),
    _rule(r"years run from (?P<a>\d+) to (?P<b>\d+)", "年份须在 {a} 至 {b} 之间"),
    _rule(r"is not in (?P<year>\d+)", "不在 {year} 年内"),
    _rule(
        r"your account sees the figures of (?P<what>district|department) (?P<own>\S+) only",
        "您的账号只能查看{what} {own} 的数据",
        what=_record,
    ),
    _rule(
        r"the case is (?P<status>\w+): only an unfinished case is supervised",
        "案件当前状态为{status}，只有未办结的案件才能督办",
        status=_status,
    ),
    _rule(
        r"(?P<case_no>\S+) already has a supervision notice waiting for a reply \((?P<id>[^)]+)\)",
        "{case_no} 已有一份督办通知在等待回复（{id}）",
    ),
    # deliveries and notice texts
    _rule(
        r"the delivery is (?P<status>\w+); only a parked one is retried",
        "该推送当前状态为{status}，只有已搁置的推送才能重试",
        status=_status,
    ),
    _rule(
        r"the delivery is (?P<status>\w+); only a sent one is replayed",
        "该推送当前状态为{status}，只有已发送的推送才能重放",
        status=_status,
    ),
    _rule(
        r"placeholder (?P<name>\{[^}]*\}) must be a plain name such as \{case_no\}",
        "占位符 {name} 必须是简单名称，如 {{case_no}}",
    ),
    _rule(r"unknown placeholder (?P<name>\{[^}]*\}); known: (?P<known>.+)", "未知占位符 {name}；可用的有：{known}"),
    _rule(r"(?P<kind>\S+) has no editable text", "{kind} 没有可编辑的文本"),
]
"""Texts with variable parts, tried in order after the exact ones."""

_LOCATION = re.compile(r"(?P<core>.+) - at `(?P<path>\$[^`]*)`", re.S)
_PREFIXED = re.compile(r"(?P<prefix>[^\s:]+): (?P<rest>.+)", re.S)


def translate(text: str) -> str | None:
    """The Chinese of a detail or a reason, or None when the table does not know it."""
    if text in TEXTS_ZH:
        return TEXTS_ZH[text]
    if found := _LOCATION.fullmatch(text):
        # msgspec names the place in the body (`$.title`); ``errors[].field`` names it for
        # clients, so the Chinese reason is the reason alone, ready to show beside the field.
        return translate(found.group("core"))
    for pattern, build in RULES:
        if (found := pattern.fullmatch(text)) and (built := build(found)) is not None:
            return built
    if found := _PREFIXED.fullmatch(text):
        # "field: reason" (Invalid, Malformed, TooLarge) and "BS-...: why" (supervision).
        rest = translate(found.group("rest"))
        return None if rest is None else f"{found.group('prefix')}：{rest}"
    return None


def _http_detail(detail: str, status: int) -> str | None:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return None
    return STATUS_ZH.get(status) if detail == phrase else None


def in_chinese(problem: Problem) -> Problem:
    """The problem with its title, detail and reasons in Chinese where the table has them."""
    title = title_zh(problem.title, problem.status) or problem.title
    detail = translate(problem.detail) or _http_detail(problem.detail, problem.status) or problem.detail
    errors = (
        [FieldError(field=e.field, reason=translate(e.reason) or e.reason) for e in problem.errors]
        if problem.errors
        else problem.errors
    )
    return msgspec.structs.replace(problem, title=title, detail=detail, errors=errors)


# ---------------------------------------------------------------------------- responses


def _varied(vary: str | None) -> str:
    """``vary`` with Accept-Language added (once)."""
    if not vary:
        return "Accept-Language"
    names = {name.strip().lower() for name in vary.split(",")}
    return vary if names & {"accept-language", "*"} else f"{vary}, Accept-Language"


def negotiated(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """A problem response in the language the request prefers, saying which, and that
    the body depends on ``Accept-Language``. Anything going wrong here leaves it English."""
    if not isinstance(response.content, Problem):
        return response
    language = ENGLISH
    try:
        language = preferred_language(request.headers.get("accept-language"))
        if language == CHINESE:
            response.content = in_chinese(response.content)
    except Exception:
        log.exception("problem left in English: its translation failed")
        language = ENGLISH
    vary = [name for name in response.headers if name.lower() == "vary"]
    current = ", ".join(str(response.headers.pop(name)) for name in vary)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = _varied(current or None)
    return response


def in_callers_language(
    handler: Callable[[Request[Any, Any, Any], Any], Response[Any]],
) -> Callable[[Request[Any, Any, Any], Any], Response[Any]]:
    """An exception handler whose problem answers in the caller's language."""

    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        return negotiated(request, handler(request, exc))

    handle.__name__ = handler.__name__
    handle.__doc__ = handler.__doc__
    return handle


_CONTENT_TYPE = b"content-type"
_VARY = b"vary"
_PROBLEM = b"application/problem+json"


async def keep_language_vary(message: Message, scope: Scope) -> None:
    """``before_send`` of the app: a problem keeps ``Accept-Language`` in its ``Vary``
    even when a layer after the handler set the header anew (the CORS middleware sets
    ``Vary: Origin`` on a response to an allowed origin)."""
    # Problems answer errors only: a success is not searched for the content type.
    if message["type"] != "http.response.start" or message["status"] < 400:
        return
    headers = list(message.get("headers") or ())
    if not any(name.lower() == _CONTENT_TYPE and value.startswith(_PROBLEM) for name, value in headers):
        return
    vary = ", ".join(value.decode("latin-1") for name, value in headers if name.lower() == _VARY)
    wanted = _varied(vary or None)
    if wanted != vary:
        headers = [(name, value) for name, value in headers if name.lower() != _VARY]
        headers.append((_VARY, wanted.encode("latin-1")))
        message["headers"] = headers
