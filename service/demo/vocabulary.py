"""What the demo data is drawn from: names, words and weights, and the columns of the rows sent to COPY."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from service.domain.satisfaction import Level


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏飞宇浩然晨曦轩涵诺欣怡远志建国海燕文博雨桐俊嘉川渝睿琳"
EMPLOYERS = _words(
    "重庆大学 西南大学 重庆医科大学 重庆邮电大学 重庆交通大学 重庆理工大学 重庆师范大学 重庆工商大学 重庆科技大学 "
    "长江师范学院 重庆三峡学院 中国科学院重庆绿色智能技术研究院 重庆市农业科学院 重庆市畜牧科学院 重庆市中医院 "
    "重庆医科大学附属第一医院 重庆市人民医院 长安汽车股份有限公司 赛力斯集团股份有限公司 重庆京东方光电科技有限公司 "
    "华润微电子（重庆）有限公司 重庆川仪自动化股份有限公司 中冶赛迪集团有限公司 招商局重庆交通科研设计院有限公司 "
    "重庆市生态环境科学研究院 重庆市计量质量检测研究院"
)
FIELDS = _words(
    "机械工程 材料科学 电子信息 生物医药 计算机科学 人工智能 集成电路 新能源汽车 农业科学 化学工程 临床医学 中医药 "
    "土木工程 环境科学 数学 物理学"
)
REGIONS = _words(
    "500101 500102 500103 500104 500105 500106 500107 500108 500109 500110 500112 500113 500114 500115 500116 "
    "500117 500118 500119 500120 500151 500152 500153 500154 500155 500156 500229 500230 500231 500233 500235 "
    "500236 500237 500238 500240 500241 500242 500243 510104 510107 110108 420111 430104 610113 320106 520102"
)
"""Where the national ID numbers were issued: mostly Chongqing (50), some elsewhere."""
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 173 176 177 178 180 181 182 183 185 186 "
    "187 188 189 191 198 199"
)
CHANNELS = _words("phone website wechat platform in_person")
CHANNEL_WEIGHTS = list(accumulate((24, 14, 30, 20, 12)))
URBAN = set(_words("yuzhong jiangbei shapingba jiulongpo nanan beibei yubei banan liangjiang gaoxin"))
TOWNS = set(_words("wanzhou fuling yongchuan hechuan jiangjin changshou bishan dadukou qijiang"))
CATEGORY_WEIGHTS = {"housing": 3.0, "schooling": 2.5, "household_registration": 2.0, "medical": 2.0}
TITLE_ENDINGS = _words("申请 咨询 办理 协调 服务")
DESCRIPTIONS = (
    "",
    *_words("已电话沟通，需协调相关部门办理。 申请人已提交基本材料，请予以受理。 专员代为提交，申请人工作繁忙。"),
)
REJECT_REASONS = _words("不属于本清单服务范围 申请人不符合政策条件 重复提交的申请 已由其他渠道办理")
WITHDRAW_REASONS = _words("申请人已自行办理 申请人工作调动，不再需要 申请人主动撤回 需求已变化")
MATERIALS = _words("身份证复印件 工作单位证明 人才认定证书 劳动合同及社保缴费证明 学历学位证书扫描件")
TRANSFER_REASONS = _words("该事项由本部门以外的单位承办 涉及多部门，移交主办部门 属地管理，转相关部门办理")
OUTCOMES = _words("已按政策办结 已协调办理完成 已告知办理结果并送达 已为申请人开通绿色通道 已落实相关待遇")
REOPEN_REASONS = _words("申请人反映问题未解决 办理结果需补充完善 复核发现遗漏事项")
RATING_COMMENTS = (None, None, None, *_words("办理及时，非常感谢 专员很耐心 流程还可以更快 等待时间较长"))
FOLLOW_UP_ANSWERS = _words("已电话回访并说明情况 已协调部门加快办理并致歉 已约见申请人当面沟通")

CASE_COLUMNS = _words(
    "id case_no worker_id item_id title description channel steward_id department_code district_code status "
    "version promised_working_days created_by created_at updated_at accepted_at started_at materials_requested_at "
    "resolved_at closed_at rejected_at withdrawn_at due_at due_soon_at clock_remaining_seconds resolved_on_time "
    "awaited_materials outcome reject_reason withdraw_reason resolutions rating follow_up_due_at"
)
EVENT_COLUMNS = _words("case_id at actor_id account_id action from_status to_status note visibility details")
RATING_COLUMNS = _words(
    "id case_id resolution level comment rated_at rated_by on_behalf follow_up_due_at follow_up_answer "
    "follow_up_answered_at follow_up_answered_by"
)
STAFF_COLUMNS = _words("id name role department_code district_code work_phone email active created_at updated_at")
WORKER_COLUMNS = _words(
    "id name national_id_sealed national_id_index mobile_sealed mobile_index employer district_code talent_card "
    "field steward_id created_at updated_at"
)
ASSIGNMENT_COLUMNS = _words("worker_id steward_id previous_steward_id assigned_at assigned_by reason")


class _Weighted:
    """``random.choices`` of one value, with the cumulative weights summed once."""

    def __init__(self, values: Sequence[Any], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


LEVELS_ON_TIME = _Weighted([level.value for level in Level], (55, 30, 10, 4, 1))
LEVELS_LATE = _Weighted([level.value for level in Level], (22, 30, 26, 14, 8))
PAUSES = _Weighted((0, 1, 2), (78, 17, 5))
TALENT_CARDS = _Weighted(("A", "B", "none"), (2, 8, 90))
HOURS = list(accumulate((1, 1, 1, 1, 1, 1, 2, 4, 10, 16, 16, 14, 8, 9, 15, 16, 14, 12, 6, 5, 5, 4, 3, 2)))
"""When cases arrive over the day (local hours)."""
