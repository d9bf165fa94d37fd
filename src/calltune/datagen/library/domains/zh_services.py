"""中文生活服务：个税、人民币大写、中文数字、生肖与干支、汉字笔画、快递费、身份证号码。

Tools with Chinese names and descriptions (the library's Chinese share). The tables here are fixed
offline tables; the tax tables are China's monthly individual income tax schedule (2019 reform).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

import cn2an
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from ....tools import tool
from ._checks import non_negative, not_empty, positive

DOMAIN = "zh_services"

# 综合所得月度税率表：(应纳税所得额上限, 税率, 速算扣除数)
_MONTHLY_BRACKETS = [
    (3000, 0.03, 0), (12000, 0.10, 210), (25000, 0.20, 1410), (35000, 0.25, 2660),
    (55000, 0.30, 4410), (80000, 0.35, 7160), (math.inf, 0.45, 15160),
]  # fmt: skip
_ZODIAC = "鼠牛虎兔龙蛇马羊猴鸡狗猪"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
# 常用汉字与常见姓氏的笔画数（简体，固定离线表）
_STROKES = {
    **dict.fromkeys("一乙", 1), **dict.fromkeys("二七八九十人丁", 2), **dict.fromkeys("三大小山口马于万", 3),
    **dict.fromkeys("五六日月水火木中王天文心长书方孔毛尹邓", 4),
    **dict.fromkeys("四白生田目石北东电本用出正民鸟冯叶卢龙史", 5),
    **dict.fromkeys("回好字年百西米名地在有安刘孙朱许吕任江汤乔", 6),
    **dict.fromkeys("我李张花里陈吴何宋沈苏余杜汪邹陆邵邱", 7),
    **dict.fromkeys("学国林明金雨京和周罗郑范易武孟鱼", 8),
    **dict.fromkeys("春美南是星秋赵胡姜姚钟侯段贺", 9),
    **dict.fromkeys("家海高爱徐郭唐袁贾夏秦顾郝钱", 10),
    **dict.fromkeys("黄梁萧曹阎崔康常龚", 11), **dict.fromkeys("谢韩董程傅曾彭蒋", 12),
    **dict.fromkeys("雷赖", 13), **dict.fromkeys("蔡谭廖熊", 14), **dict.fromkeys("潘黎", 15), "薛": 16,
    **dict.fromkeys("魏戴", 17),
}  # fmt: skip
# 快递资费（固定离线表）：区域 -> (首重1千克价格, 续重每千克价格, 时效天数)
_EXPRESS = {"同城": (8, 2, "1"), "省内": (10, 3, "1-2"), "跨省": (12, 5, "2-4"), "偏远地区": (20, 10, "4-7")}


def _bracket(amount: float) -> tuple[float, float]:
    return next((rate, quick) for top, rate, quick in _MONTHLY_BRACKETS if amount <= top)


@tool(name="计算个税")
def monthly_income_tax(
    monthly_income: float, social_insurance: float = 0, special_deductions: float = 0
) -> dict:
    """按综合所得月度税率表计算工资薪金的个人所得税（起征点每月5000元）。

    Args:
        monthly_income: 税前月收入（元）。
        social_insurance: 个人缴纳的五险一金（元）。
        special_deductions: 专项附加扣除合计（元）。
    """
    non_negative(
        monthly_income=monthly_income,
        social_insurance=social_insurance,
        special_deductions=special_deductions,
    )
    taxable = max(0.0, monthly_income - 5000 - social_insurance - special_deductions)
    rate, quick = _bracket(taxable)
    tax = max(0.0, taxable * rate - quick)
    return {
        "应纳税所得额": round(taxable, 2),
        "税率": f"{rate:.0%}",
        "速算扣除数": quick,
        "应纳税额": round(tax, 2),
        "税后收入": round(monthly_income - social_insurance - tax, 2),
    }


@tool(name="年终奖个税")
def annual_bonus_tax(bonus: float) -> dict:
    """全年一次性奖金单独计税：奖金除以12确定税率，再按奖金全额计算个人所得税。

    Args:
        bonus: 年终奖金额（元）。
    """
    non_negative(bonus=bonus)
    rate, quick = _bracket(bonus / 12)
    tax = bonus * rate - quick
    return {"税率": f"{rate:.0%}", "应纳税额": round(tax, 2), "税后奖金": round(bonus - tax, 2)}


@tool(name="人民币大写金额")
def rmb_uppercase(金额: float) -> str:
    """把金额写成人民币大写（用于支票、发票和合同）。

    Args:
        金额: 以元为单位的金额，最多两位小数。
    """
    non_negative(金额=金额)
    if 金额 >= 1e16:
        raise ValueError("金额过大")
    return cn2an.an2cn(f"{金额:.2f}", "rmb")


@tool(name="数字转中文")
def number_to_chinese(数字: float, 大写: bool = False) -> str:
    """把阿拉伯数字写成中文数字（小写一二三，或大写壹贰叁）。

    Args:
        数字: 要转换的数。
        大写: 是否使用大写数字。
    """
    value = int(数字) if float(数字).is_integer() else 数字
    return cn2an.an2cn(value, "up" if 大写 else "low")


@tool(name="中文数字转阿拉伯数字")
def chinese_to_number(text: str) -> dict:
    """把中文数字（包括“三万五千”这样的混合写法）转换成阿拉伯数字。

    Args:
        text: 中文数字。
    """
    not_empty(text=text)
    try:
        return {"数值": cn2an.cn2an(text.strip(), "smart")}
    except ValueError as e:
        raise ValueError(f"无法识别的中文数字：{text!r}") from e


@tool(name="查询生肖")
def chinese_zodiac(year: int) -> dict:
    """查询农历年份对应的生肖（公历年份按春节后计算）。

    Args:
        year: 公历年份。
    """
    positive(year=year)
    return {"年份": year, "生肖": _ZODIAC[(year - 4) % 12], "说明": "春节前出生的属上一年的生肖"}


@tool(name="干支纪年")
def sexagenary_year(year: int) -> dict:
    """查询公历年份对应的天干地支纪年（如甲子年）。

    Args:
        year: 公历年份。
    """
    positive(year=year)
    i = (year - 4) % 60
    return {"年份": year, "干支": f"{_STEMS[i % 10]}{_BRANCHES[i % 12]}年", "生肖": _ZODIAC[i % 12]}


def _strokes(ch: str) -> int:
    n = _STROKES.get(ch)
    if n is None:
        raise ValueError(f"笔画表中没有“{ch}”（这是一个常用字和常见姓氏的小型离线表）")
    return n


@tool(name="汉字笔画数")
def character_strokes(text: str) -> dict:
    """查询汉字的笔画数（简体字，来自常用字和常见姓氏的固定离线表）。

    Args:
        text: 一个或几个汉字。
    """
    not_empty(text=text)
    counts = {ch: _strokes(ch) for ch in text.strip()}
    return {"笔画": counts, "合计": sum(counts.values())}


@tool(name="按姓氏笔画排序")
def sort_by_surname_strokes(names: list[str], descending: bool = False) -> dict:
    """按姓氏（名字第一个字）的笔画数给姓名排序，笔画相同保持原顺序，常用于名单排列。

    Args:
        names: 要排序的姓名。
        descending: 是否按笔画从多到少排列。
    """
    not_empty(names=names)
    keyed = [(_strokes(n.strip()[0]), n.strip()) for n in names if n.strip()]
    keyed.sort(key=lambda x: x[0], reverse=descending)
    return {"排序结果": [n for _, n in keyed], "姓氏笔画": {n: k for k, n in keyed}}


@tool(name="快递费估算")
def express_delivery_fee(
    weight_kg: float, region: Literal["同城", "省内", "跨省", "偏远地区"], 保价金额: float = 0
) -> dict:
    """按首重加续重估算快递费用和时效（续重不足1千克按1千克计，保价费为保价金额的1%）。

    Args:
        weight_kg: 包裹重量（千克）。
        region: 寄送范围。
        保价金额: 需要保价的物品价值（元）。
    """
    positive(weight_kg=weight_kg)
    non_negative(保价金额=保价金额)
    first, extra, days = _EXPRESS[region]
    fee = first + extra * max(0, math.ceil(weight_kg) - 1)
    insurance = round(保价金额 * 0.01, 2)
    return {"运费": fee, "保价费": insurance, "合计": round(fee + insurance, 2), "预计时效天数": days}


@tool(name="身份证号码解析")
def resident_id_info(id_number: str) -> dict:
    """校验18位居民身份证号码，并解析出生日期、性别和地区代码。

    Args:
        id_number: 18位身份证号码。
    """
    try:
        number = ric.validate(id_number)
    except ValidationError as e:
        raise ValueError(f"身份证号码无效：{e}") from e
    born: date = ric.get_birth_date(number)
    return {
        "有效": True,
        "出生日期": born.isoformat(),
        "性别": "男" if int(number[16]) % 2 else "女",
        "地区代码": number[:6],
    }


@tool(name="身份证校验码计算")
def resident_id_check_digit(first_17_digits: str) -> dict:
    """根据身份证号码前17位计算第18位校验码（GB 11643 规定的算法）。

    Args:
        first_17_digits: 身份证号码的前17位数字。
    """
    digits = first_17_digits.strip()
    if len(digits) != 17 or not digits.isdigit():
        raise ValueError("需要正好17位数字")
    check = ric.calc_check_digit(digits + "0")  # stdnum ignores the last character
    return {"校验码": check, "完整号码": digits + check}


TOOLS = [
    monthly_income_tax,
    annual_bonus_tax,
    rmb_uppercase,
    number_to_chinese,
    chinese_to_number,
    chinese_zodiac,
    sexagenary_year,
    character_strokes,
    sort_by_surname_strokes,
    express_delivery_fee,
    resident_id_info,
    resident_id_check_digit,
]
