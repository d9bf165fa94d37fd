"""A small tool-calling training set generated from real Python functions (not BFCL).

Sixteen ordinary functions (arithmetic, text, dates, units; one with a Chinese name) are
turned into tool specs by :func:`calltune.tools.to_tool_specs`; question templates (English
and Chinese) are filled with random argument values; the function is *executed* to get the
observation; an answer template states the result. Sample kinds: single call, parallel
calls (two calls in one turn), no call (chit-chat or a request no tool serves), and
two-turn dialogues. Each sample lists the tools it needs plus distractors.

Templates whose index is in ``HELD_OUT`` never appear in the training split, so the test
split has unseen phrasings as well as unseen values. ``calltune data synth OUT`` writes it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

# --------------------------------------------------------------------------- the functions


def convert_temperature(
    value: float,
    to_unit: Literal["celsius", "fahrenheit", "kelvin"],
    from_unit: Literal["celsius", "fahrenheit", "kelvin"] = "celsius",
) -> float:
    """Convert a temperature between Celsius, Fahrenheit and Kelvin.

    Args:
        value: the temperature to convert
        to_unit: the unit to convert to
        from_unit: the unit of value
    """
    c = {"celsius": value, "fahrenheit": (value - 32) * 5 / 9, "kelvin": value - 273.15}[from_unit]
    out = {"celsius": c, "fahrenheit": c * 9 / 5 + 32, "kelvin": c + 273.15}[to_unit]
    return round(out, 2)


def compound_interest(principal: float, rate_percent: float, years: int) -> dict[str, float]:
    """Grow a deposit with yearly compound interest.

    Args:
        principal: the amount deposited
        rate_percent: the yearly interest rate in percent
        years: the number of years
    """
    final = principal * (1 + rate_percent / 100) ** years
    return {"final_amount": round(final, 2), "interest": round(final - principal, 2)}


def count_words(text: str) -> int:
    """Count the words of a text (separated by whitespace).

    Args:
        text: the text to count
    """
    return len(text.split())


def is_prime(n: int) -> bool:
    """Tell whether an integer is a prime number.

    Args:
        n: the integer to test
    """
    if n < 2:
        return False
    return all(n % d for d in range(2, int(math.isqrt(n)) + 1))


def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two integers.

    Args:
        a: the first integer
        b: the second integer
    """
    return math.gcd(a, b)


def mean_and_stdev(values: list[float]) -> dict[str, float]:
    """Mean and population standard deviation of a list of numbers.

    Args:
        values: the numbers
    """
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / len(values))
    return {"mean": round(m, 3), "stdev": round(sd, 3)}


def sort_numbers(values: list[float], descending: bool = False) -> list[float]:
    """Sort a list of numbers.

    Args:
        values: the numbers to sort
        descending: largest first when true
    """
    return sorted(values, reverse=descending)


def body_mass_index(weight_kg: float, height_m: float) -> dict[str, Any]:
    """Body mass index and its WHO category.

    Args:
        weight_kg: body weight in kilograms
        height_m: height in metres
    """
    bmi = weight_kg / height_m**2
    cat = "underweight" if bmi < 18.5 else "normal" if bmi < 25 else "overweight" if bmi < 30 else "obese"
    return {"bmi": round(bmi, 1), "category": cat}


def days_between(start: str, end: str) -> int:
    """Number of days from one ISO date (YYYY-MM-DD) to another.

    Args:
        start: the first date, YYYY-MM-DD
        end: the second date, YYYY-MM-DD
    """
    return (_dt.date.fromisoformat(end) - _dt.date.fromisoformat(start)).days


def weekday_of(date: str) -> str:
    """The weekday of an ISO date (YYYY-MM-DD).

    Args:
        date: the date, YYYY-MM-DD
    """
    return _dt.date.fromisoformat(date).strftime("%A")


def convert_length(
    value: float, from_unit: Literal["m", "km", "mile", "ft"], to_unit: Literal["m", "km", "mile", "ft"]
) -> float:
    """Convert a length between metres, kilometres, miles and feet.

    Args:
        value: the length
        from_unit: the unit of value
        to_unit: the unit to convert to
    """
    metres = {"m": 1.0, "km": 1000.0, "mile": 1609.344, "ft": 0.3048}
    return round(value * metres[from_unit] / metres[to_unit], 3)


def fibonacci(n: int) -> list[int]:
    """The first n Fibonacci numbers.

    Args:
        n: how many numbers (1 to 30)
    """
    out, a, b = [], 0, 1
    for _ in range(n):
        out.append(a)
        a, b = b, a + b
    return out


def caesar_cipher(text: str, shift: int) -> str:
    """Shift every Latin letter of a text by a number of places (Caesar cipher).

    Args:
        text: the text to encode
        shift: how many places to shift (negative decodes)
    """
    out = []
    for ch in text:
        if ch.isascii() and ch.isalpha():
            base = ord("a") if ch.islower() else ord("A")
            out.append(chr((ord(ch) - base + shift) % 26 + base))
        else:
            out.append(ch)
    return "".join(out)


def split_bill(total: float, people: int, tip_percent: float = 0.0) -> dict[str, float]:
    """Split a restaurant bill evenly, optionally adding a tip.

    Args:
        total: the bill before tip
        people: the number of people paying
        tip_percent: the tip in percent of the bill
    """
    with_tip = total * (1 + tip_percent / 100)
    return {"total_with_tip": round(with_tip, 2), "per_person": round(with_tip / people, 2)}


def top_letters(text: str, k: int = 3) -> list[list[Any]]:
    """The k most frequent letters of a text with their counts.

    Args:
        text: the text to analyse
        k: how many letters to return
    """
    counts: dict[str, int] = {}
    for ch in text.lower():
        if ch.isalpha():
            counts[ch] = counts.get(ch, 0) + 1
    return [[c, n] for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:k]]


_ZODIAC = ["鼠", "牛", "虎", "兔", "龙", "蛇", "马", "羊", "猴", "鸡", "狗", "猪"]


def 查询生肖(year: int) -> str:
    """查询某一公历年份对应的中国生肖。

    Args:
        year: 公历年份，例如 1990
    """
    return _ZODIAC[(year - 4) % 12]


FUNCTIONS: list[Callable[..., Any]] = [
    convert_temperature,
    compound_interest,
    count_words,
    is_prime,
    gcd,
    mean_and_stdev,
    sort_numbers,
    body_mass_index,
    days_between,
    weekday_of,
    convert_length,
    fibonacci,
    caesar_cipher,
    split_bill,
    top_letters,
    查询生肖,
]

# --------------------------------------------------------------------------- templates

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


def _fmt_list(v: list[Any]) -> str:
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
        convert_temperature,
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
        compound_interest,
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
        gcd,
        lambda r: {"a": r.randint(2, 60) * r.randint(1, 12), "b": r.randint(2, 60) * r.randint(1, 12)},
        [
            "What is the greatest common divisor of {a} and {b}?",
            "求{a}和{b}的最大公约数。",
            "gcd({a}, {b}) = ?",
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

_NO_CALL = [
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


def _is_zh(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


def _context(args: dict[str, Any], result: Any) -> dict[str, Any]:
    ctx = dict(args)
    if "values" in args:
        ctx["values_text"] = _fmt_list(args["values"])
    if "descending" in args:
        ctx["order_en"] = "from largest to smallest" if args["descending"] else "from smallest to largest"
        ctx["order_zh"] = "从大到小" if args["descending"] else "从小到大"
    ctx["result"] = result
    if isinstance(result, list):
        ctx["result_text"] = _fmt_list(
            [f"{c} ({n})" if isinstance(c, str) else c for c, n in result]
            if result and isinstance(result[0], list)
            else result
        )
    if isinstance(result, bool):
        ctx["result_prime"] = "a prime number" if result else "not a prime number"
        ctx["result_prime_zh"] = "是质数" if result else "不是质数"
    return ctx


def _call(spec: Spec, r: random.Random, split: str) -> tuple[str, dict[str, Any], Any, str]:
    """(question, arguments, observation, answer) for one call."""
    args = spec.args(r)
    result = spec.fn(**args)
    idx = [i for i in range(len(spec.questions)) if (i in HELD_OUT) == (split == "test")]
    q_t = spec.questions[r.choice(idx)]
    ctx = _context(args, result)
    q = q_t.format(**ctx)
    ans = (spec.answer_zh if _is_zh(q) else spec.answer_en).format(**ctx)
    return q, args, result, ans


def tool_specs() -> dict[str, dict[str, Any]]:
    from ..tools import to_tool_specs

    return {t["function"]["name"]: t["function"] for t in to_tool_specs(FUNCTIONS)}


def _tools_for(
    names: list[str], specs: dict[str, dict[str, Any]], r: random.Random, n_distract: tuple[int, int]
) -> list[dict[str, Any]]:
    others = [n for n in specs if n not in names]
    chosen = names + r.sample(others, r.randint(*n_distract))
    r.shuffle(chosen)
    return [specs[n] for n in chosen]


def make_sample(
    r: random.Random,
    split: str = "train",
    specs: dict[str, dict[str, Any]] | None = None,
    n_distract: tuple[int, int] = (0, 2),
) -> dict[str, Any]:
    specs = specs or tool_specs()
    kind = r.choices(["single", "parallel", "none", "two_turn"], weights=[0.6, 0.15, 0.12, 0.13])[0]
    if kind == "none":
        q, a = r.choice(_NO_CALL)
        return {
            "tools": _tools_for([], specs, r, (1, 3)),
            "conversations": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
        }
    if kind == "parallel":
        s1, s2 = r.sample(SPECS, 2)
        q1, a1, o1, ans1 = _call(s1, r, split)
        q2, a2, o2, ans2 = _call(s2, r, split)
        zh = _is_zh(q1)
        if _is_zh(q2) != zh:  # keep one language per question
            for _ in range(10):
                q2, a2, o2, ans2 = _call(s2, r, split)
                if _is_zh(q2) == zh:
                    break
        question = f"{q1}另外，{q2}" if zh else f"{q1} Also, {q2[0].lower() + q2[1:]}"
        conv = [
            {"role": "user", "content": question},
            {
                "role": "tool",
                "calls": [
                    {"name": s1.fn.__name__, "parameters": a1, "observation": o1},
                    {"name": s2.fn.__name__, "parameters": a2, "observation": o2},
                ],
            },
            {"role": "assistant", "content": ans1 + ("" if zh else " ") + ans2},
        ]
        return {
            "tools": _tools_for([s1.fn.__name__, s2.fn.__name__], specs, r, (0, 1)),
            "conversations": conv,
        }
    s = r.choice(SPECS)
    q, args, obs, ans = _call(s, r, split)
    conv = [
        {"role": "user", "content": q},
        {"role": "tool", "name": s.fn.__name__, "parameters": args, "observation": obs},
        {"role": "assistant", "content": ans},
    ]
    names = [s.fn.__name__]
    if kind == "two_turn":
        s2 = r.choice(SPECS)
        q2, a2, o2, ans2 = _call(s2, r, split)
        conv += [
            {"role": "user", "content": q2},
            {"role": "tool", "name": s2.fn.__name__, "parameters": a2, "observation": o2},
            {"role": "assistant", "content": ans2},
        ]
        if s2.fn.__name__ not in names:
            names.append(s2.fn.__name__)
    return {
        "tools": _tools_for(names, specs, r, n_distract if len(names) == 1 else (0, 1)),
        "conversations": conv,
    }


def generate(
    n: int, split: str = "train", seed: int = 0, n_distract: tuple[int, int] = (0, 2)
) -> list[dict[str, Any]]:
    """``n`` samples of the given split (``train`` or ``test``; test uses held-out templates).
    ``n_distract``: how many unrelated tools (min, max) are listed next to the needed one."""
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    r = random.Random(f"{split}-{seed}")
    specs = tool_specs()
    return [make_sample(r, split, specs, n_distract) for _ in range(n)]


def main() -> None:  # pragma: no cover - convenience
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for s in generate(n):
        print(json.dumps(s, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
