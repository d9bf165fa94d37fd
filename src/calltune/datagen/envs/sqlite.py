"""``sqlite``: a small company's database in an in-memory SQLite connection (AgentTuning's DB task).

Tables (``fresh(seed)`` fills them from the seed): ``departments(id, name, city)``,
``employees(id, name, department_id → departments, title, salary, hire_date)``,
``projects(id, name, department_id → departments, budget, status)`` (status: active, on hold,
done, cancelled) and ``sales(id, employee_id → employees, region, amount, sale_date)``.
Money is in whole units; dates are ``YYYY-MM-DD``.

Tools: ``list_database_tables`` (names and row counts), ``describe_table`` (columns, keys,
row count, sample rows) and ``run_sql_query`` (one statement: a SELECT gives ``columns`` and
``rows``, at most 50 rows and 200 characters a cell, with ``truncated``; INSERT, UPDATE,
DELETE and CREATE give ``rows_affected``). Changes are committed at once.

Safety: the connection never touches a file. ``set_authorizer`` refuses ATTACH/DETACH,
every PRAGMA but a few read-only ones (``table_info``, ``index_list``, ...),
``load_extension`` and the file functions, and virtual tables; the attached-database limit is
0 and ``VACUUM`` is refused; a statement running longer than 2 s is interrupted.

``state()``: ``{"tables": {name: {"columns": [...], "rows": [[...], ...]}}}``, tables by
name, rows sorted.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from typing import Any

from . import EnvTask
from .base import BaseInstance, EnvError
from .templates import Draft, Template, make_tasks, problems, say, template

MAX_ROWS = 50
MAX_CELL = 200
TIME_LIMIT_S = 2.0

_SAFE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
_BAD_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_DENIED = {
    sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH",
    sqlite3.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE",
    sqlite3.SQLITE_DROP_VTABLE: "dropping a virtual table",
}

_DEPARTMENTS = [
    ("Engineering", "Berlin"),
    ("Sales", "Madrid"),
    ("Marketing", "Paris"),
    ("Finance", "London"),
    ("Support", "Lisbon"),
    ("Research", "Zurich"),
    ("Operations", "Warsaw"),
]
_FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Leo",
    "Maya",
    "Nils",
    "Olga",
    "Paul",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
]
_LAST = ["Schmidt", "Garcia", "Martin", "Rossi", "Novak", "Silva", "Berg", "Costa", "Weber", "Kowalski"]
_TITLES = [
    "Engineer",
    "Senior Engineer",
    "Analyst",
    "Manager",
    "Sales Representative",
    "Designer",
    "Accountant",
]
_PROJECT_NAMES = ["Apollo", "Beacon", "Compass", "Dynamo", "Everest", "Fusion", "Gemini", "Horizon", "Ion"]
_STATUSES = ["active", "active", "on hold", "done", "cancelled"]
_REGIONS = ["north", "south", "east", "west"]

_SCHEMA = """
CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, city TEXT NOT NULL);
CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, department_id INTEGER REFERENCES departments(id),
  title TEXT NOT NULL, salary INTEGER NOT NULL, hire_date TEXT NOT NULL);
CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, department_id INTEGER
  REFERENCES departments(id), budget INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE sales (id INTEGER PRIMARY KEY, employee_id INTEGER REFERENCES employees(id), region TEXT NOT NULL,
  amount INTEGER NOT NULL, sale_date TEXT NOT NULL);
"""


def seed_rows(seed: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``fresh(seed)``, table by table."""
    rng = random.Random(f"sqlite:{seed}")
    depts = [(i + 1, n, c) for i, (n, c) in enumerate(rng.sample(_DEPARTMENTS, rng.randint(4, 5)))]
    names = rng.sample([f"{f} {ln}" for f in _FIRST for ln in _LAST], rng.randint(12, 16))
    emps = [
        (
            i + 1,
            name,
            rng.choice(depts)[0],
            rng.choice(_TITLES),
            rng.randint(38, 95) * 1000,
            f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        )
        for i, name in enumerate(names)
    ]
    statuses = ["cancelled", "active", *rng.choices(_STATUSES, k=rng.randint(4, 6))]
    projects = [
        (i + 1, name, rng.choice(depts)[0], rng.randint(2, 40) * 5000, status)
        for i, (name, status) in enumerate(
            zip(rng.sample(_PROJECT_NAMES, len(statuses)), statuses, strict=True)
        )
    ]
    sellers = rng.sample(emps, min(6, len(emps)))
    sales = [
        (
            i + 1,
            rng.choice(sellers)[0],
            rng.choice(_REGIONS),
            rng.randint(5, 120) * 100,
            f"2024-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}",
        )
        for i in range(rng.randint(18, 28))
    ]
    return {"departments": depts, "employees": emps, "projects": projects, "sales": sales}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteInstance(BaseInstance):
    """One in-memory database with its tools; :meth:`close` closes the connection."""

    TOOLS = ("list_database_tables", "describe_table", "run_sql_query")

    def __init__(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        super().__init__()
        self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        for table, values in rows.items():
            marks = ", ".join("?" * len(values[0]))
            self._db.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        self._db.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        self._refused: str | None = None
        self._deadline = 0.0
        self._db.set_authorizer(self._authorize)
        self._db.set_progress_handler(lambda: int(time.monotonic() > self._deadline), 1000)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
    ) -> int:
        refused = _DENIED.get(action)
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() not in _SAFE_PRAGMAS:
            refused = f"PRAGMA {arg1}"
        elif action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _BAD_FUNCTIONS:
            refused = f"the function {arg2}()"
        if refused is None:
            return sqlite3.SQLITE_OK
        self._refused = refused
        return sqlite3.SQLITE_DENY

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        self._refused = None
        self._deadline = time.monotonic() + TIME_LIMIT_S
        try:
            return self._db.execute(sql, params)
        except (sqlite3.Error, sqlite3.Warning) as e:  # Warning: older Pythons' "one statement at a time"
            if "one statement at a time" in str(e):
                raise EnvError(f"{e} Send one SQL statement per call.") from None
            if self._refused is not None:
                raise EnvError(f"refused: {self._refused} is not allowed in this database") from None
            if "interrupted" in str(e):
                raise EnvError(f"the statement ran longer than {TIME_LIMIT_S:g} s and was stopped") from None
            raise EnvError(f"SQL error: {e}") from None

    def _tables(self) -> list[str]:
        cur = self._execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [r[0] for r in cur.fetchall()]

    def _count(self, table: str) -> int:
        return self._execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchone()[0]

    @staticmethod
    def _cell(value: Any) -> Any:
        if isinstance(value, bytes):
            value = value.hex()
        if isinstance(value, str) and len(value) > MAX_CELL:
            return value[:MAX_CELL] + "…"
        return value

    # -- tools -----------------------------------------------------------------------------------
    def list_database_tables(self) -> list[dict[str, Any]]:
        """List the tables of the database with their number of rows."""
        return [{"table": t, "row_count": self._count(t)} for t in self._tables()]

    def describe_table(self, table: str) -> dict[str, Any]:
        """Show a table's columns (name, type, primary key, required), its foreign keys, row count and 3 sample rows.

        Args:
            table: the table's name (e.g. "employees").
        """
        tables = self._tables()
        if table not in tables:
            raise EnvError(f"no table {table!r}; tables: {', '.join(tables)}")
        cols = self._execute(f"PRAGMA table_info({_quote(table)})").fetchall()
        fks = self._execute(f"PRAGMA foreign_key_list({_quote(table)})").fetchall()
        sample = self._execute(f"SELECT * FROM {_quote(table)} LIMIT 3").fetchall()
        return {
            "table": table,
            "columns": [
                {"name": c[1], "type": c[2], "primary_key": bool(c[5]), "required": bool(c[3])} for c in cols
            ],
            "foreign_keys": [{"column": f[3], "references": f"{f[2]}.{f[4]}"} for f in fks],
            "row_count": self._count(table),
            "sample_rows": [[self._cell(v) for v in r] for r in sample],
        }

    def run_sql_query(self, query: str) -> dict[str, Any]:
        """Run one SQL statement: SELECT returns columns and rows (at most 50); INSERT, UPDATE or DELETE changes the data and returns the number of rows affected.

        Args:
            query: one SQLite statement, e.g. "SELECT name, salary FROM employees WHERE department_id = 2".
        """
        if not query.strip():
            raise EnvError("the query is empty")
        if re.match(r"\s*vacuum\b", query, re.IGNORECASE):
            raise EnvError("refused: VACUUM is not allowed in this database")
        cur = self._execute(query)
        if cur.description is None:
            return {"rows_affected": max(cur.rowcount, 0)}
        rows = cur.fetchmany(MAX_ROWS + 1)
        return {
            "columns": [d[0] for d in cur.description],
            "rows": [[self._cell(v) for v in r] for r in rows[:MAX_ROWS]],
            "truncated": len(rows) > MAX_ROWS,
        }

    # -- the protocol ----------------------------------------------------------------------------
    def describe(self) -> str:
        lines = ["A SQLite database of a small company. Tables (columns; → foreign key):"]
        for t in self._tables():
            cols = self._execute(f"PRAGMA table_info({_quote(t)})").fetchall()
            fks = {f[3]: f[2] for f in self._execute(f"PRAGMA foreign_key_list({_quote(t)})").fetchall()}
            shown = ", ".join(c[1] + (f"→{fks[c[1]]}" if c[1] in fks else "") for c in cols)
            lines.append(
                f"- {t}({shown}): {self._count(t)} rows, e.g. "
                + "; ".join(
                    json.dumps(list(r), ensure_ascii=False)
                    for r in self._execute(f"SELECT * FROM {_quote(t)} LIMIT 2")
                )
            )
        return "\n".join(lines)[:1500]

    def state(self) -> dict[str, Any]:
        tables = {}
        for t in self._tables():
            cur = self._execute(f"SELECT * FROM {_quote(t)}")
            rows = sorted((list(r) for r in cur.fetchall()), key=lambda r: json.dumps(r, default=str))
            tables[t] = {"columns": [d[0] for d in cur.description], "rows": rows}
        return {"tables": tables}

    def close(self) -> None:
        self._db.close()


class SqliteEnvironment:
    """The ``sqlite`` environment: a seeded company database per instance."""

    name = "sqlite"

    def fresh(self, seed: int) -> SqliteInstance:
        return SqliteInstance(seed_rows(seed))

    def tasks(self, seed: int, n: int) -> list[EnvTask]:
        inst = self.fresh(seed)
        try:
            return make_tasks(TEMPLATES, inst.state(), seed, n, self.name)
        finally:
            inst.close()


# -- task templates --------------------------------------------------------------------------------
TEMPLATES: list[Template] = []


class _Db:
    """Rows of a ``state()`` snapshot as dicts, by table."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.t = {
            name: [dict(zip(tab["columns"], r, strict=True)) for r in tab["rows"]]
            for name, tab in state["tables"].items()
        }

    def by_id(self, table: str) -> dict[Any, dict[str, Any]]:
        return {r["id"]: r for r in self.t.get(table, [])}

    def dept(self, name: str) -> dict[str, Any] | None:
        return next((d for d in self.t["departments"] if d["name"] == name), None)

    def emp(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.t["employees"] if e["name"] == name]


def _close(a: Any, b: float) -> bool:
    return isinstance(a, int | float) and abs(a - b) < 0.51


def _salaries(end: dict[str, Any], want: dict[int, float]) -> list[str]:
    emps = _Db(end).by_id("employees")
    return [
        f"employee {i} should earn {s:g}, not {emps.get(i, {}).get('salary')}"
        for i, s in want.items()
        if not _close(emps.get(i, {}).get("salary"), s)
    ]


def _cell_is(table: str, row_id: int, column: str, value: Any, what: str) -> Any:
    """A check: ``table``'s row ``row_id`` holds ``value`` in ``column``."""

    def check(end: dict[str, Any]) -> list[str]:
        got = _Db(end).by_id(table).get(row_id, {}).get(column)
        return [] if got == value else [f"{what}'s {column} should be {value!r}, not {got!r}"]

    return check


def _pick_emp(db: _Db, rng: random.Random) -> dict[str, Any]:
    return rng.choice(db.t["employees"])


@template(TEMPLATES, "sequential")
def _t_department_raise(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    dept = rng.choice(db.t["departments"])
    pct = rng.choice([5, 10, 20])
    want = {
        e["id"]: e["salary"] * (1 + pct / 100) if e["department_id"] == dept["id"] else e["salary"]
        for e in db.t["employees"]
    }
    req = say(
        rng,
        zh,
        [
            "Give every employee in the {d} department a {p}% raise.",
            "Increase the salaries of everyone working in {d} by {p} percent.",
        ],
        ["给 {d} 部门的每位员工加薪 {p}%。"],
        d=dept["name"],
        p=pct,
    )
    return Draft(
        req,
        lambda end: _salaries(end, want),
        {"department": dept["name"], "department_id": dept["id"], "percent": pct},
    )


@template(TEMPLATES, "sequential")
def _t_transfer_employee(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    emp = _pick_emp(db, rng)
    dept = rng.choice([d for d in db.t["departments"] if d["id"] != emp["department_id"]])
    req = say(
        rng,
        zh,
        ["Move {e} to the {d} department.", "{e} is joining {d}; update the database."],
        ["把 {e} 调到 {d} 部门。"],
        e=emp["name"],
        d=dept["name"],
    )
    check = _cell_is("employees", emp["id"], "department_id", dept["id"], emp["name"])
    return Draft(req, check, {"employee": emp["name"], "employee_id": emp["id"], "department_id": dept["id"]})


@template(TEMPLATES, "sequential")
def _t_hire_employee(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    taken = {e["name"] for e in db.t["employees"]}
    name = rng.choice([f"{f} {ln}" for f in _FIRST for ln in _LAST if f"{f} {ln}" not in taken])
    dept = rng.choice(db.t["departments"])
    title, salary = rng.choice(_TITLES), rng.randint(40, 90) * 1000
    date = f"2024-{rng.randint(10, 12)}-{rng.randint(1, 28):02d}"
    req = say(
        rng,
        zh,
        [
            "Add {n} as a new {t} in {d} with a salary of {s}, hired on {h}.",
            "We hired {n} on {h} as {t} in the {d} department, salary {s}. Please record it.",
        ],
        ["新增员工 {n}：{d} 部门，职位 {t}，工资 {s}，入职日期 {h}。"],
        n=name,
        t=title,
        d=dept["name"],
        s=salary,
        h=date,
    )
    want = {"name": name, "department_id": dept["id"], "title": title, "salary": salary, "hire_date": date}

    def check(end: dict[str, Any]) -> list[str]:
        rows = _Db(end).emp(name)
        if len(rows) != 1:
            return [f"there should be one employee named {name}, found {len(rows)}"]
        return [
            f"{k} should be {v!r}, not {rows[0].get(k)!r}" for k, v in want.items() if rows[0].get(k) != v
        ]

    return Draft(req, check, want)


@template(TEMPLATES, "single")
def _t_drop_cancelled(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    keep = sorted(p["id"] for p in db.t["projects"] if p["status"] != "cancelled")
    req = say(
        rng,
        zh,
        ["Delete all cancelled projects.", "Remove every project whose status is cancelled."],
        ["删除所有状态为 cancelled 的项目。"],
    )

    def check(end: dict[str, Any]) -> list[str]:
        got = _Db(end).t["projects"]
        return [
            f"project {p['name']} is cancelled and should be deleted"
            for p in got
            if p["status"] == "cancelled"
        ] + (
            []
            if sorted(p["id"] for p in got if p["status"] != "cancelled") == keep
            else ["other projects changed"]
        )

    return Draft(req, check, {"keep": keep})


def _totals(db: _Db, key: str) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for s in db.t["sales"]:
        out[s[key]] = out.get(s[key], 0) + s["amount"]
    return out


@template(TEMPLATES, "sequential")
def _t_top_seller_bonus(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    db = _Db(start)
    ranked = sorted(_totals(db, "employee_id").items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    top = db.by_id("employees")[ranked[0][0]]
    amount = rng.choice([1000, 2500, 5000])
    req = say(
        rng,
        zh,
        [
            "Find the employee with the highest total sales and raise their salary by {a}.",
            "Whoever sold the most in total gets a {a} salary increase. Please apply it.",
        ],
        ["找出销售总额最高的员工，把他的工资提高 {a}。"],
        a=amount,
    )
    return Draft(
        req,
        lambda end: _salaries(end, {top["id"]: top["salary"] + amount}),
        {"employee_id": top["id"], "salary": top["salary"] + amount},
    )


@template(TEMPLATES, "single")
def _t_project_on_hold(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    proj = rng.choice([p for p in db.t["projects"] if p["status"] == "active"])
    budget = max(5000, proj["budget"] // 2 // 1000 * 1000)
    req = say(
        rng,
        zh,
        [
            "Put project {p} on hold and cut its budget to {b}.",
            "Project {p}: set the status to 'on hold' and the budget to {b}.",
        ],
        ["把项目 {p} 的状态改为 on hold，预算改为 {b}。"],
        p=proj["name"],
        b=budget,
    )

    def check(end: dict[str, Any]) -> list[str]:
        got = _Db(end).by_id("projects").get(proj["id"], {})
        return (
            []
            if (got.get("status"), got.get("budget")) == ("on hold", budget)
            else [f"project {proj['name']} should be on hold with budget {budget}, is {got}"]
        )

    return Draft(req, check, {"project": proj["name"], "project_id": proj["id"], "budget": budget})


@template(TEMPLATES, "sequential")
def _t_record_sale(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    emp = _pick_emp(db, rng)
    amount, region = rng.randint(5, 90) * 100, rng.choice(_REGIONS)
    date = f"2024-10-{rng.randint(1, 28):02d}"
    req = say(
        rng,
        zh,
        [
            "Record a sale of {a} made by {e} in the {r} region on {d}.",
            "{e} closed a {a} deal in the {r} region on {d}; add it to the sales table.",
        ],
        ["记录一笔销售：{e} 于 {d} 在 {r} 区域卖出 {a}。"],
        a=amount,
        e=emp["name"],
        r=region,
        d=date,
    )
    n = len(db.t["sales"])

    def check(end: dict[str, Any]) -> list[str]:
        sales = _Db(end).t["sales"]
        hit = [
            s
            for s in sales
            if (s["employee_id"], s["amount"], s["region"], s["sale_date"])
            == (emp["id"], amount, region, date)
        ]
        return problems(
            (bool(hit), f"no sale of {amount} by employee {emp['id']} in {region} on {date}"),
            (len(sales) == n + 1, f"there should be {n + 1} sales, found {len(sales)}"),
        )

    return Draft(req, check, {"employee_id": emp["id"], "amount": amount, "region": region, "date": date})


@template(TEMPLATES, "sequential")
def _t_reassign_and_remove(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    sellers = sorted({s["employee_id"] for s in db.t["sales"]})
    gone = db.by_id("employees")[rng.choice(sellers)]
    heir = rng.choice([e for e in db.t["employees"] if e["id"] != gone["id"]])
    moved = sorted(s["id"] for s in db.t["sales"] if s["employee_id"] == gone["id"])
    req = say(
        rng,
        zh,
        [
            "{a} has left the company: give all of their sales to {b}, then delete {a} from employees.",
            "Reassign every sale of {a} to {b} and remove {a} from the employees table.",
        ],
        ["{a} 已离职：把他的所有销售记录转给 {b}，然后从员工表中删除 {a}。"],
        a=gone["name"],
        b=heir["name"],
    )

    def check(end: dict[str, Any]) -> list[str]:
        d = _Db(end)
        sales = d.by_id("sales")
        return problems(
            (gone["id"] not in d.by_id("employees"), f"{gone['name']} should be deleted"),
            (heir["id"] in d.by_id("employees"), f"{heir['name']} should be kept"),
            (
                all(sales.get(i, {}).get("employee_id") == heir["id"] for i in moved),
                f"sales {moved} should belong to {heir['id']}",
            ),
        )

    return Draft(req, check, {"gone_id": gone["id"], "heir_id": heir["id"], "sales": moved})


@template(TEMPLATES, "multi_turn")
def _t_new_department(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    db = _Db(start)
    names = {d["name"] for d in db.t["departments"]}
    free = [d for d in _DEPARTMENTS if d[0] not in names]
    if not free:
        return None
    new, city = rng.choice(free)
    emp = _pick_emp(db, rng)
    req = say(
        rng,
        zh,
        ["Create a new department called {n} located in {c}.", "Add a {n} department in {c}."],
        ["新建一个名为 {n} 的部门，地点在 {c}。"],
        n=new,
        c=city,
    )
    follow = say(
        rng,
        zh,
        ["Good. Now move {e} into that new department."],
        ["好的，现在把 {e} 调到这个新部门。"],
        e=emp["name"],
    )

    def check(end: dict[str, Any]) -> list[str]:
        d = _Db(end)
        dept = d.dept(new)
        if dept is None or dept["city"] != city:
            return [f"department {new} in {city} is missing"]
        got = d.by_id("employees").get(emp["id"], {}).get("department_id")
        return [] if got == dept["id"] else [f"{emp['name']} should be in {new}"]

    return Draft(req, check, {"department": new, "city": city, "employee_id": emp["id"]}, [follow])


@template(TEMPLATES, "multi_turn")
def _t_lowest_paid_raise(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    db = _Db(start)
    dept = rng.choice(db.t["departments"])
    staff = sorted(
        (e for e in db.t["employees"] if e["department_id"] == dept["id"]), key=lambda e: e["salary"]
    )
    if not staff or (len(staff) > 1 and staff[0]["salary"] == staff[1]["salary"]):
        return None
    low, amount = staff[0], rng.choice([2000, 3000, 4000])
    req = say(
        rng,
        zh,
        ["Who is the lowest-paid employee in {d}?", "Which {d} employee earns the least?"],
        ["{d} 部门工资最低的员工是谁？"],
        d=dept["name"],
    )
    follow = say(rng, zh, ["Please give that person a raise of {a}."], ["给这个人加薪 {a}。"], a=amount)
    return Draft(
        req,
        lambda end: _salaries(end, {low["id"]: low["salary"] + amount}),
        {"employee_id": low["id"], "salary": low["salary"] + amount},
        [follow],
    )


@template(TEMPLATES, "sequential")
def _t_budget_from_region(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    db = _Db(start)
    totals = _totals(db, "region")
    if not totals:
        return None
    region = rng.choice(sorted(totals))
    proj = rng.choice(db.t["projects"])
    req = say(
        rng,
        zh,
        [
            "Set the budget of project {p} to the total sales amount of the {r} region.",
            "Project {p} gets a budget equal to all sales in region {r} combined; update it.",
        ],
        ["把项目 {p} 的预算设为 {r} 区域的销售总额。"],
        p=proj["name"],
        r=region,
    )
    check = _cell_is("projects", proj["id"], "budget", totals[region], f"project {proj['name']}")
    return Draft(req, check, {"project_id": proj["id"], "region": region, "budget": totals[region]})


@template(TEMPLATES, "single")
def _t_change_title(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    db = _Db(start)
    emp = _pick_emp(db, rng)
    title = rng.choice([t for t in _TITLES if t != emp["title"]])
    req = say(
        rng,
        zh,
        ["Change the job title of {e} to {t}.", "{e} was promoted: their title is now {t}."],
        ["把 {e} 的职位改成 {t}。"],
        e=emp["name"],
        t=title,
    )
    return Draft(
        req,
        _cell_is("employees", emp["id"], "title", title, emp["name"]),
        {"employee_id": emp["id"], "title": title},
    )


__all__ = ["SqliteEnvironment", "SqliteInstance", "TEMPLATES", "seed_rows"]
