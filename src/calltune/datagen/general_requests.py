"""General (non-tool) chat requests for the η mixture, written in code: topics × templates.

Nine kinds — writing, explanation, advice, coding, math word problems, translation,
summarising a given text, brainstorming, casual chat — in English and Chinese. Everything
here is our own wording. A math problem carries its answer (computed here, checked against the
teacher's reply in code); a translation its target language; a summary the length of its text.
:func:`build_requests` makes a seeded, deterministic list: the list for a smaller ``n`` is a
prefix of the list for a larger one, and ids are a hash of the request, so a run resumes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

KINDS: tuple[str, ...] = (
    "writing",
    "explanation",
    "advice",
    "coding",
    "math",
    "translation",
    "summarise",
    "brainstorm",
    "chat",
)


@dataclass(frozen=True)
class GeneralRequest:
    """One request and what its answer is checked against."""

    id: str
    kind: str
    lang: str  # the request's language: "en" | "zh"
    text: str
    #: the language the answer must be in (a translation's target; else ``lang``)
    answer_lang: str
    #: a math problem's answer (the reply must state it)
    expect: float | None = None
    #: an upper bound on the answer's length in characters (a summary is shorter than its text)
    max_chars: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def request_id(kind: str, lang: str, text: str) -> str:
    return "general-" + hashlib.sha256(f"{kind}\x1f{lang}\x1f{text}".encode()).hexdigest()[:12]


def _req(kind: str, lang: str, text: str, **kw: Any) -> GeneralRequest:
    kw.setdefault("answer_lang", lang)
    return GeneralRequest(request_id(kind, lang, text), kind, lang, text, **kw)


def _cross(kind: str, lang: str, templates: list[str], **slots: list[str]) -> list[GeneralRequest]:
    """Every template filled with every combination of its slot values."""
    out: list[GeneralRequest] = []
    (name, values), *rest = slots.items()
    for tpl in templates:
        for v in values:
            if rest:
                ((name2, values2),) = rest
                out += [_req(kind, lang, tpl.format(**{name: v, name2: w})) for w in values2]
            else:
                out.append(_req(kind, lang, tpl.format(**{name: v})))
    return out


# ---------------------------------------------------------------------------- the kinds


def _writing() -> list[GeneralRequest]:
    return _cross(
        "writing",
        "en",
        ["Write {form} about {subject}."],
        form=[
            "a four-line poem",
            "a haiku",
            "a three-sentence opening of a short story",
            "a short, friendly email to a neighbour",
            "a limerick",
            "a two-sentence product description",
            "a short diary entry",
        ],
        subject=[
            "a rainy morning in the city",
            "a lighthouse keeper",
            "the first day at a new job",
            "a cat who loves cardboard boxes",
            "an old bicycle",
            "a neighbourhood bakery",
            "learning to swim as an adult",
            "a night train through the mountains",
            "a garden in autumn",
        ],
    ) + _cross(
        "writing",
        "zh",
        ["写{form}，主题是{subject}。"],
        form=["一首四行小诗", "一段三句话的故事开头", "一条朋友圈文案", "一段简短的日记"],
        subject=["雨后的街道", "老家的院子", "第一次坐高铁", "一只爱睡觉的猫", "秋天的银杏", "周末的菜市场"],
    )


def _explanation() -> list[GeneralRequest]:
    return _cross(
        "explanation",
        "en",
        ["Explain {t} in simple terms.", "Can you explain {t} to a ten-year-old?"],
        t=[
            "how rainbows form",
            "why the sky is blue",
            "what inflation is",
            "how vaccines train the immune system",
            "what a black hole is",
            "why leaves change colour in autumn",
            "what photosynthesis does",
            "how tides work",
            "what a domain name server does",
            "why bread dough rises",
            "how a refrigerator keeps food cold",
            "what an electric circuit is",
        ],
    ) + _cross(
        "explanation",
        "zh",
        ["请用通俗的话解释{t}。", "给小学生讲讲{t}。"],
        t=[
            "彩虹是怎么形成的",
            "为什么天空是蓝色的",
            "什么是通货膨胀",
            "潮汐是怎么产生的",
            "面包为什么会发起来",
            "冰箱是怎么制冷的",
        ],
    )


def _advice() -> list[GeneralRequest]:
    return _cross(
        "advice",
        "en",
        ["What are some tips to {g}?", "I want to {g}. Where should I start?"],
        g=[
            "sleep better",
            "stay focused while working from home",
            "prepare for a job interview",
            "start running as a complete beginner",
            "keep houseplants alive",
            "make small talk at a party",
            "organise a messy desk",
            "spend less time on my phone in the evening",
            "cook more meals at home",
        ],
    ) + _cross(
        "advice",
        "zh",
        ["怎样才能{g}？有什么建议吗？", "我想{g}，应该从哪里开始？"],
        g=["提高睡眠质量", "在家办公时保持专注", "开始学跑步", "养好家里的绿植", "减少晚上刷手机的时间"],
    )


def _coding() -> list[GeneralRequest]:
    tasks = [
        "checks whether a string is a palindrome",
        "counts the words in a sentence",
        "removes duplicates from a list while keeping the order",
        "reverses the order of the words in a sentence",
        "finds the largest number in a list without using max()",
        "checks whether a year is a leap year",
        "merges two sorted lists into one sorted list",
        "flattens a list of lists by one level",
    ]
    questions = [
        "What is the difference between a list and a tuple in Python?",
        "What does git rebase do, compared with git merge?",
        "When should I use a dictionary instead of a list in Python?",
        "What is a race condition in a multithreaded program?",
        "Explain recursion with a tiny example.",
    ]
    return (
        _cross(
            "coding",
            "en",
            ["Write a {language} function that {task}."],
            language=["Python", "JavaScript"],
            task=tasks,
        )
        + [_req("coding", "en", q) for q in questions]
        + _cross(
            "coding",
            "zh",
            ["用 Python 写一个函数，{t}。"],
            t=[
                "判断一个字符串是不是回文",
                "计算列表里所有偶数的和",
                "统计一句话里每个字出现的次数",
                "判断一个年份是不是闰年",
            ],
        )
        + [
            _req("coding", "zh", q)
            for q in ("Python 里列表和元组有什么区别？", "什么是递归？举一个简单的例子。")
        ]
    )


def _leftover(r: random.Random) -> dict[str, Any]:
    a, d = r.randint(10, 90), r.randint(2, 7)
    return {"a": a, "d": d, "s": r.randint(1, a * d - 1)}


def _distance(r: random.Random) -> dict[str, Any]:
    return {"v": r.randrange(40, 121, 5), "h": r.randint(2, 9)}


def _discount(r: random.Random) -> dict[str, Any]:
    d = r.choice([10, 20, 25, 50])
    return {"p": r.randrange(40, 301, 20), "d": d, "z": f"{(100 - d) / 10:g}"}  # 25 % off = 打7.5折


def _change(r: random.Random) -> dict[str, Any]:
    n, c = r.randint(2, 9), r.randint(2, 9)
    return {"n": n, "c": c, "b": 50 if n * c < 50 else 100}


def _groups(r: random.Random) -> dict[str, Any]:
    k = r.randint(3, 6)
    return {"k": k, "s": k * r.randint(3, 9)}


def _pages(r: random.Random) -> dict[str, Any]:
    p = r.randint(10, 40)
    return {"p": p, "t": p * r.randint(4, 15)}


#: (slot maker, answer, template per language): the slot makers draw numbers with exact answers
_MATH: list[tuple[Callable[[random.Random], dict[str, Any]], Callable[..., float], dict[str, str]]] = [
    (
        _leftover,
        lambda a, d, s: a * d - s,
        {
            "en": "A bakery bakes {a} loaves of bread every day. After {d} days it has sold {s} loaves. "
            "How many loaves are left?",
            "zh": "一个果园每天摘{a}箱苹果，连续摘了{d}天，卖掉了{s}箱。还剩多少箱？",
        },
    ),
    (
        _distance,
        lambda v, h: v * h,
        {
            "en": "A car drives at {v} km per hour for {h} hours. How many kilometres does it travel?",
            "zh": "一辆汽车每小时行驶{v}公里，行驶了{h}小时，一共行驶了多少公里？",
        },
    ),
    (
        _discount,
        lambda p, d, z: p * (100 - d) / 100,
        {
            "en": "A jacket costs {p} dollars and is on sale for {d}% off. What is the sale price?",
            "zh": "一件衣服原价{p}元，打{z}折出售，现价是多少元？",
        },
    ),
    (
        _change,
        lambda n, c, b: b - n * c,
        {
            "en": "Sam buys {n} notebooks at {c} dollars each and pays with a {b}-dollar bill. "
            "How much change does he get?",
            "zh": "小红买了{n}本笔记本，每本{c}元，她付了{b}元，应该找回多少元？",
        },
    ),
    (
        _groups,
        lambda s, k: s // k,
        {
            "en": "A class of {s} pupils is split into teams of {k}. How many teams are there?",
            "zh": "一个班有{s}名学生，每{k}人一组，一共可以分成几组？",
        },
    ),
    (
        _pages,
        lambda p, t: t // p,
        {
            "en": "Mia reads {p} pages a day and her book has {t} pages. How many days does she need?",
            "zh": "小明每天读{p}页书，这本书一共{t}页，他要几天读完？",
        },
    ),
]


def _math(seed: int, per_template: int) -> list[GeneralRequest]:
    out: list[GeneralRequest] = []
    for i, (slots, answer, templates) in enumerate(_MATH):
        for lang, tpl in templates.items():
            rng = random.Random(f"math:{seed}:{i}:{lang}")
            seen: set[str] = set()
            for _ in range(per_template * 4):
                if len(seen) == per_template:
                    break
                values = slots(rng)
                text = tpl.format(**values)
                if text not in seen:
                    seen.add(text)
                    out.append(_req("math", lang, text, expect=float(answer(**values))))
    return out


_EN_SENTENCES = [
    "The museum opens at nine and closes at five.",
    "Could you tell me where the nearest train station is?",
    "We are planning a picnic by the lake this weekend.",
    "Please remember to water the plants while I am away.",
    "The meeting has been moved to Thursday afternoon.",
    "I have been learning to play the guitar for two years.",
    "This soup tastes even better the next day.",
]
_ZH_SENTENCES = [
    "这家书店周末营业到晚上十点。",
    "我们明天早上八点在公司门口集合。",
    "请把窗户关上，外面风很大。",
    "他每天骑自行车上班。",
    "这道菜有点辣，但是很好吃。",
]


def _translation() -> list[GeneralRequest]:
    out = [_req("translation", "en", f"Translate into Chinese: {s}", answer_lang="zh") for s in _EN_SENTENCES]
    out += [_req("translation", "zh", f"把这句话翻译成英文：{s}", answer_lang="en") for s in _ZH_SENTENCES]
    out += [
        _req("translation", "en", f"Translate into English: {s}", answer_lang="en") for s in _ZH_SENTENCES
    ]
    return out


_EN_PASSAGES = [
    "Community gardens have spread across many cities over the last decade. They turn empty lots into "
    "shared plots where neighbours grow vegetables, herbs and flowers. Besides fresh food, the gardens "
    "give people a reason to meet, and several studies link them to lower stress and stronger ties "
    "between residents. Their main problem is land: many sit on plots the owners may sell at any time.",
    "The first public libraries lent books to anyone who lived nearby, free of charge. Today most of "
    "them also lend e-books, run reading groups for children and offer computers to people who have "
    "none at home. Visits fell when the internet arrived, but many libraries have found new visitors "
    "by becoming quiet places to study and work.",
    "Electric scooters appeared in many cities almost overnight. Riders like them for short trips "
    "that are too long to walk and too short to drive. Pedestrians complain about scooters left on "
    "pavements, and some cities now require parking in marked areas or have limited the number of "
    "scooters each company may place on the streets.",
    "Sourdough bread is leavened by a starter, a mix of flour and water in which wild yeast and "
    "bacteria live. The bacteria make lactic acid, which gives the bread its slightly sour taste. A "
    "starter has to be fed with fresh flour regularly, and bakers often keep the same one alive for "
    "years.",
]
_ZH_PASSAGES = [
    "近几年，越来越多的年轻人开始在周末去郊外露营。他们带上帐篷、折叠桌椅和简单的炊具，在草地上待上一整天。"
    "有人说露营让他们远离了手机和工作，也有人只是喜欢和朋友一起做饭、聊天。不过，热门营地人越来越多，垃圾问题也随之出现。",
    "共享单车刚出现的时候，很多城市的街头一下子多了成千上万辆自行车。它解决了从地铁站到家的最后一公里问题，"
    "但乱停乱放也让不少人头疼。后来，很多城市划定了停车区域，并限制了投放数量，情况才慢慢好转。",
    "茶在中国有几千年的历史。不同地区的人喜欢不同的茶：南方很多人爱喝绿茶，北方不少人喜欢花茶，"
    "而福建和广东一带流行乌龙茶。泡茶的水温也有讲究，绿茶一般不用沸水，以免把茶叶泡苦。",
]


def _summarise() -> list[GeneralRequest]:
    out: list[GeneralRequest] = []
    for p in _EN_PASSAGES:
        for tpl in (
            "Summarise the following text in one sentence:\n\n{p}",
            "What is the main point of this paragraph?\n\n{p}",
        ):
            out.append(_req("summarise", "en", tpl.format(p=p), max_chars=len(p)))
    for p in _ZH_PASSAGES:
        for tpl in ("用一句话概括下面这段话：\n\n{p}", "请总结这段文字的要点：\n\n{p}"):
            out.append(_req("summarise", "zh", tpl.format(p=p), max_chars=len(p)))
    return out


def _brainstorm() -> list[GeneralRequest]:
    return _cross(
        "brainstorm",
        "en",
        ["Give me five ideas for {t}.", "Can you brainstorm three {t}?"],
        t=[
            "names for a small neighbourhood coffee shop",
            "birthday presents for a friend who loves hiking",
            "things to do on a rainy Sunday",
            "ways to reuse empty glass jars",
            "icebreaker questions for a team meeting",
            "healthy snacks for a long car trip",
            "titles for a blog about home cooking",
        ],
    ) + _cross(
        "brainstorm",
        "zh",
        ["帮我想五个{t}。", "给我三个关于{t}的点子。"],
        t=["咖啡店的名字", "送给爱旅行的朋友的生日礼物", "下雨天在家可以做的事", "旧玻璃瓶的再利用方法"],
    )


def _chat() -> list[GeneralRequest]:
    en = [
        "Hi! How's your day going?",
        "I just finished a 10 km run and I'm exhausted but happy.",
        "Do you have a favourite season? Mine is autumn.",
        "I'm bored. Tell me something interesting.",
        "Good morning! Any fun fact to start my day?",
        "I finally fixed the squeaky door in my flat!",
        "What would be a good name for a pet goldfish?",
        "My sister is visiting this weekend and I can't wait.",
    ]
    zh = [
        "你好！今天过得怎么样？",
        "我刚跑完五公里，好累但是很开心。",
        "周末好无聊，陪我聊聊天吧。",
        "早上好！给我讲个有趣的小知识吧。",
        "我终于把房间收拾干净了！",
        "你觉得猫和狗哪个更适合养在公寓里？",
    ]
    return [_req("chat", "en", t) for t in en] + [_req("chat", "zh", t) for t in zh]


def all_requests(seed: int = 0, math_per_template: int = 60) -> dict[tuple[str, str], list[GeneralRequest]]:
    """Every request, grouped by ``(kind, lang)``, each group in a seeded order."""
    groups: dict[tuple[str, str], list[GeneralRequest]] = {}
    makers: list[list[GeneralRequest]] = [
        _writing(),
        _explanation(),
        _advice(),
        _coding(),
        _math(seed, math_per_template),
        _translation(),
        _summarise(),
        _brainstorm(),
        _chat(),
    ]
    for reqs in makers:
        for r in reqs:
            groups.setdefault((r.kind, r.lang), []).append(r)
    for key, reqs in groups.items():
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(reqs)
    return groups


def build_requests(n: int, seed: int = 0, zh_share: float = 0.3) -> list[GeneralRequest]:
    """``n`` requests (fewer when every pool runs dry, at about 900): the kinds in turn, a
    ``zh_share`` of Chinese ones spread evenly, each pool in its seeded order."""
    groups = all_requests(seed)
    pos = dict.fromkeys(groups, 0)
    out: list[GeneralRequest] = []
    zh_due = 0.0
    while len(out) < n:
        added = False
        for kind in KINDS:
            if len(out) == n:
                break
            zh_due += zh_share
            langs = ("zh", "en") if zh_due >= 1 else ("en", "zh")
            for lang in langs:
                key = (kind, lang)
                if key in groups and pos[key] < len(groups[key]):
                    out.append(groups[key][pos[key]])
                    pos[key] += 1
                    added = True
                    if lang == "zh":
                        zh_due -= 1
                    break
        if not added:
            break
    return out


__all__ = ["KINDS", "GeneralRequest", "all_requests", "build_requests", "request_id"]
