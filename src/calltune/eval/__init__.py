"""BFCL evaluation with BFCL's own checker: data, converter, systems under test, runner, reports."""

from .bfcl_checker import Verdict, check_case
from .bfcl_data import (
    AST_CATEGORIES,
    DEFAULT_CATEGORIES,
    BfclCase,
    load_cases,
    load_category,
    parse_categories,
)
from .convert import bfcl_to_tool, bfcl_to_tools, map_calls_back
from .report import compare_runs, load_run, summarize, write_report
from .runner import run_bfcl
from .systems import CalltuneSystem, LlamaCppNativeSystem, OpenAIEndpointSystem, SystemOutput

__all__ = [
    "AST_CATEGORIES",
    "DEFAULT_CATEGORIES",
    "BfclCase",
    "CalltuneSystem",
    "LlamaCppNativeSystem",
    "OpenAIEndpointSystem",
    "SystemOutput",
    "Verdict",
    "bfcl_to_tool",
    "bfcl_to_tools",
    "check_case",
    "compare_runs",
    "load_cases",
    "load_category",
    "load_run",
    "map_calls_back",
    "parse_categories",
    "run_bfcl",
    "summarize",
    "write_report",
]
