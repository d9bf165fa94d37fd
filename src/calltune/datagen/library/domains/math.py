"""Mathematics: primes, divisors, factorials, combinatorics, quadratic equations and matrices.

Number theory is sympy's, matrix algebra numpy's.
"""

from __future__ import annotations

import cmath
import math
from typing import Literal

import numpy as np
import sympy

from ....tools import tool
from ._spec import boolean, function_spec, number, string

DOMAIN = "math"

MAX_N = 10**15
MAX_FACTORIAL_N = 170


def _natural(name: str, n: int, low: int = 1, high: int = MAX_N) -> None:
    if not low <= n <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {n}")


def _matrix(name: str, rows: list[list[float]]) -> np.ndarray:
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"{name} must be a non-empty list of rows of equal length")
    return np.array(rows, dtype=float)


def _rows(m: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 6) + 0.0 for v in row] for row in np.atleast_2d(m)]


@tool
def check_prime_number(n: int) -> dict:
    """Whether an integer is prime, with the nearest primes below and above it.

    Args:
        n: The integer to test.
    """
    _natural("n", n, 0)
    return {
        "n": n,
        "is_prime": bool(sympy.isprime(n)),
        "previous_prime": int(sympy.prevprime(n)) if n > 2 else None,
        "next_prime": int(sympy.nextprime(n)),
    }


@tool
def prime_factorization(n: int) -> dict:
    """The prime factors of an integer with their multiplicities.

    Args:
        n: The integer to factor, at least 2.
    """
    _natural("n", n, 2)
    factors = sympy.factorint(n)
    text = " × ".join(f"{p}^{k}" if k > 1 else str(p) for p, k in sorted(factors.items()))
    return {
        "factors": [{"prime": int(p), "exponent": int(k)} for p, k in sorted(factors.items())],
        "product": text,
    }


@tool
def primes_in_range(start: int, end: int, limit: int = 100) -> dict:
    """The prime numbers between two bounds, both included.

    Args:
        start: Lower bound.
        end: Upper bound.
        limit: Most primes to list; the count covers the whole range.
    """
    _natural("start", start, 0)
    _natural("end", end, start, 10**7)
    primes = list(sympy.primerange(start, end + 1))
    return {
        "count": len(primes),
        "primes": [int(p) for p in primes[:limit]],
        "truncated": len(primes) > limit,
    }


@tool
def greatest_common_divisor(numbers: list[int]) -> dict:
    """The greatest common divisor of two or more integers.

    Args:
        numbers: The integers.
    """
    if len(numbers) < 2:
        raise ValueError("give at least two numbers")
    return {"gcd": math.gcd(*numbers)}


@tool
def least_common_multiple(numbers: list[int]) -> dict:
    """The least common multiple of two or more integers.

    Args:
        numbers: The integers.
    """
    if len(numbers) < 2:
        raise ValueError("give at least two numbers")
    return {"lcm": math.lcm(*numbers)}


@tool
def factorial_and_double_factorial(n: int) -> dict:
    """n! and n!! (the product of every second integer down from n) of a non-negative integer.

    Args:
        n: The integer, at most 170.
    """
    _natural("n", n, 0, MAX_FACTORIAL_N)
    return {"n": n, "factorial": str(math.factorial(n)), "double_factorial": str(sympy.factorial2(n))}


@tool
def count_combinations(n: int, k: int, with_repetition: bool = False) -> dict:
    """In how many ways k items can be chosen from n when order does not matter.

    Args:
        n: Number of items to choose from.
        k: Number of items chosen.
        with_repetition: Whether an item may be chosen more than once.
    """
    _natural("n", n, 0, 10**6)
    _natural("k", k, 0, 10**6)
    ways = math.comb(n + k - 1, k) if with_repetition else math.comb(n, k)
    return {"combinations": str(ways)}


@tool
def count_permutations(n: int, k: int | None = None) -> dict:
    """In how many ordered ways k items can be arranged out of n (all n when k is left out).

    Args:
        n: Number of items.
        k: Number of positions to fill.
    """
    _natural("n", n, 0, 10**6)
    if k is not None:
        _natural("k", k, 0, n)
    return {"permutations": str(math.perm(n, k))}


@tool
def quadratic_equation_roots(a: float, b: float, c: float) -> dict:
    """Roots of a·x² + b·x + c = 0, real or complex, with the discriminant and the vertex.

    Args:
        a: Coefficient of x squared, not zero.
        b: Coefficient of x.
        c: Constant term.
    """
    if a == 0:
        raise ValueError("a must not be zero: that is a linear equation")
    disc = b * b - 4 * a * c
    root = cmath.sqrt(disc)
    roots = [(-b + root) / (2 * a), (-b - root) / (2 * a)]

    def show(z: complex) -> float | str:
        return round(z.real, 6) if abs(z.imag) < 1e-12 else f"{z.real:.6g}{z.imag:+.6g}i"

    return {
        "discriminant": disc,
        "root_type": "two real" if disc > 0 else "one real (double)" if disc == 0 else "two complex",
        "roots": [show(z) for z in roots],
        "vertex": {"x": round(-b / (2 * a), 6), "y": round(c - b * b / (4 * a), 6)},
    }


@tool
def matrix_multiply(left: list[list[float]], right: list[list[float]]) -> dict:
    """The product of two matrices given as lists of rows.

    Args:
        left: The left matrix.
        right: The right matrix; its row count must equal the left matrix's column count.
    """
    a, b = _matrix("left", left), _matrix("right", right)
    if a.shape[1] != b.shape[0]:
        raise ValueError(
            f"cannot multiply a {a.shape[0]}x{a.shape[1]} matrix by a {b.shape[0]}x{b.shape[1]} one"
        )
    return {"product": _rows(a @ b)}


@tool
def matrix_properties(
    matrix: list[list[float]],
    include: list[Literal["determinant", "inverse", "transpose", "rank", "trace"]] | None = None,
) -> dict:
    """Determinant, inverse, transpose, rank and trace of a matrix (those that apply to its shape).

    Args:
        matrix: The matrix as a list of rows.
        include: Which properties to return; all that apply when left out.
    """
    m = _matrix("matrix", matrix)
    wanted = include or ["determinant", "inverse", "transpose", "rank", "trace"]
    square = m.shape[0] == m.shape[1]
    if not square and set(wanted) & {"determinant", "inverse", "trace"} and include:
        raise ValueError("determinant, inverse and trace need a square matrix")
    out: dict = {"rows": m.shape[0], "columns": m.shape[1]}
    if "transpose" in wanted:
        out["transpose"] = _rows(m.T)
    if "rank" in wanted:
        out["rank"] = int(np.linalg.matrix_rank(m))
    if square and "trace" in wanted:
        out["trace"] = round(float(np.trace(m)), 6)
    if square and ("determinant" in wanted or "inverse" in wanted):
        det = float(np.linalg.det(m))
        if "determinant" in wanted:
            out["determinant"] = round(det, 6)
        if "inverse" in wanted:
            out["inverse"] = None if abs(det) < 1e-12 else _rows(np.linalg.inv(m))
    return out


@tool
def fibonacci_numbers(count: int, first: int = 0, second: int = 1) -> dict:
    """The first terms of a Fibonacci-style sequence, where each term is the sum of the two before it.

    Args:
        count: How many terms, at most 200.
        first: The first term.
        second: The second term.
    """
    _natural("count", count, 1, 200)
    terms = [first, second]
    while len(terms) < count:
        terms.append(terms[-1] + terms[-2])
    return {"terms": terms[:count]}


@tool
def list_divisors(n: int, proper: bool = False) -> dict:
    """Every positive divisor of an integer, their count and their sum, and whether the number is perfect.

    Args:
        n: A positive integer.
        proper: Leave out the number itself.
    """
    _natural("n", n, 1, 10**12)
    divisors = [int(d) for d in sympy.divisors(n)]
    is_perfect = sum(divisors) - n == n
    if proper:
        divisors = divisors[:-1]
    return {"divisors": divisors, "count": len(divisors), "sum": sum(divisors), "is_perfect": is_perfect}


TOOLS = [
    check_prime_number,
    prime_factorization,
    primes_in_range,
    greatest_common_divisor,
    least_common_multiple,
    factorial_and_double_factorial,
    count_combinations,
    count_permutations,
    quadratic_equation_roots,
    matrix_multiply,
    matrix_properties,
    fibonacci_numbers,
    list_divisors,
]

SPECS = [
    function_spec(
        "plot_function_graph",
        "Draw the graph of a mathematical function over an interval and return a link to the image.",
        {
            "expression": string("The function of x to draw."),
            "x_min": number("Left end of the interval."),
            "x_max": number("Right end of the interval."),
            "show_grid": boolean("Draw grid lines.", default=True),
            "image_format": string("Image file type.", enum=["png", "svg"], default="png"),
        },
        ["expression", "x_min", "x_max"],
    ),
]
