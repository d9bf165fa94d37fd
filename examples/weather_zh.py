"""中文天气工具：工具名 ``查询天气``，中文描述与中文参数说明；读数为确定性的模拟数据，不联网。

A weather tool whose *name*, description and parameter descriptions are Chinese.
The parameter names stay ASCII (``city``, ``unit``): models emit ASCII JSON keys most
reliably, while the name and the descriptions carry the language. (Chinese parameter
names work too — Python accepts ``def f(城市: str)`` and calltune handles it; see
tests/test_tools_toolbox.py::test_chinese_tool_name_end_to_end.)

    calltune tools call 查询天气 '{"city": "北京"}' -t examples/weather_zh.py
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from calltune import tool

天气状况 = ["晴", "多云", "小雨", "大风", "小雪", "雾"]


def _reading(city: str) -> tuple[int, str, int]:
    digest = hashlib.sha256(city.strip().casefold().encode("utf-8")).digest()
    return digest[0] % 41 - 5, 天气状况[digest[1] % len(天气状况)], 20 + digest[2] % 71


@tool(name="查询天气")
def query_weather(
    city: Annotated[str, "要查询的城市名称，例如：北京"],
    unit: Annotated[Literal["摄氏度", "华氏度"], "温度单位"] = "摄氏度",
) -> dict:
    """查询指定城市当前的天气（气温、天气状况和湿度）。"""
    celsius, condition, humidity = _reading(city)
    temperature = celsius if unit == "摄氏度" else round(celsius * 9 / 5 + 32, 1)
    return {"城市": city, "气温": temperature, "单位": unit, "天气": condition, "湿度": humidity}


TOOLS = [query_weather]

if __name__ == "__main__":
    import json

    print(json.dumps(query_weather.spec(), indent=2, ensure_ascii=False))
    print(json.dumps(query_weather("北京"), ensure_ascii=False))
