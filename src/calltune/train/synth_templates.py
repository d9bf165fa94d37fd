"""Question and answer templates of the synthetic tool-calling set, one :class:`Spec` per
function, plus the no-call dialogues and the random argument helpers.

Templates whose index is in ``HELD_OUT`` never appear in the training split."""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .synth_functions import (
    body_mass_index,
    caesar_cipher,
    convert_length,
    convert_temperature_units,
    count_words,
    days_between,
    fibonacci,
    greatest_common_divisor,
    grow_with_compound_interest,
    is_prime,
    mean_and_stdev,
    sort_numbers,
    split_bill,
    top_letters,
    weekday_of,
    查询生肖,
)

_WORDS = [
    "river",
    "lantern",
    "quiet",
    "orange",
    "mountain",
    "paper",
    "swift",
    "garden",
    "silver",
    "window",
    "coffee",
    "night",
    "bridge",
    "cloud",
    "forest",
    "music",
    "stone",
    "winter",
    "harbor",
    "yellow",
]
_ZH_SENT = ["今天天气很好", "我们明天去公园", "学习使人进步", "这本书非常有趣", "春天来了花开了"]


def _date(r: random.Random) -> str:
    return (_dt.date(2015, 1, 1) + _dt.timedelta(days=r.randrange(0, 4000))).isoformat()


def _sentence(r: random.Random, lo: int = 3, hi: int = 9) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(r.randint(lo, hi)))


def _nums(r: random.Random, lo: int = 3, hi: int = 7) -> list[float]:
    return [
        float(r.randint(1, 99)) if r.random() < 0.5 else round(r.uniform(1, 100), 1)
        for _ in range(r.randint(lo, hi))
    ]


def fmt_list(v: list[Any]) -> str:
    return ", ".join(str(int(x)) if isinstance(x, float) and x.is_integer() else str(x) for x in v)


@dataclass
class Spec:
    fn: Callable[..., Any]
    args: Callable[[random.Random], dict[str, Any]]
    questions: list[str]  # str.format templates over the args (+ helper keys); en and zh mixed
    answer_en: str
    answer_zh: str


def _temp_args(r: random.Random) -> dict[str, Any]:
    f, t = r.sample(["celsius", "fahrenheit", "kelvin"], 2)
    return {"value": float(r.randint(-20, 110)), "to_unit": t, "from_unit": f}


SPECS: list[Spec] = [
    Spec(
        convert_temperature_units,
        _temp_args,
        [
            "Convert {value:g} degrees {from_unit} to {to_unit}.",
            "What is {value:g} {from_unit} in {to_unit}?",
            "把{value:g}度{from_unit}换算成{to_unit}。",
            "If it is {value:g} {from_unit} outside, how much is that in {to_unit}?",
        ],
        "{value:g} {from_unit} is {result} {to_unit}.",
        "{value:g}度{from_unit}等于{result}度{to_unit}。",
    ),
    Spec(
        grow_with_compound_interest,
        lambda r: {
            "principal": float(r.choice([500, 1000, 2500, 8000, 12000])),
            "rate_percent": float(r.choice([1.5, 2, 3.25, 4, 5.5])),
            "years": r.randint(1, 15),
        },
        [
            "I deposit {principal:g} at {rate_percent:g}% per year for {years} years. How much will I have?",
            "存入{principal:g}元，年利率{rate_percent:g}%，复利{years}年后有多少钱？",
            "Compute compound interest on {principal:g} at {rate_percent:g} percent over {years} years.",
            "What does {principal:g} grow to after {years} years at {rate_percent:g}% compounded yearly?",
        ],
        "After {years} years you will have {result[final_amount]} (interest {result[interest]}).",
        "{years}年后共有{result[final_amount]}元，其中利息{result[interest]}元。",
    ),
    Spec(
        count_words,
        lambda r: {"text": _sentence(r)},
        [
            'How many words are in this text: "{text}"?',
            "Count the words in: {text}",
            "数一数这句话有几个单词：{text}",
            'Word count for "{text}", please.',
        ],
        "The text has {result} words.",
        "这段文字共有{result}个单词。",
    ),
    Spec(
        is_prime,
        lambda r: {"n": r.choice([r.randint(2, 500), r.choice([97, 101, 211, 389, 499, 7919])])},
        [
            "Is {n} a prime number?",
            "{n}是质数吗？",
            "Check whether {n} is prime.",
            "Tell me if {n} is prime or not.",
        ],
        "{n} is {result_prime}.",
        "{n}{result_prime_zh}。",
    ),
    Spec(
        greatest_common_divisor,
        lambda r: {"a": r.randint(2, 60) * r.randint(1, 12), "b": r.randint(2, 60) * r.randint(1, 12)},
        [
            "What is the greatest common divisor of {a} and {b}?",
            "求{a}和{b}的最大公约数。",
            "greatest_common_divisor({a}, {b}) = ?",
            "Find the GCD of {a} and {b}.",
        ],
        "The greatest common divisor of {a} and {b} is {result}.",
        "{a}和{b}的最大公约数是{result}。",
    ),
    Spec(
        mean_and_stdev,
        lambda r: {"values": _nums(r)},
        [
            "What are the mean and standard deviation of {values_text}?",
            "计算这些数的平均值和标准差：{values_text}",
            "Give me the average and spread of these numbers: {values_text}",
            "Mean and stdev of [{values_text}]?",
        ],
        "The mean is {result[mean]} and the standard deviation is {result[stdev]}.",
        "平均值是{result[mean]}，标准差是{result[stdev]}。",
    ),
    Spec(
        sort_numbers,
        lambda r: {"values": _nums(r), "descending": r.random() < 0.5},
        [
            "Sort these numbers {order_en}: {values_text}",
            "把这些数{order_zh}排序：{values_text}",
            "Please put {values_text} in {order_en} order.",
            "Order the list [{values_text}] {order_en}.",
        ],
        "Sorted: {result_text}.",
        "排序结果：{result_text}。",
    ),
    Spec(
        body_mass_index,
        lambda r: {"weight_kg": float(r.randint(45, 110)), "height_m": round(r.uniform(1.5, 1.95), 2)},
        [
            "I weigh {weight_kg:g} kg and I am {height_m:g} m tall. What is my BMI?",
            "体重{weight_kg:g}公斤，身高{height_m:g}米，BMI是多少？",
            "Compute the body mass index for {weight_kg:g} kg and {height_m:g} m.",
            "BMI for height {height_m:g} m, weight {weight_kg:g} kg?",
        ],
        "Your BMI is {result[bmi]} ({result[category]}).",
        "你的BMI是{result[bmi]}，属于{result[category]}。",
    ),
    Spec(
        days_between,
        lambda r: {"start": _date(r), "end": _date(r)},
        [
            "How many days are there from {start} to {end}?",
            "从{start}到{end}有多少天？",
            "Days between {start} and {end}?",
            "Count the days from {start} until {end}.",
        ],
        "From {start} to {end} there are {result} days.",
        "从{start}到{end}相差{result}天。",
    ),
    Spec(
        weekday_of,
        lambda r: {"date": _date(r)},
        [
            "What day of the week was {date}?",
            "{date}是星期几？",
            "Which weekday is {date}?",
            "Tell me the weekday of {date}.",
        ],
        "{date} is a {result}.",
        "{date}是{result}。",
    ),
    Spec(
        convert_length,
        lambda r: dict(
            zip(["from_unit", "to_unit"], r.sample(["m", "km", "mile", "ft"], 2), strict=True),
            value=float(r.randint(1, 500)),
        ),
        [
            "Convert {value:g} {from_unit} to {to_unit}.",
            "{value:g} {from_unit}等于多少{to_unit}？",
            "How many {to_unit} is {value:g} {from_unit}?",
            "Express {value:g} {from_unit} in {to_unit}.",
        ],
        "{value:g} {from_unit} is {result} {to_unit}.",
        "{value:g} {from_unit}等于{result} {to_unit}。",
    ),
    Spec(
        fibonacci,
        lambda r: {"n": r.randint(3, 15)},
        [
            "List the first {n} Fibonacci numbers.",
            "列出前{n}个斐波那契数。",
            "Give me {n} Fibonacci numbers.",
            "What are the first {n} terms of the Fibonacci sequence?",
        ],
        "The first {n} Fibonacci numbers are {result_text}.",
        "前{n}个斐波那契数是：{result_text}。",
    ),
    Spec(
        caesar_cipher,
        lambda r: {"text": _sentence(r, 2, 4), "shift": r.choice([1, 3, 5, 7, 13, -3])},
        [
            'Encode "{text}" with a Caesar shift of {shift}.',
            "用凯撒密码把“{text}”移动{shift}位。",
            "Apply a Caesar cipher with shift {shift} to: {text}",
            "Shift the letters of '{text}' by {shift}.",
        ],
        'The result is "{result}".',
        "加密结果是“{result}”。",
    ),
    Spec(
        split_bill,
        lambda r: {
            "total": float(r.randint(40, 600)),
            "people": r.randint(2, 8),
            "tip_percent": float(r.choice([0, 10, 15, 18, 20])),
        },
        [
            "Our bill is {total:g} for {people} people with a {tip_percent:g}% tip. How much each?",
            "账单{total:g}元，{people}个人平分，小费{tip_percent:g}%，每人付多少？",
            "Split {total:g} among {people} people, tip {tip_percent:g} percent.",
            "How should {people} friends split a {total:g} bill plus {tip_percent:g}% tip?",
        ],
        "With the tip the total is {result[total_with_tip]}, so each person pays {result[per_person]}.",
        "含小费共{result[total_with_tip]}元，每人{result[per_person]}元。",
    ),
    Spec(
        top_letters,
        lambda r: {"text": _sentence(r), "k": r.randint(2, 4)},
        [
            'Which {k} letters appear most often in "{text}"?',
            "找出“{text}”中出现最多的{k}个字母。",
            "Top {k} most frequent letters of: {text}",
            "What are the {k} commonest letters in '{text}'?",
        ],
        "The most frequent letters are {result_text}.",
        "出现最多的字母是{result_text}。",
    ),
    Spec(
        查询生肖,
        lambda r: {"year": r.randint(1940, 2030)},
        [
            "{year}年出生的人属什么？",
            "What is the Chinese zodiac animal for {year}?",
            "查一下{year}年的生肖。",
            "Which zodiac sign does the year {year} have?",
        ],
        "The Chinese zodiac animal of {year} is {result}.",
        "{year}年的生肖是{result}。",
    ),
]

#: template indices never used in the training split
HELD_OUT = (3,)

NO_CALL = [
    (
        "Hello! Who are you?",
        "Hello! I am an assistant that can use tools to compute things for you. How can I help?",
    ),
    ("你好", "你好！我可以调用工具帮你计算和查询，请问需要什么帮助？"),
    (
        "Tell me a short joke.",
        "Why did the function return early? It had a strong exception handling policy.",
    ),
    ("Thanks, that's all.", "You're welcome! Have a nice day."),
    ("谢谢你的帮助！", "不客气，随时为你服务！"),
    ("What's the capital of France?", "The capital of France is Paris."),
    (
        "Can you book a flight to Tokyo for me?",
        "Sorry, none of my tools can book flights. I can help with calculations, dates, units and text.",
    ),
    ("帮我订一张去上海的火车票。", "抱歉，我没有订票的工具，只能帮你做计算、日期、单位换算和文本处理。"),
    (
        "Write a haiku about autumn.",
        "Red leaves drift and fall,\ncool wind hums through empty trees,\nthe year exhales slow.",
    ),
    (
        "What can you do?",
        "I can convert units and temperatures, do arithmetic and statistics, work with dates and analyse text.",
    ),
]
