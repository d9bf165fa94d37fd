"""BFCL's own AST checker, imported without bfcl-eval's heavy dependency set.

``bfcl_eval.eval_checker.ast_eval.ast_checker`` imports
``bfcl_eval.constants.model_config``, which imports every model handler BFCL
ships (and with them dozens of API client packages). The checker only reads
``MODEL_CONFIG_MAPPING[model_name].underscore_to_dot`` from it, so a small
stand-in module is registered under that name before the checker is imported
(DESIGN.md §5). Verdicts are then exactly the leaderboard's.

calltune maps sanitised tool names (``math_factorial``) back to BFCL's names
(``math.factorial``) itself before calling the checker, so the stand-in answers
``underscore_to_dot=False`` for every model name.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

from ..errors import CalltuneError

CHECKER_MODEL_NAME = "calltune"

#: categories judged by "no call made" / "at least one call made" instead of the AST checker
IRRELEVANCE_CATEGORIES = ("irrelevance", "live_irrelevance")
RELEVANCE_CATEGORIES = ("live_relevance",)


class CheckerUnavailableError(CalltuneError, ImportError):
    """bfcl-eval is not installed (``pip install --no-deps bfcl-eval``)."""


@dataclass
class _StandInModelConfig:
    model_name: str = CHECKER_MODEL_NAME
    underscore_to_dot: bool = False


class _StandInMapping(dict):
    """Every model name resolves to a config with ``underscore_to_dot=False``."""

    def __missing__(self, key: str) -> _StandInModelConfig:
        return _StandInModelConfig(model_name=key)


def _install_model_config_stand_in() -> None:
    name = "bfcl_eval.constants.model_config"
    if name in sys.modules:
        return
    mod = types.ModuleType(name)
    mod.__doc__ = (
        "calltune stand-in: only MODEL_CONFIG_MAPPING[...].underscore_to_dot is read by the AST checker"
    )
    mod.ModelConfig = _StandInModelConfig  # type: ignore[attr-defined]
    mod.MODEL_CONFIG_MAPPING = _StandInMapping()  # type: ignore[attr-defined]
    sys.modules[name] = mod


_checker: Any = None
_language: Any = None


def load_ast_checker() -> tuple[Any, Any]:
    """Return ``(ast_checker, Language)`` from bfcl-eval, installing the stand-in first."""
    global _checker, _language
    if _checker is None:
        try:
            import bfcl_eval.constants  # noqa: F401  (the package itself is light)
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise CheckerUnavailableError(
                "BFCL evaluation needs bfcl-eval: pip install --no-deps bfcl-eval"
            ) from e
        _install_model_config_stand_in()
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

        _checker, _language = ast_checker, Language
    return _checker, _language


_utils: Any = None


def load_bfcl_utils() -> Any:
    """``bfcl_eval.utils`` (the data preparation of BFCL's own inference), stand-in first."""
    global _utils
    if _utils is None:
        load_ast_checker()
        import bfcl_eval.utils as utils

        _utils = utils
    return _utils


@dataclass
class Verdict:
    """BFCL's judgement of one case: ``valid`` and, when not, its ``error_type`` and messages."""

    valid: bool
    error_type: str | None = None
    errors: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "error_type": self.error_type, "errors": self.errors}


def calls_to_bfcl(calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, dict[str, Any]]]:
    """``[(name, arguments)]`` → BFCL's decoded model output ``[{name: {param: value}}]``."""
    return [{name: dict(args)} for name, args in calls]


def check_case(
    category: str,
    functions: list[dict[str, Any]],
    calls: list[tuple[str, dict[str, Any]]],
    possible_answer: list[dict[str, Any]] | None,
) -> Verdict:
    """Judge one BFCL case as the leaderboard does.

    ``functions``: the case's BFCL function docs (original names, BFCL types).
    ``calls``: what the model called, names already mapped back to BFCL's names.
    ``possible_answer``: the case's ``ground_truth`` (None for irrelevance categories).
    Irrelevance categories are correct when no call is made; ``live_relevance`` when
    at least one is; every other category goes through ``ast_checker`` (in Java's or
    JavaScript's conventions for ``simple_java``/``simple_javascript``: every argument is a
    string in that language's syntax, converted by the checker).
    Error types use BFCL's names (``ast_decoder:decoder_failed`` when no call could be
    decoded, ``irrelevance_error:decoder_success`` when a call was made where none fits).
    """
    base = category.removeprefix("live_")
    if category in IRRELEVANCE_CATEGORIES or base == "irrelevance":
        if calls:
            return Verdict(
                False,
                "irrelevance_error:decoder_success",
                ["Valid syntax. Successfully decode AST when it should not."],
            )
        return Verdict(True)
    if category in RELEVANCE_CATEGORIES:
        if not calls:
            return Verdict(
                False, "relevance_error:decoder_failed", ["No function call decoded when it should have."]
            )
        return Verdict(True)
    if possible_answer is None:
        raise ValueError(f"category {category!r} needs a possible answer to be judged")
    if not calls:
        return Verdict(
            False, "ast_decoder:decoder_failed", ["Invalid syntax. Failed to decode AST: no function call."]
        )
    for name, args in calls:
        if not isinstance(args, dict):
            return Verdict(
                False, "ast_decoder:decoder_wrong_output_format", [f"arguments of {name!r} are not an object"]
            )
    ast_checker, language = load_ast_checker()
    lang = {"simple_java": language.JAVA, "simple_javascript": language.JAVASCRIPT}.get(
        category, language.PYTHON
    )
    try:
        res = ast_checker(
            functions,
            calls_to_bfcl(calls),
            possible_answer,
            lang,
            category,
            CHECKER_MODEL_NAME,
        )
    except Exception as e:  # the checker can trip over odd outputs (e.g. a list where a dict belongs)
        return Verdict(False, "checker:exception", [f"{type(e).__name__}: {e}"])
    if res.get("valid"):
        return Verdict(True)
    return Verdict(False, res.get("error_type") or "unknown", list(res.get("error") or []))
