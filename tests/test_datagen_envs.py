"""The datagen environments: seeded state, tools and their refusals, task templates and their checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from calltune.datagen.envs import ENVIRONMENTS, EnvTask, get_environment
from calltune.datagen.envs import files as files_env
from calltune.datagen.envs import shop as shop_env
from calltune.datagen.envs import sqlite as sqlite_env
from calltune.errors import CalltuneError

ENVS = sorted(ENVIRONMENTS)
MODULES = {"files": files_env, "sqlite": sqlite_env, "shop": shop_env}


def _run(instance: Any, name: str, args: dict[str, Any]) -> Any:
    return instance.toolbox().execute({"name": name, "arguments": args})


def call_ok(instance: Any) -> Callable[[str, dict[str, Any]], Any]:
    """A call function for solutions: runs a tool, asserts it worked, returns the parsed result."""

    def call(name: str, args: dict[str, Any]) -> Any:
        obs = _run(instance, name, args)
        assert obs.ok, f"{name}({args}) failed: {obs.content}"
        try:
            return json.loads(obs.content)
        except json.JSONDecodeError:
            return obs.content

    return call


# -- the seeded state ----------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVS)
def test_fresh_is_deterministic_and_seeds_differ(env: str) -> None:
    e = get_environment(env)
    a, b, c = e.fresh(7), e.fresh(7), e.fresh(8)
    assert a.state() == b.state()
    assert a.describe() == b.describe()
    assert a.state() != c.state()
    assert json.loads(json.dumps(a.state(), ensure_ascii=False)) == a.state()
    for seed in range(5):
        text = e.fresh(seed).describe()
        assert 100 < len(text) <= 1500
    for inst in (a, b, c):
        inst.close()


def test_instances_share_nothing() -> None:
    e = get_environment("files")
    a, b = e.fresh(1), e.fresh(1)
    assert _run(a, "delete_path", {"path": "notes", "recursive": True}).ok
    assert a.state() != b.state()
    assert "notes/todo.md" in b.state()["files"]


def test_unknown_environment() -> None:
    with pytest.raises(CalltuneError, match="known: files, shop, sqlite"):
        get_environment("bank")


def test_toolboxes_are_sequential_with_specs() -> None:
    for env in ENVS:
        box = get_environment(env).fresh(0).toolbox()
        assert box.sequential
        for spec in box.specs():
            fn = spec["function"]
            assert fn["description"] and "_" in fn["name"] and fn["name"].islower()
            for prop in fn["parameters"].get("properties", {}).values():
                assert prop.get("description"), (fn["name"], prop)


# -- every tool: a valid call, and a clear error on bad input --------------------------------------
VALID = [
    ("files", "list_folder", {"path": "/"}, '"name": "notes"'),
    ("files", "read_text_file", {"path": "/notes/todo.md"}, "# To do"),
    ("files", "write_text_file", {"path": "reports/a.txt", "content": "hi"}, "wrote 2 bytes"),
    ("files", "append_to_text_file", {"path": "notes/todo.md", "content": "- x"}, "appended 3 bytes"),
    ("files", "make_folder", {"path": "a/b/c"}, "created folder a/b/c"),
    (
        "files",
        "move_path",
        {"source": "notes/todo.md", "destination": "reports"},
        "moved notes/todo.md to reports/todo.md",
    ),
    ("files", "copy_path", {"source": "data", "destination": "data_copy"}, "(2 files)"),
    ("files", "delete_path", {"path": "logs", "recursive": True}, "and 3 files in it"),
    ("files", "search_file_contents", {"text": "PORT", "folder": "config"}, '"path": "config/app.ini"'),
    ("files", "get_file_info", {"path": "config/app.ini"}, '"lines": 8'),
    ("sqlite", "list_database_tables", {}, '{"table": "employees", "row_count":'),
    ("sqlite", "describe_table", {"table": "employees"}, '"references": "departments.id"'),
    ("sqlite", "run_sql_query", {"query": "SELECT COUNT(*) AS n FROM departments"}, '"columns": ["n"]'),
    ("sqlite", "run_sql_query", {"query": "DELETE FROM sales"}, '"rows_affected": '),
    (
        "shop",
        "search_product_catalog",
        {"category": "Kitchen", "in_stock_only": True},
        '"category": "kitchen"',
    ),
    ("shop", "lookup_customer", {"query": "customer101@example.com"}, '"id": "C-101"'),
    ("shop", "list_customer_orders", {"customer_id": "c-101", "status": "placed"}, '"status": "placed"'),
    ("shop", "get_order_status", {"order_id": "O-5001"}, '"customer_id": "C-101"'),
    (
        "shop",
        "place_customer_order",
        {"customer_id": "C-102", "items": [{"sku": "P-201"}]},
        '"status": "placed"',
    ),
    ("shop", "cancel_customer_order", {"order_id": "O-5001"}, '"status": "cancelled"'),
    ("shop", "issue_refund", {"order_id": "O-5004", "reason": "broken", "amount": 1}, '"amount": 1.0'),
    ("shop", "update_product_stock", {"sku": "P-201", "change": 3}, '"sku": "P-201"'),
]

BAD = [
    ("files", "list_folder", {"path": "nowhere"}, "no folder 'nowhere'"),
    ("files", "read_text_file", {"path": "notes"}, "is a folder, not a file"),
    ("files", "read_text_file", {"path": "notes/none.md"}, "no file 'notes/none.md'"),
    (
        "files",
        "write_text_file",
        {"path": "missing/x.txt", "content": "x"},
        "folder 'missing' does not exist",
    ),
    ("files", "write_text_file", {"path": "notes", "content": "x"}, "is a folder"),
    ("files", "append_to_text_file", {"path": "logs", "content": "x"}, "is a folder"),
    ("files", "make_folder", {"path": "notes/todo.md/x"}, "is a file"),
    ("files", "move_path", {"source": "nope.txt", "destination": "x"}, "no file or folder 'nope.txt'"),
    ("files", "move_path", {"source": "notes/todo.md", "destination": "config/app.ini"}, "already exists"),
    ("files", "copy_path", {"source": "notes", "destination": "notes/inner"}, "inside itself"),
    ("files", "delete_path", {"path": "logs"}, "is not empty"),
    ("files", "delete_path", {"path": "/"}, "root folder cannot be deleted"),
    ("files", "search_file_contents", {"text": ""}, "must not be empty"),
    ("files", "get_file_info", {"path": "ghost"}, "no file or folder 'ghost'"),
    ("files", "get_file_info", {}, "invalid arguments"),
    ("sqlite", "list_database_tables", {"x": 1}, "invalid arguments"),
    ("sqlite", "describe_table", {"table": "staff"}, "no table 'staff'; tables: departments, employees"),
    ("sqlite", "run_sql_query", {"query": "  "}, "the query is empty"),
    ("sqlite", "run_sql_query", {"query": "SELEC name FROM employees"}, "syntax error"),
    ("sqlite", "run_sql_query", {"query": "SELECT 1; SELECT 2"}, "Send one SQL statement per call"),
    ("sqlite", "run_sql_query", {"query": "UPDATE staff SET x = 1"}, "no such table: staff"),
    ("shop", "search_product_catalog", {"max_price": "cheap"}, "invalid arguments"),
    ("shop", "lookup_customer", {"query": "Nobody Atall"}, "no customer matches"),
    ("shop", "list_customer_orders", {"customer_id": "C-999"}, "no customer 'C-999'"),
    ("shop", "get_order_status", {"order_id": "O-1"}, "no order 'O-1'"),
    (
        "shop",
        "place_customer_order",
        {"customer_id": "C-101", "items": [{"sku": "P-999"}]},
        "no product 'P-999'",
    ),
    (
        "shop",
        "place_customer_order",
        {"customer_id": "C-101", "items": [{"sku": "P-201", "quantity": 999}]},
        "in stock, 999 asked for",
    ),
    (
        "shop",
        "place_customer_order",
        {"customer_id": "C-101", "items": [{"sku": "P-201", "quantity": 0}]},
        "minimum of 1",
    ),
    ("shop", "place_customer_order", {"customer_id": "C-101", "items": []}, "at least one item"),
    ("shop", "cancel_customer_order", {"order_id": "O-5004"}, "is delivered and can no longer be cancelled"),
    ("shop", "issue_refund", {"order_id": "O-5001", "reason": "x"}, "only delivered orders can be refunded"),
    ("shop", "issue_refund", {"order_id": "O-5004", "reason": "x", "amount": 99999}, "can still be refunded"),
    ("shop", "issue_refund", {"order_id": "O-5004", "reason": "x", "amount": -5}, "must be positive"),
    ("shop", "update_product_stock", {"sku": "P-201", "change": -99999}, "cannot go below zero"),
    ("shop", "update_product_stock", {"sku": "P-201", "change": 0}, "must not be zero"),
]


@pytest.mark.parametrize(
    ("env", "name", "args", "expect"), VALID, ids=[f"{v[0]}-{v[1]}-{i}" for i, v in enumerate(VALID)]
)
def test_tool_valid_call(env: str, name: str, args: dict[str, Any], expect: str) -> None:
    obs = _run(get_environment(env).fresh(0), name, args)
    assert obs.ok, obs.content
    assert expect in obs.content


@pytest.mark.parametrize(
    ("env", "name", "args", "expect"), BAD, ids=[f"{v[0]}-{v[1]}-{i}" for i, v in enumerate(BAD)]
)
def test_tool_bad_input(env: str, name: str, args: dict[str, Any], expect: str) -> None:
    inst = get_environment(env).fresh(0)
    before = inst.state()
    obs = _run(inst, name, args)
    assert not obs.ok
    assert expect in obs.content, obs.content
    assert inst.state() == before  # a refused call changes nothing


def test_every_tool_is_exercised() -> None:
    for env in ENVS:
        names = set(get_environment(env).fresh(0).toolbox().names())
        assert names == {v[1] for v in VALID if v[0] == env} == {b[1] for b in BAD if b[0] == env}


# -- the file system: no way out of the root -------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["../x", "/../etc/passwd", "notes/../../x", "notes\\..\\..\\x", "~/x", "a\x00b"]
)
def test_files_paths_cannot_escape(path: str) -> None:
    inst = get_environment("files").fresh(0)
    before = inst.state()
    for name, args in [
        ("read_text_file", {"path": path}),
        ("write_text_file", {"path": path, "content": "x"}),
        ("list_folder", {"path": path}),
        ("make_folder", {"path": path}),
        ("delete_path", {"path": path, "recursive": True}),
        ("copy_path", {"source": "notes/todo.md", "destination": path}),
        ("move_path", {"source": path, "destination": "notes"}),
    ]:
        obs = _run(inst, name, args)
        assert not obs.ok and ("leaves the root" in obs.content or "invalid path" in obs.content), (
            name,
            obs.content,
        )
    assert inst.state() == before


def test_files_paths_inside_are_normalised() -> None:
    inst = get_environment("files").fresh(0)
    call = call_ok(inst)
    assert (
        call("read_text_file", {"path": "./logs/../notes//todo.md"}) == inst.state()["files"]["notes/todo.md"]
    )
    call("make_folder", {"path": "archive"})
    call("move_path", {"source": "notes", "destination": "archive/"})
    state = inst.state()
    assert "archive/notes/todo.md" in state["files"] and "notes" not in state["folders"]
    assert "archive/notes" in state["folders"]


# -- sqlite: no files, no attached databases, no extensions ----------------------------------------
@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("ATTACH DATABASE '{db}' AS other", "refused: ATTACH"),
        ("VACUUM INTO '{db}'", "refused: VACUUM"),
        ("PRAGMA writable_schema = 1", "refused: PRAGMA writable_schema"),
        ("PRAGMA journal_mode = WAL", "refused: PRAGMA journal_mode"),
        ("SELECT load_extension('{db}')", "refused: the function load_extension()"),
        ("CREATE VIRTUAL TABLE t USING fts5(body)", "refused: CREATE VIRTUAL TABLE"),
    ],
)
def test_sqlite_refuses_files_and_extensions(tmp_path: Any, query: str, expect: str) -> None:
    db = tmp_path / "other.db"
    inst = get_environment("sqlite").fresh(0)
    obs = _run(inst, "run_sql_query", {"query": query.format(db=db)})
    assert not obs.ok and expect in obs.content, obs.content
    assert not db.exists() and list(tmp_path.iterdir()) == []
    assert _run(inst, "run_sql_query", {"query": "PRAGMA table_info(sales)"}).ok  # read-only pragmas stay


def test_sqlite_caps_rows_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = get_environment("sqlite").fresh(0)
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 80) SELECT x, printf('%.300c', 'a') FROM c"
    out = call_ok(inst)("run_sql_query", {"query": many})
    assert len(out["rows"]) == sqlite_env.MAX_ROWS and out["truncated"]
    assert len(out["rows"][0][1]) == sqlite_env.MAX_CELL + 1
    monkeypatch.setattr(sqlite_env, "TIME_LIMIT_S", 0.2)
    forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
    obs = _run(inst, "run_sql_query", {"query": forever})
    assert not obs.ok and "was stopped" in obs.content
    assert _run(inst, "run_sql_query", {"query": "SELECT 1"}).ok


def test_sqlite_writes_persist_and_close() -> None:
    inst = get_environment("sqlite").fresh(0)
    call = call_ok(inst)
    call("run_sql_query", {"query": "INSERT INTO departments (name, city) VALUES ('Legal', 'Rome')"})
    rows = inst.state()["tables"]["departments"]["rows"]
    assert any(r[1:] == ["Legal", "Rome"] for r in rows)
    inst.close()
    with pytest.raises(Exception, match="closed"):
        inst.state()


def test_shop_cancel_puts_stock_back() -> None:
    inst = get_environment("shop").fresh(0)
    call = call_ok(inst)
    before = {p["sku"]: p["stock"] for p in inst.state()["products"]}
    order = call(
        "place_customer_order", {"customer_id": "C-103", "items": [{"sku": "P-201"}, {"sku": "P-201"}]}
    )
    assert order["items"] == [
        {
            "sku": "P-201",
            "quantity": 2,
            "unit_price": order["items"][0]["unit_price"],
            "name": order["items"][0]["name"],
        }
    ]
    assert {p["sku"]: p["stock"] for p in inst.state()["products"]}["P-201"] == before["P-201"] - 2
    call("cancel_customer_order", {"order_id": order["id"]})
    assert {p["sku"]: p["stock"] for p in inst.state()["products"]} == before
    again = _run(inst, "cancel_customer_order", {"order_id": order["id"]})
    assert not again.ok and "is cancelled" in again.content


def test_shop_refunds_add_up_to_the_total() -> None:
    inst = get_environment("shop").fresh(0)
    call = call_ok(inst)
    order = call("get_order_status", {"order_id": "O-5004"})
    call("issue_refund", {"order_id": "O-5004", "reason": "part", "amount": 1})
    rest = call("issue_refund", {"order_id": "O-5004", "reason": "rest"})
    assert abs(rest["amount"] - (order["total"] - 1)) < 0.005 and rest["order_status"] == "refunded"
    assert [r["id"] for r in inst.state()["refunds"]] == ["R-1", "R-2"]


# -- task templates: a correct call sequence passes the check, doing nothing fails it --------------
Solve = Callable[[Callable[[str, dict[str, Any]], Any], dict[str, Any]], None]


def _sql(call: Callable[..., Any], *queries: str) -> list[Any]:
    return [call("run_sql_query", {"query": q}) for q in queries]


def _errors_in(call: Callable[..., Any], path: str) -> int:
    found = call("search_file_contents", {"text": "ERROR", "folder": "logs", "case_sensitive": True})
    return sum(m["path"] == path for m in found["matches"])


def _solve_count_errors(call: Callable[..., Any], p: dict[str, Any]) -> None:
    call("write_text_file", {"path": p["out"], "content": f"{_errors_in(call, p['log'])}\n"})


def _solve_delete_clean_logs(call: Callable[..., Any], p: dict[str, Any]) -> None:
    listing = call("list_folder", {"path": "logs"})
    for entry in listing["entries"]:
        path = f"logs/{entry['name']}"
        if _errors_in(call, path) == 0:
            call("delete_path", {"path": path})


def _solve_largest_log(call: Callable[..., Any], p: dict[str, Any]) -> None:
    entries = call("list_folder", {"path": "logs"})["entries"]
    biggest = max(entries, key=lambda e: e["size_bytes"])["name"]
    call("copy_path", {"source": f"logs/{biggest}", "destination": "reports"})


def _solve_top_seller(call: Callable[..., Any], p: dict[str, Any]) -> None:
    (top,) = _sql(
        call, "SELECT employee_id, SUM(amount) AS t FROM sales GROUP BY employee_id ORDER BY t DESC LIMIT 1"
    )
    emp = top["rows"][0][0]
    _sql(call, f"UPDATE employees SET salary = {p['salary']} WHERE id = {emp}")


def _solve_cancel_open(call: Callable[..., Any], p: dict[str, Any]) -> None:
    for o in call("list_customer_orders", {"customer_id": p["customer_id"], "status": "placed"}):
        call("cancel_customer_order", {"order_id": o["id"]})


def _solve_order_then_cancel(call: Callable[..., Any], p: dict[str, Any]) -> None:
    order = call(
        "place_customer_order", {"customer_id": p["customer_id"], "items": [{"sku": p["sku"], "quantity": 2}]}
    )
    call("cancel_customer_order", {"order_id": order["id"], "reason": "changed their mind"})


def _solve_reorder(call: Callable[..., Any], p: dict[str, Any]) -> None:
    old = call("get_order_status", {"order_id": p["order_id"]})
    items = [{"sku": it["sku"], "quantity": it["quantity"]} for it in old["items"]]
    call("place_customer_order", {"customer_id": old["customer_id"], "items": items})


def _solve_status_refund(call: Callable[..., Any], p: dict[str, Any]) -> None:
    assert call("get_order_status", {"order_id": p["order_id"]})["status"] == "delivered"
    call("issue_refund", {"order_id": p["order_id"], "reason": "not happy"})


SOLUTIONS: dict[tuple[str, str], Solve] = {
    ("files", "backup_copy"): lambda call, p: [
        call("make_folder", {"path": "backup"}),
        call("copy_path", {"source": p["source"], "destination": "backup"}),
    ],
    ("files", "count_errors"): _solve_count_errors,
    ("files", "rename_note"): lambda call, p: call(
        "move_path", {"source": p["source"], "destination": p["new"]}
    ),
    ("files", "archive_csvs"): lambda call, p: [
        call("make_folder", {"path": "data/archive"}),
        *(call("move_path", {"source": f, "destination": "data/archive/"}) for f in p["files"]),
    ],
    ("files", "append_todo"): lambda call, p: call(
        "append_to_text_file", {"path": "notes/todo.md", "content": f"- {p['item']}\n"}
    ),
    ("files", "config_port"): lambda call, p: call(
        "write_text_file", {"path": p["out"], "content": f"port: {p['port']}"}
    ),
    ("files", "delete_clean_logs"): _solve_delete_clean_logs,
    ("files", "find_note_copy"): lambda call, p: [
        call("make_folder", {"path": "shared"}),
        call(
            "copy_path",
            {
                "source": call("search_file_contents", {"text": p["project"], "folder": "notes"})["matches"][
                    0
                ]["path"],
                "destination": "shared",
            },
        ),
    ],
    ("files", "new_project"): lambda call, p: [
        call("make_folder", {"path": f"projects/{p['first']}"}),
        call("write_text_file", {"path": f"projects/{p['first']}/README.md", "content": p["line"] + "\n"}),
        call("move_path", {"source": f"projects/{p['first']}", "destination": f"projects/{p['second']}"}),
    ],
    ("files", "info_then_archive"): lambda call, p: [
        call("get_file_info", {"path": p["file"]}),
        call("make_folder", {"path": "archive"}),
        call("move_path", {"source": p["file"], "destination": "archive"}),
    ],
    ("files", "largest_log_copy"): _solve_largest_log,
    ("files", "sales_total"): lambda call, p: call(
        "write_text_file", {"path": p["out"], "content": f"Total: {p['total']:,}"}
    ),
    ("sqlite", "department_raise"): lambda call, p: _sql(
        call,
        f"UPDATE employees SET salary = salary * {1 + p['percent'] / 100} "
        f"WHERE department_id = (SELECT id FROM departments WHERE name = '{p['department']}')",
    ),
    ("sqlite", "transfer_employee"): lambda call, p: _sql(
        call, f"UPDATE employees SET department_id = {p['department_id']} WHERE id = {p['employee_id']}"
    ),
    ("sqlite", "hire_employee"): lambda call, p: _sql(
        call,
        "INSERT INTO employees (name, department_id, title, salary, hire_date) VALUES "
        f"('{p['name']}', {p['department_id']}, '{p['title']}', {p['salary']}, '{p['hire_date']}')",
    ),
    ("sqlite", "drop_cancelled"): lambda call, p: _sql(
        call, "DELETE FROM projects WHERE status = 'cancelled'"
    ),
    ("sqlite", "top_seller_bonus"): _solve_top_seller,
    ("sqlite", "project_on_hold"): lambda call, p: _sql(
        call, f"UPDATE projects SET status = 'on hold', budget = {p['budget']} WHERE id = {p['project_id']}"
    ),
    ("sqlite", "record_sale"): lambda call, p: _sql(
        call,
        "INSERT INTO sales (employee_id, region, amount, sale_date) VALUES "
        f"({p['employee_id']}, '{p['region']}', {p['amount']}, '{p['date']}')",
    ),
    ("sqlite", "reassign_and_remove"): lambda call, p: _sql(
        call,
        f"UPDATE sales SET employee_id = {p['heir_id']} WHERE employee_id = {p['gone_id']}",
        f"DELETE FROM employees WHERE id = {p['gone_id']}",
    ),
    ("sqlite", "new_department"): lambda call, p: _sql(
        call,
        f"INSERT INTO departments (name, city) VALUES ('{p['department']}', '{p['city']}')",
        f"UPDATE employees SET department_id = (SELECT id FROM departments WHERE name = '{p['department']}') "
        f"WHERE id = {p['employee_id']}",
    ),
    ("sqlite", "lowest_paid_raise"): lambda call, p: _sql(
        call, f"UPDATE employees SET salary = {p['salary']} WHERE id = {p['employee_id']}"
    ),
    ("sqlite", "budget_from_region"): lambda call, p: _sql(
        call,
        f"UPDATE projects SET budget = (SELECT SUM(amount) FROM sales WHERE region = '{p['region']}') "
        f"WHERE id = {p['project_id']}",
    ),
    ("sqlite", "change_title"): lambda call, p: _sql(
        call, f"UPDATE employees SET title = '{p['title']}' WHERE id = {p['employee_id']}"
    ),
    ("shop", "cancel_open_order"): _solve_cancel_open,
    ("shop", "full_refund"): lambda call, p: call(
        "issue_refund", {"order_id": p["order_id"], "reason": "damaged"}
    ),
    ("shop", "refund_one_item"): lambda call, p: call(
        "issue_refund", {"order_id": p["order_id"], "reason": "broken", "amount": p["amount"]}
    ),
    ("shop", "order_product"): lambda call, p: call(
        "place_customer_order",
        {"customer_id": p["customer_id"], "items": [{"sku": p["sku"], "quantity": p["quantity"]}]},
    ),
    ("shop", "restock"): lambda call, p: call(
        "update_product_stock", {"sku": p["sku"], "change": p["change"]}
    ),
    ("shop", "cheapest_in_category"): lambda call, p: call(
        "place_customer_order", {"customer_id": p["customer_id"], "items": [{"sku": p["sku"]}]}
    ),
    ("shop", "order_then_cancel"): _solve_order_then_cancel,
    ("shop", "status_then_refund"): _solve_status_refund,
    ("shop", "reorder"): _solve_reorder,
    ("shop", "discontinue"): lambda call, p: call(
        "update_product_stock", {"sku": p["sku"], "change": -p["stock"]}
    ),
    ("shop", "cancel_all_open"): _solve_cancel_open,
}


def _tasks_by_template(env: str, seeds: range = range(4)) -> dict[str, tuple[int, EnvTask]]:
    """For each template, the first seed that offers it and its first task there."""
    out: dict[str, tuple[int, EnvTask]] = {}
    for seed in seeds:
        for t in get_environment(env).tasks(seed, 30):
            out.setdefault(t.template, (seed, t))
    return out


def test_enough_templates_and_every_one_has_a_solution() -> None:
    names = {(env, t.name) for env, mod in MODULES.items() for t in mod.TEMPLATES}
    assert len(names) >= 30
    assert names == set(SOLUTIONS)
    categories = {t.category for mod in MODULES.values() for t in mod.TEMPLATES}
    assert categories == {"single", "sequential", "parallel", "multi_turn"}


@pytest.mark.parametrize("env", ENVS)
def test_tasks_are_distinct_seeded_and_bilingual(env: str) -> None:
    e = get_environment(env)
    tasks = e.tasks(5, 40)
    assert len({t.request for t in tasks}) == len(tasks) >= len(MODULES[env].TEMPLATES)
    assert [t.request for t in e.tasks(5, 40)] == [t.request for t in tasks]
    assert [t.request for t in e.tasks(6, 40)] != [t.request for t in tasks]
    assert [t.request for t in e.tasks(5, 7)] == [
        t.request for t in tasks[:7]
    ]  # a prefix: the pipeline indexes it
    first = tasks[: len(MODULES[env].TEMPLATES)]
    assert len({t.template for t in first}) >= len(first) - 2  # each template once before repeats
    zh = [t for t in tasks if t.lang == "zh"]
    assert zh and all(any("\u4e00" <= c <= "\u9fff" for c in t.request) for t in zh)
    assert all(t.followups for t in tasks if t.category == "multi_turn")
    assert len(e.tasks(5, 3)) == 3


@pytest.mark.parametrize("env", ENVS)
def test_every_template_solution_passes_and_nothing_fails(env: str) -> None:
    e = get_environment(env)
    found = _tasks_by_template(env)
    assert set(found) == {t.name for t in MODULES[env].TEMPLATES}
    for name, (seed, task) in found.items():
        idle = e.fresh(seed)
        assert task.check(idle), f"{name}: doing nothing should fail the check"
        solved = e.fresh(seed)
        SOLUTIONS[(env, name)](call_ok(solved), task.params)
        assert task.check(solved) == [], f"{name} ({task.request}): {task.check(solved)}"
        # the same calls on a second instance leave the same state (the pipeline's replay check)
        again = e.fresh(seed)
        SOLUTIONS[(env, name)](call_ok(again), task.params)
        assert again.state() == solved.state()
        for inst in (idle, solved, again):
            inst.close()


def test_checks_catch_a_wrong_result() -> None:
    e = get_environment("files")
    seed, task = _tasks_by_template("files")["count_errors"]
    inst = e.fresh(seed)
    p = task.params
    call_ok(inst)("write_text_file", {"path": p["out"], "content": str(p["count"] + 1)})
    assert task.check(inst) == [f"{p['out']} should contain {p['count']}"]
    shop = get_environment("shop")
    seed, task = _tasks_by_template("shop")["order_product"]
    inst = shop.fresh(seed)
    p = task.params
    call_ok(inst)(
        "place_customer_order",
        {"customer_id": p["customer_id"], "items": [{"sku": p["sku"], "quantity": p["quantity"] + 1}]},
    )
    assert task.check(inst)
