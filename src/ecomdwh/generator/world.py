"""The simulated shop: customers, products, orders and everything that follows an order, vectorised.

Every entity comes out as a table of columns (numpy arrays), one row per
landing-file row, with the landing day it belongs to. Money is integer cents
until it is rendered, so totals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ecomdwh.contract import DOMAINS

DAY = 86_400
# Change rows (sign-ups, moves, price changes) are stamped in the first minutes of their day, orders after.
CDC_WINDOW = 300

FIRST_NAMES = np.array(["Ana", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
                        "Kira", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara"])  # fmt: skip
LAST_NAMES = np.array(["Silva", "Smith", "Müller", "Garcia", "Rossi", "Dubois", "Novak", "Kowalski", "Jensen",
                       "O'Brien", "Santos", "Weber", "Costa", "Murphy", "Berg", "Ivanova"])  # fmt: skip
# (city, state, country); some names carry commas or quotes, as real exports do.
PLACES = np.array([
    ("Lisboa", "PT-11", "PT"), ("Porto", "PT-13", "PT"), ("Madrid", "ES-MD", "ES"), ("Berlin", "DE-BE", "DE"),
    ("Paris", "FR-75", "FR"), ("Milano", "IT-MI", "IT"), ("Dublin", "IE-D", "IE"), ("Warszawa", "PL-14", "PL"),
    ("Frankfurt, am Main", "DE-HE", "DE"), ('Saint-Denis "La Plaine"', "FR-93", "FR"),
    ("Vila Nova de Gaia", "PT-13", "PT"), ("Kraków", "PL-12", "PL"), ("Göteborg", "SE-O", "SE"),
    ("Cork", "IE-CO", "IE"), ("Sevilla", "ES-SE", "ES"),
])  # fmt: skip
SEGMENT_WEIGHTS = np.array([0.78, 0.12, 0.06, 0.04])
CATEGORIES = np.array(["electronics", "home", "garden", "toys", "books", "fashion", "beauty", "sports", "grocery"])
BRANDS = np.array(["Acme", "Nordwind", "Lumo", "Terra", "Vela", "Orbis", "Kappa", "Solara"])
NOUNS = np.array(["Mug", "Lamp", "Backpack", "Kettle", "Headphones", "Notebook", "Sneakers", "Drill", "Puzzle"])
ADJECTIVES = np.array(["Classic", "Compact", "Deluxe", "Eco", "Pro", "Mini", 'The "Original"', "Large, blue"])
CARRIERS = np.array(["dhl", "ups", "gls", "dpd", "ctt", "postnl"])
CHANNEL_WEIGHTS = np.array([0.55, 0.3, 0.12, 0.03])
METHOD_WEIGHTS = np.array([0.55, 0.2, 0.1, 0.05, 0.1])  # card, paypal, bank_transfer, gift_card, cash_on_delivery
WEEKDAY_FACTOR = np.array([0.95, 0.92, 0.95, 1.0, 1.08, 1.15, 1.0])  # Monday first


@dataclass
class Table:
    """Columns of equal length plus each row's landing day (0-based day index)."""

    columns: dict[str, np.ndarray]
    day: np.ndarray

    def __len__(self) -> int:
        return len(self.day)


@dataclass
class Orders:
    """Every order and its lifecycle, one array element per order (times in UTC seconds)."""

    ids: np.ndarray
    customer: np.ndarray
    ts: np.ndarray
    land: np.ndarray
    channel: np.ndarray
    method: np.ndarray
    total: np.ndarray
    cancelled: np.ndarray
    cancelled_ts: np.ndarray
    shipped_ts: np.ndarray
    transit_ts: np.ndarray
    delivered_ts: np.ndarray
    lost: np.ndarray
    returned: np.ndarray
    returned_ts: np.ndarray
    t0: int
    last_ts: int  # nothing after the last landing day is emitted
    failed_payment: np.ndarray | None = None  # a declined attempt before the payment (churn worlds only)

    def emit(self, ts: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose event happened by the end of the last day; each lands on its day, never before its order."""
        sel = keep & (ts < self.last_ts)
        return sel, np.maximum((ts[sel] - self.t0) // DAY, self.land[sel])


@dataclass
class World:
    start: date
    days: int
    tables: dict[str, Table] = field(default_factory=dict)
    line_cents: np.ndarray | None = None  # quantity x unit_price - discount per order item, in cents
    churn: ChurnTruth | None = None  # who churned and when, when the world has a churn process


def epoch(start: date) -> int:
    """Seconds since 1970-01-01T00:00:00Z at the start of `start` (UTC)."""
    return int(np.datetime64(start.isoformat(), "s").astype(np.int64))


def iso(seconds: np.ndarray) -> np.ndarray:
    """UTC seconds -> `YYYY-MM-DDTHH:MM:SSZ` strings."""
    return np.char.add(np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s"), "Z")


def iso_date(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(seconds.astype("datetime64[s]").astype("datetime64[D]"), unit="D")


def _customers(rng: np.random.Generator, t0: int, days: int, orders_per_day: int):
    n_initial = max(50, min(3 * orders_per_day, 300_000))
    new_per_day = rng.poisson(max(1, orders_per_day // 10), size=days)
    new_per_day[0] += n_initial
    n = int(new_per_day.sum())
    joined = np.repeat(np.arange(days), new_per_day)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    place = rng.integers(0, len(PLACES), n)
    segment = rng.choice(len(SEGMENT_WEIGHTS), n, p=SEGMENT_WEIGHTS)
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    created = t0 + joined * DAY + rng.integers(0, CDC_WINDOW, n)
    signup = np.where(joined == 0, created - rng.integers(1, 400, n) * DAY, created)
    # How often each customer orders: heavy-tailed, so some come back again and again.
    appetite = rng.pareto(1.3, n) + 0.2

    rows_idx = [np.arange(n)]
    rows_day = [joined]
    rows_ts = [created]
    rows_place = [place]
    rows_segment = [segment]
    for d in range(1, days):
        existing = np.flatnonzero(joined < d)
        movers = rng.choice(existing, size=max(1, len(existing) // 150), replace=False)
        place = place.copy()
        segment = segment.copy()
        moved = rng.random(len(movers)) < 0.6
        place[movers[moved]] = (place[movers[moved]] + rng.integers(1, len(PLACES), moved.sum())) % len(PLACES)
        seg_change = movers[~moved]
        segment[seg_change] = (segment[seg_change] + rng.integers(1, len(SEGMENT_WEIGHTS), len(seg_change))) % len(
            SEGMENT_WEIGHTS
        )
        rows_idx.append(movers)
        rows_day.append(np.full(len(movers), d))
        rows_ts.append(t0 + d * DAY + rng.integers(0, CDC_WINDOW, len(movers)))
        rows_place.append(place[movers])
        rows_segment.append(segment[movers])
    idx = np.concatenate(rows_idx)
    places = PLACES[np.concatenate(rows_place)]
    emails = np.char.lower(
        np.char.add(np.char.add(np.char.add(FIRST_NAMES[first[idx]], "."), ids[idx]), "@example.com")
    )
    # Messy but valid: a cleaning job trims and lower-cases these.
    messy = rng.random(len(idx)) < 0.04
    emails = np.where(messy, np.char.add(" ", np.char.upper(emails)), emails)
    country = np.where(messy, np.char.lower(places[:, 2]), places[:, 2])
    table = Table(
        {
            "customer_id": ids[idx],
            "email": emails,
            "first_name": FIRST_NAMES[first[idx]],
            "last_name": LAST_NAMES[last[idx]],
            "city": places[:, 0],
            "state": places[:, 1],
            "country": country,
            "segment": np.array(DOMAINS["customer_segment"])[np.concatenate(rows_segment)],
            "signup_date": iso_date(signup[idx]),
            "updated_at": iso(np.concatenate(rows_ts)),
        },
        np.concatenate(rows_day),
    )
    return table, joined, appetite


def _products(rng: np.random.Generator, t0: int, days: int, orders_per_day: int):
    n = min(max(200, orders_per_day // 2), 20_000)
    ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 5))
    brand = BRANDS[rng.integers(0, len(BRANDS), n)]
    names = np.char.add(np.char.add(np.char.add(brand, " "), ADJECTIVES[rng.integers(0, len(ADJECTIVES), n)]), " ")
    names = np.char.add(names, NOUNS[rng.integers(0, len(NOUNS), n)])
    category = CATEGORIES[rng.integers(0, len(CATEGORIES), n)]
    price = np.maximum(99, np.round(rng.lognormal(7.6, 0.8, n))).astype(np.int64)  # cents, median ~20.00
    price_by_day = np.empty((days, n), dtype=np.int64)
    rows_idx, rows_day, rows_ts, rows_price = (
        [np.arange(n)],
        [np.zeros(n, int)],
        [t0 + rng.integers(0, CDC_WINDOW, n)],
        [price],
    )
    price_by_day[0] = price
    for d in range(1, days):
        price = price.copy()
        changed = rng.choice(n, size=max(1, n // 50), replace=False)
        factor = rng.uniform(0.8, 1.2, len(changed))
        price[changed] = np.maximum(99, np.round(price[changed] * factor)).astype(np.int64)
        price_by_day[d] = price
        rows_idx.append(changed)
        rows_day.append(np.full(len(changed), d))
        rows_ts.append(t0 + d * DAY + rng.integers(0, CDC_WINDOW, len(changed)))
        rows_price.append(price[changed])
    idx = np.concatenate(rows_idx)
    table = Table(
        {
            "product_id": ids[idx],
            "sku": np.char.add("SKU-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))[idx],
            "product_name": names[idx],
            "category": category[idx],
            "brand": brand[idx],
            "unit_price": cents_text(np.concatenate(rows_price)),
            "updated_at": iso(np.concatenate(rows_ts)),
        },
        np.concatenate(rows_day),
    )
    # Zipf-like popularity: a few products sell a lot.
    popularity = 1.0 / np.arange(1, n + 1) ** 1.1
    popularity = rng.permutation(popularity / popularity.sum())
    return table, ids, price_by_day, popularity


def _assign_customers(rng, order_day, joined, appetite, days) -> np.ndarray:
    """Each order's customer (an index): one who had joined by the order's day, weighted by appetite."""
    customer = np.empty(len(order_day), dtype=np.int64)
    for d in range(days):
        mask = order_day == d
        pool = np.flatnonzero(joined <= d)
        w = appetite[pool] / appetite[pool].sum()
        customer[mask] = rng.choice(pool, size=int(mask.sum()), p=w)
    return customer


@dataclass
class ChurnTruth:
    """The churn process's ground truth, one element per customer (in customer id order)."""

    customer_ids: np.ndarray
    churn_day: np.ndarray  # day index (0-based) from which the customer places no order; -1: never churned
    bad_events: np.ndarray  # bad experiences the customer had by the end (or by churning)
    segment: np.ndarray

    def churned_by(self, day: int) -> np.ndarray:
        """True for customers who churned before day index `day`."""
        return (self.churn_day >= 0) & (self.churn_day < day)

    def as_dict(self, start: date) -> dict[str, str]:
        """customer_id -> churn date (YYYY-MM-DD), churned customers only."""
        churned = np.flatnonzero(self.churn_day >= 0)
        return {
            str(self.customer_ids[i]): (start + timedelta(days=int(self.churn_day[i]))).isoformat() for i in churned
        }


@dataclass(frozen=True)
class ChurnProcess:
    """A latent daily churn hazard per customer; once churned, a customer never orders again.

    hazard = base_daily x segment factor x exp(sum of weight x count of each bad experience so far), where a bad
    experience is a delivery later than `late_days` after the order, a lost parcel, a return, a cancelled
    (refunded) order or a declined payment (a `failed` payment row before the one that went through; only churn
    worlds have them), each counted from the moment the customer would notice it. Every input is observable
    in bronze (order, payment and shipment event times), so a model can learn it back.
    """

    base_daily: float = 0.004
    # By the segment at sign-up: consumer, small_business, corporate, vip (the contract's domain order)
    segment_factor: tuple[float, ...] = (1.0, 0.7, 0.5, 0.3)
    late: float = 0.6
    lost: float = 1.2
    returned: float = 0.7
    cancelled: float = 0.9
    failed_payment: float = 0.8
    failed_payment_share: float = 0.05  # of card and PayPal orders
    late_days: int = 5

    def bad_events(self, order_ts, cancelled, cancelled_ts, transit_ts, delivered_ts, lost, returned, returned_ts,
                   failed_payment, t0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(order index, day noticed, log-hazard weight) of every bad experience."""
        late = ~cancelled & ~lost & (delivered_ts - order_ts > self.late_days * DAY)
        parts = [
            (late, delivered_ts, self.late),
            (lost, transit_ts + 4 * DAY, self.lost),  # the carrier gives up a few days after transit
            (returned, returned_ts, self.returned),
            (cancelled, cancelled_ts, self.cancelled),
            (failed_payment, order_ts, self.failed_payment),
        ]
        idx = np.concatenate([np.flatnonzero(keep) for keep, _, _ in parts])
        day = np.concatenate([(ts[keep] - t0) // DAY for keep, ts, _ in parts])
        weight = np.concatenate([np.full(int(keep.sum()), w) for keep, _, w in parts])
        return idx, day, weight

    def assign(self, rng, order_day, joined, appetite, segment, bad, days) -> tuple[np.ndarray, ChurnTruth]:
        """Each order's customer, day by day among those joined and not churned; and who churned when."""
        n_customers = len(joined)
        seg_index = {name: i for i, name in enumerate(DOMAINS["customer_segment"])}
        factor = np.array(self.segment_factor)[[seg_index[s] for s in segment]]
        log_hazard = np.zeros(n_customers)
        count = np.zeros(n_customers, dtype=np.int64)
        churn_day = np.full(n_customers, -1, dtype=np.int64)
        customer = np.empty(len(order_day), dtype=np.int64)
        bad_order, bad_day, bad_weight = bad
        by_order = np.argsort(order_day, kind="stable")
        bounds = np.searchsorted(order_day[by_order], np.arange(days + 1))
        # Bad experiences grouped by their order's day, so each day's are found by slicing.
        by_bad = np.argsort(order_day[bad_order], kind="stable")
        bad_order, bad_day, bad_weight = bad_order[by_bad], bad_day[by_bad], bad_weight[by_bad]
        bad_bounds = np.searchsorted(order_day[bad_order], np.arange(days + 1))
        pending: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for d in range(days):
            for who, weight in pending.pop(d, []):
                np.add.at(log_hazard, who, weight)
                np.add.at(count, who, 1)
            alive = (joined <= d) & (churn_day < 0)
            hazard = self.base_daily * factor * np.exp(log_hazard)
            leaving = alive & (rng.random(n_customers) < -np.expm1(-hazard))
            churn_day[leaving] = d
            alive &= ~leaving
            todays = by_order[bounds[d] : bounds[d + 1]]
            pool = np.flatnonzero(alive)
            if len(todays) and len(pool):
                w = appetite[pool] / appetite[pool].sum()
                customer[todays] = rng.choice(pool, size=len(todays), p=w)
            elif len(todays):  # nobody left: the orders go to anyone who joined (never happens at sane rates)
                pool = np.flatnonzero(joined <= d)
                customer[todays] = rng.choice(pool, size=len(todays))
            # Today's orders' bad experiences reach their customers on the day they are noticed.
            mine = slice(bad_bounds[d], bad_bounds[d + 1])
            for when in np.unique(bad_day[mine]):
                sel = bad_day[mine] == when
                key = int(max(when, d + 1))
                pending.setdefault(key, []).append((customer[bad_order[mine][sel]], bad_weight[mine][sel]))
        truth = ChurnTruth(customer_ids=np.array([]), churn_day=churn_day, bad_events=count, segment=segment)
        return customer, truth


def cents_text(cents: np.ndarray) -> np.ndarray:
    """Integer cents -> decimal strings with exactly 2 decimals (negative values keep their sign)."""
    sign = np.where(cents < 0, "-", "")
    a = np.abs(cents)
    return np.char.add(
        np.char.add(np.char.add(sign, (a // 100).astype(str)), "."), np.char.zfill((a % 100).astype(str), 2)
    )


def simulate(
    rng: np.random.Generator, start: date, days: int, orders_per_day: int, churn: ChurnProcess | None = None
) -> World:
    """The shop over `days` days. With `churn`, customers stop ordering by a latent hazard (`World.churn` says
    who and when); without it (the default), nobody churns and the output is what it always was."""
    t0 = epoch(start)
    customers, joined, appetite = _customers(rng, t0, days, orders_per_day)
    products, product_ids, price_by_day, popularity = _products(rng, t0, days, orders_per_day)
    customer_ids = customers.columns["customer_id"][: len(joined)]  # the first block is one row per customer

    # Orders per day: weekday and seasonal swing around the mean.
    weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
    doy = np.array([(start + timedelta(days=d)).timetuple().tm_yday for d in range(days)])
    mean = orders_per_day * WEEKDAY_FACTOR[weekday] * (1 + 0.15 * np.sin(2 * np.pi * (doy - 80) / 365))
    per_day = rng.poisson(mean)
    n = int(per_day.sum())
    land = np.repeat(np.arange(days), per_day)
    # A few orders placed late the evening before arrive with the next day's batch.
    late = (rng.random(n) < 0.03) & (land > 0)
    order_ts = np.where(
        late,
        t0 + land * DAY - rng.integers(1, 3600, n),
        t0 + land * DAY + CDC_WINDOW + rng.integers(0, DAY - CDC_WINDOW, n),
    )
    order_day = (order_ts - t0) // DAY
    if churn is None:
        customer = _assign_customers(rng, order_day, joined, appetite, days)
    order_ids = np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    channel = np.array(DOMAINS["order_channel"])[rng.choice(len(CHANNEL_WEIGHTS), n, p=CHANNEL_WEIGHTS)]

    # Order items: 1 + Poisson(0.7) lines per order, products by popularity, price valid at the order.
    lines_per_order = 1 + rng.poisson(0.7, n)
    m = int(lines_per_order.sum())
    item_order = np.repeat(np.arange(n), lines_per_order)
    product = rng.choice(len(product_ids), m, p=popularity)
    quantity = 1 + rng.poisson(0.35, m)
    unit_cents = price_by_day[order_day[item_order], product]
    gross = quantity * unit_cents
    discounted = rng.random(m) < 0.15
    discount = np.where(discounted, np.floor(gross * rng.uniform(0.0, 0.3, m)).astype(np.int64), 0)
    line_cents = gross - discount

    # Lifecycle: shipped after 1-2 days, in transit a day later, then delivered, lost or returned.
    cancelled = rng.random(n) < 0.03
    lost = ~cancelled & (rng.random(n) < 0.015)
    shipped_ts = order_ts + rng.integers(DAY // 2, 2 * DAY, n)
    transit_ts = shipped_ts + rng.integers(DAY // 4, DAY, n)
    delivered_ts = transit_ts + rng.integers(DAY // 2, 4 * DAY, n)
    # Drawn in this order (the default stream stays the same bytes).
    method = rng.choice(len(METHOD_WEIGHTS), n, p=METHOD_WEIGHTS)
    cancelled_ts = order_ts + rng.integers(600, DAY // 2, n)
    returned = ~cancelled & ~lost & (rng.random(n) < 0.04)
    returned_ts = delivered_ts + rng.integers(2 * DAY, 6 * DAY, n)
    truth, failed_payment = None, None
    if churn is not None:
        # Who placed each order depends on who has churned, which depends on how earlier orders went.
        # Drawn after the default stream: only churn worlds have declined payments.
        failed_payment = ~cancelled & (method <= 1) & (rng.random(n) < churn.failed_payment_share)
        bad = churn.bad_events(order_ts, cancelled, cancelled_ts, transit_ts, delivered_ts, lost, returned,
                               returned_ts, failed_payment, t0)  # fmt: skip
        segment = customers.columns["segment"][: len(joined)]
        customer, truth = churn.assign(rng, order_day, joined, appetite, segment, bad, days)
        truth.customer_ids = customer_ids
    orders = Orders(
        ids=order_ids,
        customer=customer_ids[customer],
        ts=order_ts,
        land=land,
        channel=channel,
        method=method,
        total=np.bincount(item_order, weights=line_cents, minlength=n).astype(np.int64),
        cancelled=cancelled,
        cancelled_ts=cancelled_ts,
        shipped_ts=shipped_ts,
        transit_ts=transit_ts,
        delivered_ts=delivered_ts,
        lost=lost,
        returned=returned,
        returned_ts=returned_ts,
        t0=t0,
        last_ts=t0 + days * DAY,
        failed_payment=failed_payment,
    )
    world = World(start, days)
    world.churn = truth
    world.tables["customers"] = customers
    world.tables["products"] = products
    world.tables["orders"] = _orders(orders)
    item_ids = np.char.add("OI", np.char.zfill(np.arange(1, m + 1).astype(str), 9))
    world.tables["order_items"] = _order_items(rng, orders, item_ids, item_order, product_ids[product], quantity,
                                               unit_cents, discount)  # fmt: skip
    world.tables["payments"] = _payments(rng, orders)
    world.tables["shipment_events"] = _shipment_events(rng, orders)
    world.line_cents = line_cents
    return world


def _orders(o: Orders) -> Table:
    prepaid = np.isin(o.method, [0, 1, 3])  # card, paypal, gift card are paid at checkout
    parts = [(np.ones(len(o.ids), bool), o.ts, np.where(prepaid, "paid", "placed"), o.land)]
    for status, ts, keep in (
        ("cancelled", o.cancelled_ts, o.cancelled),
        ("shipped", o.shipped_ts, ~o.cancelled),
        ("delivered", o.delivered_ts, ~o.cancelled & ~o.lost),
        ("returned", o.returned_ts, o.returned),
    ):
        sel, day = o.emit(ts, keep)
        parts.append((sel, ts, np.full(len(o.ids), status), day))
    return Table(
        {
            "order_id": np.concatenate([o.ids[sel] for sel, *_ in parts]),
            "customer_id": np.concatenate([o.customer[sel] for sel, *_ in parts]),
            "order_ts": np.concatenate([iso(o.ts[sel]) for sel, *_ in parts]),
            "status": np.concatenate([status[sel] for sel, _, status, _ in parts]),
            "channel": np.concatenate([o.channel[sel] for sel, *_ in parts]),
            "updated_at": np.concatenate([iso(ts[sel]) for sel, ts, *_ in parts]),
        },
        np.concatenate([day for *_, day in parts]),
    )


def _order_items(rng, o: Orders, ids, item_order, product, quantity, unit_cents, discount) -> Table:
    discount_text = cents_text(discount).astype(object)
    # A missing or null discount means 0: some producers leave it out.
    discount_text[(discount == 0) & (rng.random(len(ids)) < 0.5)] = None
    return Table(
        {
            "order_item_id": ids,
            "order_id": o.ids[item_order],
            "product_id": product,
            "quantity": quantity,
            "unit_price": cents_text(unit_cents),
            "discount_amount": discount_text,
        },
        o.land[item_order],
    )


def _payments(rng, o: Orders) -> Table:
    n = len(o.ids)
    paid_ts = o.ts + rng.integers(5, 600, n)
    paid_ts = np.where(o.method == 2, o.ts + rng.integers(DAY, 2 * DAY, n), paid_ts)  # bank transfers arrive later
    paid_ts = np.where(o.method == 4, o.delivered_ts, paid_ts)  # cash on delivery
    keep = ~(o.cancelled & (o.method >= 2)) & ~((o.method == 4) & o.lost) & (o.total > 0)
    # Some customers pay part of a card order with a gift card.
    split = keep & (o.method == 0) & (rng.random(n) < 0.08) & (o.total > 500)
    gift = np.where(split, np.minimum(o.total // 2, rng.integers(100, 5000, n)), 0)
    sel, day = o.emit(paid_ts, keep)
    sel2, day2 = o.emit(paid_ts, split)
    order_idx = np.concatenate([np.flatnonzero(sel), np.flatnonzero(sel2)])
    method_idx = np.concatenate([o.method[sel], np.full(int(sel2.sum()), 3)])
    amount = np.concatenate([(o.total - gift)[sel], gift[sel2]])
    status = np.where(o.cancelled, "refunded", "captured")[order_idx]
    paid = paid_ts[order_idx]
    days = np.concatenate([day, day2])
    if o.failed_payment is not None:
        # A declined attempt of the whole amount, seconds after the order and before the payment that went through.
        failed_ts = o.ts + 2
        sel3, day3 = o.emit(failed_ts, keep & o.failed_payment & (o.method <= 1))
        order_idx = np.concatenate([order_idx, np.flatnonzero(sel3)])
        method_idx = np.concatenate([method_idx, o.method[sel3]])
        amount = np.concatenate([amount, o.total[sel3]])
        status = np.concatenate([status, np.full(int(sel3.sum()), "failed")])
        paid = np.concatenate([paid, failed_ts[sel3]])
        days = np.concatenate([days, day3])
    ids = np.char.add("PAY", np.char.zfill(np.arange(1, len(order_idx) + 1).astype(str), 9))
    return Table(
        {
            "payment_id": ids,
            "order_id": o.ids[order_idx],
            "payment_method": np.array(DOMAINS["payment_method"])[method_idx],
            "amount": cents_text(amount),
            "status": status,
            "paid_at": iso(paid),
        },
        days,
    )


def _shipment_events(rng, o: Orders) -> Table:
    n = len(o.ids)
    shipment = np.char.add("SH", np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    carrier = CARRIERS[rng.integers(0, len(CARRIERS), n)]
    steps = (
        ("pending", o.ts + rng.integers(60, 3600, n), np.ones(n, bool)),
        ("shipped", o.shipped_ts, ~o.cancelled),
        ("in_transit", o.transit_ts, ~o.cancelled),
        ("delivered", o.delivered_ts, ~o.cancelled & ~o.lost),
        ("lost", o.transit_ts + rng.integers(3 * DAY, 5 * DAY, n), o.lost),
        ("returned", o.returned_ts, o.returned),
    )
    idx, status, ts, days = [], [], [], []
    for name, when, keep in steps:
        sel, day = o.emit(when, keep)
        idx.append(np.flatnonzero(sel))
        status.append(np.full(int(sel.sum()), name))
        ts.append(when[sel])
        days.append(day)
    idx = np.concatenate(idx)
    status = np.concatenate(status)
    # A few producers spell statuses their own way; the cleaning job brings them to the canonical form.
    status = np.where((status == "in_transit") & (rng.random(len(status)) < 0.05), "In-Transit", status)
    return Table(
        {
            "shipment_id": shipment[idx],
            "order_id": o.ids[idx],
            "carrier": carrier[idx],
            "status": status,
            "status_ts": iso(np.concatenate(ts)),
        },
        np.concatenate(days),
    )
