"""``shop``: an online shop's order API with state and business rules.

Start state (``fresh(seed)``): 6–8 customers (``C-101``…; name, email, city), 10–12 products
(``P-201``…; name, category, price, stock; some sold out) and 9–12 orders (``O-5001``…; items
with unit prices, total, status ``placed`` | ``shipped`` | ``delivered`` | ``cancelled`` |
``refunded``, the amount refunded). The first customer always has two orders not shipped yet, the second one.

Tools: ``search_product_catalog`` (text, category, maximum price, in stock only),
``lookup_customer`` (id, email or part of the name), ``list_customer_orders``,
``get_order_status``, ``place_customer_order``, ``cancel_customer_order``, ``issue_refund``,
``update_product_stock``.

Rules (broken ones raise :class:`~.base.EnvError` with the reason): an order needs a known
customer, known products and enough stock (placing takes the units from stock); only a
``placed`` order can be cancelled (its units go back to stock); only a ``delivered`` order can
be refunded, at most what is left of its total (in full it becomes ``refunded``); stock never
goes below zero.

``state()``: ``{"customers": [...], "products": [...], "orders": [...], "refunds": [...]}``,
each sorted by id.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from pydantic import BaseModel, Field

from . import EnvTask
from .base import BaseInstance, EnvError
from .templates import Draft, Template, make_tasks, problems, say, template

_CUSTOMERS = [
    "Laura Fischer",
    "Marco Bianchi",
    "Sofia Lindqvist",
    "Tom Becker",
    "Yuki Tanaka",
    "Priya Nair",
    "Omar Haddad",
    "Elena Petrova",
    "王伟",
    "李娜",
]
_CITIES = ["Hamburg", "Milan", "Uppsala", "Vienna", "Osaka", "Pune", "Rabat", "Sofia", "上海", "成都"]
_PRODUCTS = [
    ("Wireless Mouse", "electronics", 24.99),
    ("USB-C Charger", "electronics", 19.5),
    ("Noise-Cancelling Headphones", "electronics", 129.0),
    ("Mechanical Keyboard", "electronics", 89.9),
    ("Chef's Knife", "kitchen", 45.0),
    ("French Press", "kitchen", 32.5),
    ("Cast Iron Pan", "kitchen", 54.0),
    ("Trail Backpack", "outdoor", 74.0),
    ("Camping Lantern", "outdoor", 21.0),
    ("Water Bottle", "outdoor", 15.0),
    ("Desk Lamp", "office", 38.0),
    ("Notebook Set", "office", 12.0),
    ("Ergonomic Chair", "office", 249.0),
]
_REASONS = ["arrived damaged", "wrong size", "changed my mind", "item not as described", "late delivery"]
_REASONS_ZH = ["到货时已损坏", "尺码不对", "不想要了", "与描述不符", "送货太慢"]


class OrderItem(BaseModel):
    """One line of an order."""

    sku: str = Field(description="the product's id, e.g. P-201")
    quantity: int = Field(1, ge=1, description="how many units")


def _money(x: float) -> float:
    return round(x + 1e-9, 2)


def seed_shop(seed: int) -> dict[str, list[dict[str, Any]]]:
    """The start state of ``fresh(seed)`` (the form of ``state()``)."""
    rng = random.Random(f"shop:{seed}")
    names = rng.sample(_CUSTOMERS, rng.randint(6, 8))
    customers = [
        {
            "id": f"C-{101 + i}",
            "name": n,
            "email": f"customer{101 + i}@example.com",
            "city": rng.choice(_CITIES),
        }
        for i, n in enumerate(names)
    ]
    products = [
        {"sku": f"P-{201 + i}", "name": n, "category": c, "price": p, "stock": rng.choice([0, *range(2, 40)])}
        for i, (n, c, p) in enumerate(rng.sample(_PRODUCTS, rng.randint(10, 12)))
    ]
    # (status, customer, number of items); the first rows make every template possible:
    # customers[0] has two open orders, customers[1] exactly one, and one delivered order has two items
    plan: list[tuple[str, dict[str, Any] | None, int | None]] = [
        ("placed", customers[0], None),
        ("placed", customers[0], None),
        ("placed", customers[1], None),
        ("delivered", None, 2),
        ("delivered", None, None),
        ("shipped", None, None),
    ]
    plan += [
        (st, None, None)
        for st in rng.choices(["shipped", "delivered", "delivered", "cancelled"], k=rng.randint(3, 6))
    ]
    orders = []
    for i, (status, customer, n_items) in enumerate(plan):
        items = [
            {"sku": p["sku"], "quantity": rng.randint(1, 3), "unit_price": p["price"]}
            for p in rng.sample(products, n_items or rng.choice([1, 1, 2, 3]))
        ]
        customer = customer or rng.choice(customers[1:])
        orders.append(
            {
                "id": f"O-{5001 + i}",
                "customer_id": customer["id"],
                "items": items,
                "status": status,
                "total": _money(sum(it["quantity"] * it["unit_price"] for it in items)),
                "refunded": 0.0,
            }
        )
    return {"customers": customers, "products": products, "orders": orders, "refunds": []}


class ShopInstance(BaseInstance):
    """One shop with its own customers, stock, orders and refunds."""

    TOOLS = (
        "search_product_catalog",
        "lookup_customer",
        "list_customer_orders",
        "get_order_status",
        "place_customer_order",
        "cancel_customer_order",
        "issue_refund",
        "update_product_stock",
    )

    def __init__(self, data: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__()
        data = copy.deepcopy(data)
        self._customers = {c["id"]: c for c in data["customers"]}
        self._products = {p["sku"]: p for p in data["products"]}
        self._orders = {o["id"]: o for o in data["orders"]}
        self._refunds = data["refunds"]

    def _customer(self, customer_id: str) -> dict[str, Any]:
        c = self._customers.get(customer_id.strip().upper())
        if c is None:
            raise EnvError(
                f"no customer {customer_id!r} (ids look like C-101; find one with lookup_customer)"
            )
        return c

    def _product(self, sku: str) -> dict[str, Any]:
        p = self._products.get(sku.strip().upper())
        if p is None:
            raise EnvError(f"no product {sku!r} (ids look like P-201; find one with search_product_catalog)")
        return p

    def _order(self, order_id: str) -> dict[str, Any]:
        o = self._orders.get(order_id.strip().upper())
        if o is None:
            raise EnvError(f"no order {order_id!r} (ids look like O-5001)")
        return o

    def _view(self, o: dict[str, Any]) -> dict[str, Any]:
        items = [{**it, "name": self._products[it["sku"]]["name"]} for it in o["items"]]
        return {**o, "items": items}

    # -- tools -----------------------------------------------------------------------------------
    def search_product_catalog(
        self,
        query: str = "",
        category: str | None = None,
        max_price: float | None = None,
        in_stock_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Search the catalogue by words in the product name, category, maximum price and stock.

        Args:
            query: words that must appear in the product name ("" matches every product).
            category: only this category (electronics, kitchen, outdoor, office).
            max_price: only products that cost at most this much.
            in_stock_only: only products with at least one unit in stock.
        """
        words = query.lower().split()
        return [
            dict(p)
            for p in self._products.values()
            if all(w in p["name"].lower() for w in words)
            and (category is None or p["category"] == category.strip().lower())
            and (max_price is None or p["price"] <= max_price)
            and (not in_stock_only or p["stock"] > 0)
        ]

    def lookup_customer(self, query: str) -> list[dict[str, Any]]:
        """Find customers by id (C-101), email or part of the name.

        Args:
            query: the customer id, the email address or (part of) the name.
        """
        q = query.strip().lower()
        if not q:
            raise EnvError("query must not be empty")
        found = [
            c
            for c in self._customers.values()
            if q in (c["id"].lower(), c["email"]) or q in c["name"].lower()
        ]
        if not found:
            raise EnvError(f"no customer matches {query!r}")
        return [dict(c) for c in found]

    def list_customer_orders(self, customer_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """List a customer's orders (id, status, total, items), optionally only those with one status.

        Args:
            customer_id: the customer's id, e.g. C-101.
            status: only orders with this status (placed, shipped, delivered, cancelled, refunded).
        """
        cid = self._customer(customer_id)["id"]
        return [
            self._view(o)
            for o in self._orders.values()
            if o["customer_id"] == cid and (status is None or o["status"] == status.strip().lower())
        ]

    def get_order_status(self, order_id: str) -> dict[str, Any]:
        """Show an order: customer, items, total, status and the amount refunded so far.

        Args:
            order_id: the order's id, e.g. O-5001.
        """
        return self._view(self._order(order_id))

    def place_customer_order(self, customer_id: str, items: list[OrderItem]) -> dict[str, Any]:
        """Place a new order for a customer; the units are taken from stock.

        Args:
            customer_id: the customer's id, e.g. C-101.
            items: the products and quantities to order.
        """
        cid = self._customer(customer_id)["id"]
        if not items:
            raise EnvError("an order needs at least one item")
        wanted: dict[str, int] = {}
        for it in items:
            sku = self._product(it.sku)["sku"]
            wanted[sku] = wanted.get(sku, 0) + it.quantity
        for sku, qty in wanted.items():
            p = self._products[sku]
            if p["stock"] < qty:
                raise EnvError(f"only {p['stock']} units of {p['name']} ({sku}) in stock, {qty} asked for")
        lines = []
        for sku, qty in wanted.items():
            self._products[sku]["stock"] -= qty
            lines.append({"sku": sku, "quantity": qty, "unit_price": self._products[sku]["price"]})
        oid = f"O-{max(int(k[2:]) for k in self._orders) + 1}"
        self._orders[oid] = {
            "id": oid,
            "customer_id": cid,
            "items": lines,
            "status": "placed",
            "total": _money(sum(x["quantity"] * x["unit_price"] for x in lines)),
            "refunded": 0.0,
        }
        return self._view(self._orders[oid])

    def cancel_customer_order(self, order_id: str, reason: str = "") -> dict[str, Any]:
        """Cancel an order that has not shipped yet; its units go back to stock.

        Args:
            order_id: the order's id, e.g. O-5001.
            reason: why it is cancelled (optional).
        """
        o = self._order(order_id)
        if o["status"] != "placed":
            hint = (
                " (a delivered order can be refunded instead)"
                if o["status"] in ("shipped", "delivered")
                else ""
            )
            raise EnvError(f"order {o['id']} is {o['status']} and can no longer be cancelled{hint}")
        for it in o["items"]:
            self._products[it["sku"]]["stock"] += it["quantity"]
        o["status"] = "cancelled"
        return {"order_id": o["id"], "status": "cancelled", "reason": reason}

    def issue_refund(self, order_id: str, reason: str, amount: float | None = None) -> dict[str, Any]:
        """Refund money for a delivered order: the whole remaining total, or a part of it.

        Args:
            order_id: the order's id, e.g. O-5001.
            reason: why the customer gets money back.
            amount: how much to refund; leave it out to refund everything not refunded yet.
        """
        o = self._order(order_id)
        if o["status"] != "delivered":
            raise EnvError(f"order {o['id']} is {o['status']}; only delivered orders can be refunded")
        left = _money(o["total"] - o["refunded"])
        amount = left if amount is None else _money(amount)
        if amount <= 0:
            raise EnvError("the refund amount must be positive")
        if amount > left:
            raise EnvError(f"at most {left:.2f} of order {o['id']} can still be refunded")
        o["refunded"] = _money(o["refunded"] + amount)
        if o["refunded"] >= o["total"]:
            o["status"] = "refunded"
        refund = {
            "id": f"R-{len(self._refunds) + 1}",
            "order_id": o["id"],
            "amount": amount,
            "reason": reason,
        }
        self._refunds.append(refund)
        return {**refund, "order_status": o["status"]}

    def update_product_stock(self, sku: str, change: int) -> dict[str, Any]:
        """Add units to a product's stock (positive change) or take them away (negative change).

        Args:
            sku: the product's id, e.g. P-201.
            change: units to add (e.g. 10) or remove (e.g. -3).
        """
        p = self._product(sku)
        if change == 0:
            raise EnvError("change must not be zero")
        if p["stock"] + change < 0:
            raise EnvError(f"{p['name']} has only {p['stock']} units; stock cannot go below zero")
        p["stock"] += change
        return {"sku": p["sku"], "name": p["name"], "stock": p["stock"]}

    # -- the protocol ----------------------------------------------------------------------------
    def describe(self) -> str:
        lines = ["An online shop. Customers (id: name):"]
        lines.append(", ".join(f"{c['id']}: {c['name']}" for c in self._customers.values()))
        lines.append("Products (id: name, category, price, stock):")
        lines += [
            f"{p['sku']}: {p['name']}, {p['category']}, {p['price']:.2f}, {p['stock']}"
            for p in self._products.values()
        ]
        lines.append("Orders (id: customer, status, total):")
        lines.append(
            "; ".join(
                f"{o['id']}: {o['customer_id']}, {o['status']}, {o['total']:.2f}"
                for o in self._orders.values()
            )
        )
        return "\n".join(lines)[:1500]

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "customers": [self._customers[k] for k in sorted(self._customers)],
                "products": [self._products[k] for k in sorted(self._products)],
                "orders": [self._orders[k] for k in sorted(self._orders, key=lambda k: int(k[2:]))],
                "refunds": sorted(self._refunds, key=lambda r: int(r["id"][2:])),
            }
        )


class ShopEnvironment:
    """The ``shop`` environment: a seeded online shop per instance."""

    name = "shop"

    def fresh(self, seed: int) -> ShopInstance:
        return ShopInstance(seed_shop(seed))

    def tasks(self, seed: int, n: int) -> list[EnvTask]:
        return make_tasks(TEMPLATES, seed_shop(seed), seed, n, self.name)


# -- task templates --------------------------------------------------------------------------------
TEMPLATES: list[Template] = []


def _by(rows: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def _stock(end: dict[str, Any], want: dict[str, int]) -> list[str]:
    got = _by(end["products"], "sku")
    return [
        f"{sku} should have {n} in stock, not {got[sku]['stock']}"
        for sku, n in want.items()
        if got[sku]["stock"] != n
    ]


def _new_orders(start: dict[str, Any], end: dict[str, Any], customer: str) -> list[dict[str, Any]]:
    old = {o["id"] for o in start["orders"]}
    return [o for o in end["orders"] if o["id"] not in old and o["customer_id"] == customer]


def _items(order: dict[str, Any]) -> dict[str, int]:
    return {it["sku"]: it["quantity"] for it in order["items"]}


def _ordered(start: dict[str, Any], customer: str, want: dict[str, int], status: str = "placed") -> Any:
    """A check: one new order of ``customer`` with exactly ``want`` and ``status``; stock moved to match."""
    before = {p["sku"]: p["stock"] for p in start["products"]}
    taken = 0 if status == "cancelled" else 1

    def check(end: dict[str, Any]) -> list[str]:
        new = [o for o in _new_orders(start, end, customer) if _items(o) == want]
        if len(new) != 1 or new[0]["status"] != status:
            return [f"expected one new {status} order of {customer} with {want}, found {len(new)}"]
        return _stock(end, {sku: before[sku] - taken * q for sku, q in want.items()})

    return check


def _status(end: dict[str, Any], oid: str) -> str:
    return _by(end["orders"])[oid]["status"]


def _cancelled(start: dict[str, Any], orders: list[dict[str, Any]]) -> Any:
    """A check: these orders are cancelled and their units are back in stock (no other stock moved)."""
    want = {p["sku"]: p["stock"] for p in start["products"]}
    for o in orders:
        for it in o["items"]:
            want[it["sku"]] += it["quantity"]

    def check(end: dict[str, Any]) -> list[str]:
        done = [(_status(end, o["id"]) == "cancelled", f"{o['id']} should be cancelled") for o in orders]
        return problems(*done) + _stock(end, want)

    return check


@template(TEMPLATES, "sequential")
def _t_cancel_open_order(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    open_by: dict[str, list[dict[str, Any]]] = {}
    for o in start["orders"]:
        if o["status"] == "placed":
            open_by.setdefault(o["customer_id"], []).append(o)
    single = sorted(c for c, os in open_by.items() if len(os) == 1)
    if not single:
        return None
    cid = rng.choice(single)
    order, name = open_by[cid][0], _by(start["customers"])[cid]["name"]
    req = say(
        rng,
        zh,
        [
            "Find the order of {n} that has not shipped yet and cancel it.",
            "{n} wants to cancel their pending order. Please do it.",
        ],
        ["找到 {n} 还没发货的订单，把它取消。"],
        n=name,
    )
    return Draft(req, _cancelled(start, [order]), {"customer_id": cid, "order_id": order["id"]})


def _delivered(start: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in start["orders"] if o["status"] == "delivered"]


def _refunded(end: dict[str, Any], oid: str, amount: float) -> list[str]:
    got = [r for r in end["refunds"] if r["order_id"] == oid]
    return problems(
        (
            len(got) == 1 and abs(got[0]["amount"] - amount) < 0.005,
            f"expected one refund of {amount:.2f} for {oid}, found {[r['amount'] for r in got]}",
        )
    )


@template(TEMPLATES, "single")
def _t_full_refund(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    o = rng.choice(_delivered(start))
    reason = rng.choice(_REASONS_ZH if zh else _REASONS)
    req = say(
        rng,
        zh,
        [
            "Refund order {o} in full; reason: {r}.",
            "Order {o} came back ({r}). Give the customer all their money back.",
        ],
        ["订单 {o} 全额退款，原因：{r}。"],
        o=o["id"],
        r=reason,
    )
    return Draft(
        req,
        lambda end: (
            _refunded(end, o["id"], o["total"])
            + problems((_status(end, o["id"]) == "refunded", f"{o['id']} should be refunded"))
        ),
        {"order_id": o["id"], "amount": o["total"]},
    )


@template(TEMPLATES, "sequential")
def _t_refund_one_item(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    multi = [o for o in _delivered(start) if len(o["items"]) > 1]
    if not multi:
        return None
    o = rng.choice(multi)
    item = rng.choice(o["items"])
    name = _by(start["products"], "sku")[item["sku"]]["name"]
    cname = _by(start["customers"])[o["customer_id"]]["name"]
    amount = _money(item["quantity"] * item["unit_price"])
    req = say(
        rng,
        zh,
        [
            "The {p} in order {o} arrived broken. Refund {c} what they paid for that item only.",
            "{c} returns the {p} from order {o}; refund just that line of the order.",
        ],
        ["订单 {o} 里的 {p} 坏了，只退 {c} 这件商品的钱。"],
        p=name,
        o=o["id"],
        c=cname,
    )
    return Draft(
        req,
        lambda end: (
            _refunded(end, o["id"], amount)
            + problems(
                (
                    _status(end, o["id"]) == "delivered",
                    f"{o['id']} was refunded in part and should stay delivered",
                )
            )
        ),
        {"order_id": o["id"], "amount": amount, "sku": item["sku"]},
    )


def _in_stock(start: dict[str, Any], at_least: int = 1) -> list[dict[str, Any]]:
    return [p for p in start["products"] if p["stock"] >= at_least]


@template(TEMPLATES, "sequential")
def _t_order_product(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    qty = rng.randint(2, 4)
    options = _in_stock(start, qty)
    if not options:
        return None
    p, c = rng.choice(options), rng.choice(start["customers"])
    req = say(
        rng,
        zh,
        [
            "Order {q} x {p} for customer {c}.",
            "Customer {c} would like {q} units of the {p}. Place the order.",
        ],
        ["给客户 {c} 下单 {q} 件 {p}。"],
        q=qty,
        p=p["name"],
        c=c["id"],
    )
    return Draft(
        req,
        _ordered(start, c["id"], {p["sku"]: qty}),
        {"customer_id": c["id"], "sku": p["sku"], "quantity": qty},
    )


@template(TEMPLATES, "sequential")
def _t_restock(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    p, n = rng.choice(start["products"]), rng.choice([5, 10, 12, 20, 25])
    req = say(
        rng,
        zh,
        [
            "We received {n} more units of the {p}. Update the stock.",
            "A delivery of {n} {p} just arrived at the warehouse; add them to the stock.",
        ],
        ["仓库新到了 {n} 件 {p}，请更新库存。"],
        n=n,
        p=p["name"],
    )
    return Draft(req, lambda end: _stock(end, {p["sku"]: p["stock"] + n}), {"sku": p["sku"], "change": n})


@template(TEMPLATES, "sequential")
def _t_cheapest_in_category(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    cats = sorted({p["category"] for p in _in_stock(start)})
    if not cats:
        return None
    cat = rng.choice(cats)
    ranked = sorted((p for p in _in_stock(start) if p["category"] == cat), key=lambda p: p["price"])
    if len(ranked) > 1 and ranked[0]["price"] == ranked[1]["price"]:
        return None
    c = rng.choice(start["customers"])
    req = say(
        rng,
        zh,
        [
            "Order one unit of the cheapest {k} product that is in stock for {n}.",
            "{n} wants the least expensive {k} item we have in stock, one piece. Please order it.",
        ],
        ["给 {n} 订一件有货的最便宜的 {k} 类商品。"],
        k=cat,
        n=c["name"],
    )
    return Draft(
        req,
        _ordered(start, c["id"], {ranked[0]["sku"]: 1}),
        {"customer_id": c["id"], "sku": ranked[0]["sku"]},
    )


@template(TEMPLATES, "multi_turn")
def _t_order_then_cancel(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    options = _in_stock(start, 2)
    if not options:
        return None
    p, c = rng.choice(options), rng.choice(start["customers"])
    req = say(
        rng,
        zh,
        ["Please order 2 {p} for {c}.", "Put in an order of two {p} for customer {c}."],
        ["帮客户 {c} 订两件 {p}。"],
        p=p["name"],
        c=c["id"],
    )
    follow = say(
        rng,
        zh,
        ["Sorry, they changed their mind. Cancel that order again."],
        ["不好意思，客户改主意了，把刚才的订单取消。"],
    )
    return Draft(
        req,
        _ordered(start, c["id"], {p["sku"]: 2}, status="cancelled"),
        {"customer_id": c["id"], "sku": p["sku"]},
        [follow],
    )


@template(TEMPLATES, "multi_turn")
def _t_status_then_refund(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    o = rng.choice(_delivered(start))
    req = say(
        rng,
        zh,
        ["What is the status of order {o}?", "Can you check order {o} for me?"],
        ["订单 {o} 现在是什么状态？"],
        o=o["id"],
    )
    follow = say(
        rng,
        zh,
        ["The customer is not happy with it. Refund the whole order, reason: {r}."],
        ["客户不满意，整单退款，原因：{r}。"],
        r=rng.choice(_REASONS_ZH if zh else _REASONS),
    )
    return Draft(
        req,
        lambda end: _refunded(end, o["id"], o["total"]),
        {"order_id": o["id"], "amount": o["total"]},
        [follow],
    )


@template(TEMPLATES, "sequential")
def _t_reorder(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    stock = {p["sku"]: p["stock"] for p in start["products"]}
    options = [
        o
        for o in start["orders"]
        if o["status"] in ("delivered", "shipped")
        and all(stock[it["sku"]] >= it["quantity"] for it in o["items"])
    ]
    if not options:
        return None
    o = rng.choice(options)
    name = _by(start["customers"])[o["customer_id"]]["name"]
    req = say(
        rng,
        zh,
        [
            "{n} wants exactly the same items as in order {o} again. Place a new order for them.",
            "Repeat order {o} for {n}: same products, same quantities.",
        ],
        ["{n} 想再买一次订单 {o} 里的全部商品，数量相同，请下一个新订单。"],
        n=name,
        o=o["id"],
    )
    return Draft(
        req,
        _ordered(start, o["customer_id"], _items(o)),
        {"order_id": o["id"], "customer_id": o["customer_id"]},
    )


@template(TEMPLATES, "sequential")
def _t_discontinue(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    options = _in_stock(start)
    if not options:
        return None
    p = rng.choice(options)
    req = say(
        rng,
        zh,
        [
            "The {p} is discontinued: set its stock to zero.",
            "We stop selling the {p}. Remove all of its remaining units from stock.",
        ],
        ["{p} 停产了，把它的库存清零。"],
        p=p["name"],
    )
    return Draft(req, lambda end: _stock(end, {p["sku"]: 0}), {"sku": p["sku"], "stock": p["stock"]})


@template(TEMPLATES, "parallel")
def _t_cancel_all_open(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    cid = start["customers"][0]["id"]  # the seed gives this customer two open orders
    opened = [o for o in start["orders"] if o["customer_id"] == cid and o["status"] == "placed"]
    name = start["customers"][0]["name"]
    req = say(
        rng,
        zh,
        [
            "Cancel all of {n}'s orders that have not shipped yet.",
            "{n} is moving away: cancel every pending order of theirs.",
        ],
        ["取消 {n} 所有还没发货的订单。"],
        n=name,
    )
    return Draft(req, _cancelled(start, opened), {"customer_id": cid, "orders": [o["id"] for o in opened]})


__all__ = ["OrderItem", "ShopEnvironment", "ShopInstance", "TEMPLATES", "seed_shop"]
