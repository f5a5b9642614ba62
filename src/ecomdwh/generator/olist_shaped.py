"""An export in the public Olist format, generated: Kaggle's file names and headers, Olist's value formats.

`write_olist_export(out, orders, days, seed)` writes the six tables `ecomdwh.olist.convert_olist` reads, in the
proportions of the public export (per order: 1.13 items, 1.04 payments, one customers row; a product for
every three orders). Same arguments, same bytes. The export is clean: every item's order and product exist,
every product is sold, every customer is one person (`customer_unique_id`), every payment type maps to a
method, and nothing happened after the export's last purchase day (an order whose delivery would come later
is still `shipped`, one not yet handed to the carrier `invoiced`).

Value formats are Olist's: a quoted header, quoted ids (and zip prefixes), the rest bare; São Paulo wall-clock
times as `YYYY-MM-DD HH:MM:SS`; money with two decimals; the category translation starting with a BOM.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ecomdwh.olist import FILES

# The public export: 99,441 orders from 2016-09 to 2018-10, most of them over about 622 days.
FULL_ORDERS, FULL_DAYS = 99_441, 622
START = date(2017, 1, 5)
PRODUCTS_PER_ORDER = 32_951 / 99_441
SELLERS_PER_ORDER = 3_095 / 99_441
ITEMS_PER_ORDER = (0.902, 0.077, 0.013, 0.005, 0.002, 0.001)  # 1..6 items: 1.13 an order
PAYMENTS_PER_ORDER = (0.966, 0.024, 0.007, 0.003)  # 1..4 payments: 1.05 an order
PAYMENT_TYPES = ("credit_card", "boleto", "voucher", "debit_card")
PAYMENT_WEIGHTS = (0.754, 0.198, 0.033, 0.015)
# Final statuses of orders that had time to finish; later ones are cut short at the export's end.
STATUSES = ("delivered", "shipped", "canceled", "unavailable", "invoiced", "processing", "created", "approved")
STATUS_WEIGHTS = (0.9702, 0.0111, 0.0063, 0.0061, 0.0032, 0.003, 0.00005, 0.00002)
WEEKDAY_FACTOR = (1.1, 1.12, 1.08, 1.04, 0.98, 0.82, 0.86)  # Monday first: Olist sold most early in the week
CATEGORIES = (
    ("cama_mesa_banho", "bed_bath_table"), ("beleza_saude", "health_beauty"), ("esporte_lazer", "sports_leisure"),
    ("moveis_decoracao", "furniture_decor"), ("informatica_acessorios", "computers_accessories"),
    ("utilidades_domesticas", "housewares"), ("relogios_presentes", "watches_gifts"),
    ("telefonia", "telephony"), ("ferramentas_jardim", "garden_tools"), ("automotivo", "auto"),
    ("brinquedos", "toys"), ("cool_stuff", "cool_stuff"), ("perfumaria", "perfumery"), ("bebes", "baby"),
    ("eletronicos", "electronics"), ("papelaria", "stationery"), ("fashion_bolsas_e_acessorios",
    "fashion_bags_accessories"), ("pet_shop", "pet_shop"), ("moveis_escritorio", "office_furniture"),
    ("consoles_games", "consoles_games"), ("malas_acessorios", "luggage_accessories"),
    ("construcao_ferramentas_construcao", "construction_tools_construction"), ("eletrodomesticos",
    "home_appliances"), ("instrumentos_musicais", "musical_instruments"), ("eletroportateis", "small_appliances"),
    ("casa_construcao", "home_construction"), ("livros_interesse_geral", "books_general_interest"),
    ("alimentos", "food"), ("moveis_sala", "furniture_living_room"), ("casa_conforto", "home_confort"),
    ("bebidas", "drinks"), ("audio", "audio"), ("market_place", "market_place"), ("climatizacao", "air_conditioning"),
)  # fmt: skip
CATEGORY_WEIGHT_DECAY = 0.9  # the first categories sell most, as in Olist
NO_CATEGORY = 610 / 32_951  # products without a category: their descriptive columns are empty too
PLACES = (
    ("sao paulo", "SP", 1000, 0.16), ("rio de janeiro", "RJ", 20000, 0.07), ("belo horizonte", "MG", 30000, 0.03),
    ("brasilia", "DF", 70000, 0.02), ("curitiba", "PR", 80000, 0.015), ("campinas", "SP", 13000, 0.015),
    ("porto alegre", "RS", 90000, 0.014), ("salvador", "BA", 40000, 0.013), ("guarulhos", "SP", 7000, 0.012),
    ("sao bernardo do campo", "SP", 9600, 0.01), ("niteroi", "RJ", 24000, 0.009), ("santo andre", "SP", 9000, 0.008),
    ("osasco", "SP", 6000, 0.008), ("santos", "SP", 11000, 0.007), ("goiania", "GO", 74000, 0.007),
    ("sao jose dos campos", "SP", 12200, 0.007), ("fortaleza", "CE", 60000, 0.007), ("sorocaba", "SP", 18000, 0.007),
    ("recife", "PE", 50000, 0.006), ("florianopolis", "SC", 88000, 0.006), ("jundiai", "SP", 13200, 0.005),
    ("ribeirao preto", "SP", 14000, 0.005), ("belem", "PA", 66000, 0.004), ("nova iguacu", "RJ", 26000, 0.004),
    ("barueri", "SP", 6400, 0.004), ("contagem", "MG", 32000, 0.004), ("juiz de fora", "MG", 36000, 0.004),
    ("vitoria", "ES", 29000, 0.004), ("londrina", "PR", 86000, 0.004), ("franca", "SP", 14400, 0.003),
    ("uberlandia", "MG", 38400, 0.003), ("manaus", "AM", 69000, 0.003), ("natal", "RN", 59000, 0.003),
    ("joinville", "SC", 89200, 0.003), ("maringa", "PR", 87000, 0.003), ("sao luis", "MA", 65000, 0.002),
    ("campo grande", "MS", 79000, 0.002), ("cuiaba", "MT", 78000, 0.002), ("teresina", "PI", 64000, 0.002),
    ("joao pessoa", "PB", 58000, 0.002), ("maceio", "AL", 57000, 0.002), ("aracaju", "SE", 49000, 0.002),
)  # fmt: skip
HOUR = 3600
DAY = 86_400

HEADERS = {
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
               "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"],
    "order_items": ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
                    "freight_value"],
    "payments": ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
    "customers": ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
                  "customer_state"],
    "products": ["product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
                 "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm",
                 "product_width_cm"],
    "categories": ["product_category_name", "product_category_name_english"],
}  # fmt: skip


def sizes(scale: float) -> tuple[int, int]:
    """Orders and days at a share of the public export's size, the daily volume kept (at least one day)."""
    if not 0 < scale <= 1:
        raise ValueError(f"the scale is a share of the full Olist size, above 0 and at most 1, not {scale}")
    days = max(1, round(FULL_DAYS * scale))
    return max(days, round(FULL_ORDERS * scale)), days


def write_olist_export(out: Path, orders: int, days: int, seed: int) -> dict:
    """Write an Olist-format export of `orders` orders purchased over `days` days into `out`.

    Returns the rows written per table (the keys of `ecomdwh.olist.FILES`), the days and the first and last
    purchase days (São Paulo dates, as the export's timestamps; the bronze landing days are their UTC dates).
    """
    if orders < 1 or days < 1:
        raise ValueError("an export needs at least one order and one day")
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)

    # Orders: more each month (Olist grew about fivefold), by weekday; every day has one at least.
    t = np.arange(days) / max(days - 1, 1)
    weekday = (np.arange(days) + START.weekday()) % 7
    weight = (0.25 + 1.0 * t) * np.asarray(WEEKDAY_FACTOR)[weekday]
    base = np.ones(days, dtype=np.int64) if orders >= days else np.zeros(days, dtype=np.int64)
    per_day = base + rng.multinomial(orders - int(base.sum()), weight / weight.sum())
    day = np.repeat(np.arange(days), per_day)
    busy = rng.random(orders) < 0.85  # mostly from 08:00 to 23:00
    second = np.where(busy, rng.integers(8 * HOUR, 23 * HOUR, orders), rng.integers(0, DAY, orders))
    purchased = day * DAY + second
    export_end = days * DAY  # nothing after the last purchase day has happened yet

    status = np.asarray(STATUSES)[rng.choice(len(STATUSES), orders, p=_p(STATUS_WEIGHTS))]
    approved = purchased + np.maximum(60, rng.exponential(10 * HOUR, orders)).astype(np.int64)
    carrier = approved + rng.integers(DAY // 2, 5 * DAY, orders)
    delivered = carrier + rng.integers(2 * DAY, 20 * DAY, orders)
    estimated = (day + rng.integers(15, 40, orders)) * DAY
    # Cut short at the export's end: what would happen later has not happened.
    status = np.where((status == "delivered") & (delivered >= export_end), "shipped", status)
    status = np.where(np.isin(status, ["delivered", "shipped"]) & (carrier >= export_end), "invoiced", status)
    status = np.where((status != "created") & (status != "canceled") & (approved >= export_end), "created", status)
    has_approved = (status != "created") & ~((status == "canceled") & (rng.random(orders) < 0.2))
    has_carrier = np.isin(status, ["delivered", "shipped"])
    has_delivered = status == "delivered"
    approved = np.minimum(approved, export_end - 1)  # a canceled order's approval never lies after the export

    order_ids, customer_ids, unique_ids = (_hex_ids(rng, orders) for _ in range(3))
    rows: dict[str, int] = {}

    # Items: 1.13 an order; every product sold at least once, the rest by popularity.
    n_items_of = 1 + rng.choice(len(ITEMS_PER_ORDER), orders, p=_p(ITEMS_PER_ORDER))
    item_order = np.repeat(np.arange(orders), n_items_of)
    n_items = len(item_order)
    item_seq = np.arange(n_items) - np.repeat(np.cumsum(n_items_of) - n_items_of, n_items_of) + 1
    n_products = min(n_items, max(1, round(orders * PRODUCTS_PER_ORDER)))
    n_sellers = max(1, round(orders * SELLERS_PER_ORDER))
    product_of = (n_products * rng.random(n_items) ** 3).astype(np.int64)  # popular products first
    product_of[rng.permutation(n_items)[:n_products]] = rng.permutation(n_products)
    seller_of = (n_sellers * rng.random(n_items) ** 2).astype(np.int64)
    price = np.clip(rng.lognormal(np.log(8_000), 0.9, n_items), 85, 673_500).astype(np.int64)  # cents
    freight = np.clip(rng.lognormal(np.log(1_600), 0.6, n_items), 0, 40_000).astype(np.int64)
    product_ids, seller_ids = _hex_ids(rng, n_products), _hex_ids(rng, n_sellers)
    shipping_limit = purchased[item_order] + rng.integers(3 * DAY, 10 * DAY, n_items)
    # Kaggle's items file is sorted by order id.
    by_id = sorted(range(n_items), key=lambda i: (order_ids[item_order[i]], item_seq[i]))
    limit_text = _times(shipping_limit)
    rows["order_items"] = _write(out, "order_items", (
        f'"{order_ids[item_order[i]]}",{item_seq[i]},"{product_ids[product_of[i]]}","{seller_ids[seller_of[i]]}",'
        f"{limit_text[i]},{_money(price[i])},{_money(freight[i])}"
        for i in by_id
    ))  # fmt: skip

    # Orders, in no particular order (as Kaggle's are).
    texts = {name: _times(values) for name, values in (("purchased", purchased), ("approved", approved),
                                                       ("carrier", carrier), ("delivered", delivered),
                                                       ("estimated", estimated))}  # fmt: skip
    shuffled = rng.permutation(orders).tolist()
    rows["orders"] = _write(out, "orders", (
        f'"{order_ids[o]}","{customer_ids[o]}",{status[o]},{texts["purchased"][o]},'
        f'{texts["approved"][o] if has_approved[o] else ""},{texts["carrier"][o] if has_carrier[o] else ""},'
        f'{texts["delivered"][o] if has_delivered[o] else ""},{texts["estimated"][o]}'
        for o in shuffled
    ))  # fmt: skip

    # Payments: the order's items and freight, in one payment or a card (or boleto) and vouchers.
    total = np.bincount(item_order, weights=price + freight, minlength=orders).astype(np.int64)
    n_payments_of = 1 + rng.choice(len(PAYMENTS_PER_ORDER), orders, p=_p(PAYMENTS_PER_ORDER))
    first_type = rng.choice(len(PAYMENT_TYPES), orders, p=_p(PAYMENT_WEIGHTS))
    installments = np.where(rng.random(orders) < 0.5, 1, rng.integers(2, 11, orders))
    lines = []
    for o in shuffled:
        k = int(n_payments_of[o])
        vouchers = [max(1, int(total[o] * share)) for share in rng.uniform(0.05, 0.2, k - 1)]
        amounts = [int(total[o]) - sum(vouchers), *vouchers]
        kinds = [PAYMENT_TYPES[first_type[o]] if k == 1 else "credit_card", *["voucher"] * (k - 1)]
        for seq, (kind, amount) in enumerate(zip(kinds, amounts, strict=True), start=1):
            parts = installments[o] if kind == "credit_card" and seq == 1 else 1
            lines.append(f'"{order_ids[o]}",{seq},{kind},{parts},{_money(amount)}')
    rows["payments"] = _write(out, "payments", lines)

    # Customers: one row per order, each a person of their own.
    place = rng.choice(len(PLACES), orders, p=_p([p[3] for p in PLACES]))
    zips = rng.integers(0, 1000, orders)
    rows["customers"] = _write(out, "customers", (
        f'"{customer_ids[o]}","{unique_ids[o]}","{PLACES[place[o]][2] + zips[o]:05d}",'
        f"{PLACES[place[o]][0]},{PLACES[place[o]][1]}"
        for o in shuffled
    ))  # fmt: skip

    # Products, with Olist's descriptive columns (empty where the category is).
    category = rng.choice(len(CATEGORIES), n_products, p=_p(CATEGORY_WEIGHT_DECAY ** np.arange(len(CATEGORIES))))
    uncategorised = rng.random(n_products) < NO_CATEGORY
    described = zip(
        *(rng.integers(low, high, n_products).tolist() for low, high in
          ((5, 77), (4, 3993), (1, 11), (50, 30_000), (7, 106), (2, 106), (6, 119))),
        strict=True,
    )  # fmt: skip
    lines = []
    for p, extra in enumerate(described):
        if uncategorised[p]:
            name, text = "", ",,"
        else:
            name, text = CATEGORIES[category[p]][0], ",".join(map(str, extra[:3]))
        lines.append(f'"{product_ids[p]}",{name},{text},{",".join(map(str, extra[3:]))}')
    rows["products"] = _write(out, "products", (lines[p] for p in rng.permutation(n_products).tolist()))
    rows["categories"] = _write(out, "categories", (f"{pt},{en}" for pt, en in CATEGORIES), bom=True)

    sold = np.unique(day)
    return {
        **{table: rows[table] for table in FILES},
        "days": days,
        "first_purchase_day": (START + timedelta(days=int(sold[0]))).isoformat(),
        "last_purchase_day": (START + timedelta(days=int(sold[-1]))).isoformat(),
    }


def _p(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    """`n` distinct 32-digit hex ids, as Olist's."""
    text = rng.bytes(16 * n).hex()
    ids = [text[i : i + 32] for i in range(0, 32 * n, 32)]
    if len(set(ids)) != n:  # 128 random bits: never in practice, but an id must be an id
        raise ValueError("duplicate generated id; choose another seed")
    return ids


def _times(seconds: np.ndarray) -> list[str]:
    """Seconds after START's midnight (São Paulo wall clock) as `YYYY-MM-DD HH:MM:SS`."""
    stamps = np.datetime64(START.isoformat(), "s") + seconds.astype("timedelta64[s]")
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="s").tolist()]


def _money(cents) -> str:
    cents = int(cents)
    return f"{cents // 100}.{cents % 100:02d}"


def _write(out: Path, table: str, lines, bom: bool = False) -> int:
    """One table under its Kaggle name: the header, then `lines`; returns the rows written."""
    header = ",".join(HEADERS[table]) if table == "categories" else ",".join(f'"{c}"' for c in HEADERS[table])
    body = list(lines)
    text = "\n".join([header, *body]) + "\n"
    (out / FILES[table]).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return len(body)
