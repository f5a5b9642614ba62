"""Customer churn: train, evaluate and score on `ml_customer_churn_features` (the dbt model).

The model holds one row per customer and cutoff date, features from before the cutoff and the label from the
window after it. The split is by time: the newest labelled cutoff is held out, the earlier labelled ones
train; the newest cutoff (not labelled yet) is scored. Two scikit-learn models (logistic regression, gradient
boosting) are compared with a baseline that fits nothing: customers ranked by days since their last order.

    frame = churn.read_features(con)
    result = churn.run(frame)
    churn.write_scores(settings, target, result.scores)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ecomdwh.errors import UserError

MODEL = "ml_customer_churn_features"
SCORES_SCHEMA = "ml"
SCORES_TABLE = "customer_churn_scores"
KEY = ["customer_id", "cutoff_date"]
LABEL = "is_churned"
NUMERIC = [
    "tenure_days",
    "recency_days",
    "days_since_first_order",
    "orders_count",
    "orders_last_window",
    "monetary_value",
    "avg_order_value",
    "deliveries",
    "late_deliveries",
    "avg_delivery_days",
    "lost_shipments",
    "returned_orders",
    "cancelled_orders",
    "failed_payments",
    "refunded_payments",
    "deferred_payments",
]
CATEGORICAL = ["segment"]
FEATURES = NUMERIC + CATEGORICAL
BASELINE = "baseline (recency rank)"
MODELS = ("logistic regression", "gradient boosting")
SEED = 0


@dataclass
class Split:
    train: pd.DataFrame  # the labelled cutoffs before the held-out one
    test: pd.DataFrame  # the newest labelled cutoff
    score: pd.DataFrame  # the newest cutoff, not labelled yet

    def describe(self) -> pd.DataFrame:
        rows = []
        for part, frame in (("train", self.train), ("test", self.test), ("score", self.score)):
            labelled = frame[LABEL].notna()
            rows.append(
                {
                    "part": part,
                    "cutoffs": ", ".join(str(d) for d in sorted(frame["cutoff_date"].unique())),
                    "customers": len(frame),
                    "churn_rate": float(frame.loc[labelled, LABEL].mean()) if labelled.any() else None,
                }
            )
        return pd.DataFrame(rows)


@dataclass
class Result:
    split: Split
    metrics: pd.DataFrame  # one row per model (and the baseline) on the held-out cutoff
    calibration: pd.DataFrame  # per model and score decile: mean predicted probability, observed churn rate
    test_scores: dict[str, np.ndarray]  # held-out scores per model, in split.test's row order
    chosen: str  # the model with the best held-out AUC, refitted on every labelled cutoff to score
    scores: pd.DataFrame  # the newest cutoff's customers scored by the chosen model
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)  # the logistic regression's, standardised


def read_features(con, dbt_dir=None) -> pd.DataFrame:
    """Every row of the feature model, typed for pandas (money and booleans come back as objects)."""
    from ecomdwh import relations
    from ecomdwh.warehouse import read_sql

    relation = relations.ref(MODEL, dbt_dir)
    try:
        frame = read_sql(con, f"select * from {relation}")
    except Exception as exc:  # each driver has its own "no such table"; the way out is the same
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Could not read {relation} ({detail}); build it with `ecomdwh dbt build -s +{MODEL}`."
        ) from exc
    if frame.empty:
        raise UserError(f"{relation} is empty: the warehouse has no orders yet (`ecomdwh run` loads some).")
    return typed(frame)


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in NUMERIC:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["cutoff_date"] = pd.to_datetime(frame["cutoff_date"]).dt.date
    frame["segment"] = frame["segment"].astype(str)
    frame["is_labelled"] = frame["is_labelled"].astype(bool)
    frame[LABEL] = frame[LABEL].map(lambda v: None if v is None or pd.isna(v) else float(bool(v))).astype(float)
    return frame.sort_values(KEY).reset_index(drop=True)


def split(frame: pd.DataFrame) -> Split:
    """Train on the labelled cutoffs before the newest labelled one, test on that one, score the newest cutoff."""
    labelled = sorted(frame.loc[frame["is_labelled"], "cutoff_date"].unique())
    if len(labelled) < 2:
        raise UserError(
            f"{MODEL} has {len(labelled)} labelled cutoff(s) and a time split needs two; load more days or build "
            "it with a shorter churn_window_days (`ecomdwh dbt build -s ml_customer_churn_features --vars ...`)."
        )
    test_cutoff = labelled[-1]
    train = frame[frame["is_labelled"] & (frame["cutoff_date"] < test_cutoff)]
    test = frame[frame["cutoff_date"] == test_cutoff]
    score = frame[frame["cutoff_date"] == frame["cutoff_date"].max()]
    for name, part in (("training", train), ("held-out", test)):
        if part[LABEL].nunique() < 2:
            raise UserError(
                f"The {name} cutoffs of {MODEL} hold one class only (every customer churned or none did); "
                "load more days or change churn_window_days."
            )
    return Split(train.reset_index(drop=True), test.reset_index(drop=True), score.reset_index(drop=True))


def _pipeline(estimator, scale: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from ecomdwh.contract import DOMAINS

    numeric = [SimpleImputer(strategy="median", add_indicator=True)] + ([StandardScaler()] if scale else [])
    segments = [list(DOMAINS["customer_segment"]) + ["unknown"]]
    columns = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric), NUMERIC),
            ("segment", OneHotEncoder(categories=segments, handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    return Pipeline([("columns", columns), ("model", estimator)])


def new_model(name: str):
    """An unfitted model by name: scaled logistic regression, or histogram gradient boosting."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "logistic regression":
        return _pipeline(LogisticRegression(max_iter=2000, C=1.0), scale=True)
    if name == "gradient boosting":
        estimator = HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0,
            early_stopping=False, random_state=SEED,
        )  # fmt: skip
        return _pipeline(estimator, scale=False)
    raise ValueError(f"unknown model {name!r}")


def baseline_scores(frame: pd.DataFrame) -> np.ndarray:
    """The naive score: the longer since the last order, the likelier the churn (a rank, fitted on nothing)."""
    return frame["recency_days"].rank(method="average").to_numpy() / max(len(frame), 1)


def precision_at_top(y: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """The churn rate among the `share` of customers with the highest scores (at least one customer)."""
    k = max(1, int(round(len(scores) * share)))
    top = np.argsort(-scores, kind="stable")[:k]
    return float(np.mean(y[top]))


def calibration_table(y: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Customers in equal-count bins of predicted probability: mean predicted vs observed churn rate."""
    order = np.argsort(probabilities, kind="stable")
    groups = np.array_split(order, min(bins, len(order)))
    rows = []
    for i, idx in enumerate(g for g in groups if len(g)):
        rows.append(
            {
                "bin": i + 1,
                "customers": len(idx),
                "mean_predicted": float(probabilities[idx].mean()),
                "observed_rate": float(y[idx].mean()),
            }
        )
    return pd.DataFrame(rows)


def evaluate(name: str, y: np.ndarray, scores: np.ndarray, probabilities: bool) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return {
        "model": name,
        "roc_auc": float(roc_auc_score(y, scores)),
        "precision_top_decile": precision_at_top(y, scores),
        "churn_rate": float(y.mean()),
        "brier": float(brier_score_loss(y, scores)) if probabilities else None,
        "customers": int(len(y)),
    }


def run(frame: pd.DataFrame) -> Result:
    """Split by time, fit both models on the training cutoffs, evaluate them and the baseline on the held-out
    cutoff, then refit the better model on every labelled cutoff and score the newest one."""
    from threadpoolctl import threadpool_limits

    # One thread: the models are small, and OpenMP threads fight every other process on a busy machine.
    with threadpool_limits(1):
        return _run(frame)


def _run(frame: pd.DataFrame) -> Result:
    parts = split(frame)
    y_train = parts.train[LABEL].to_numpy(dtype=float)
    y_test = parts.test[LABEL].to_numpy(dtype=float)
    test_scores = {BASELINE: baseline_scores(parts.test)}
    metrics = [evaluate(BASELINE, y_test, test_scores[BASELINE], probabilities=False)]
    calibration = []
    fitted = {}
    for name in MODELS:
        model = new_model(name).fit(parts.train[FEATURES], y_train)
        fitted[name] = model
        p = model.predict_proba(parts.test[FEATURES])[:, 1]
        test_scores[name] = p
        metrics.append(evaluate(name, y_test, p, probabilities=True))
        calibration.append(calibration_table(y_test, p).assign(model=name))
    metrics_frame = pd.DataFrame(metrics)
    chosen = max(MODELS, key=lambda n: metrics_frame.set_index("model").loc[n, "roc_auc"])
    labelled = pd.concat([parts.train, parts.test], ignore_index=True)
    final = new_model(chosen).fit(labelled[FEATURES], labelled[LABEL].to_numpy(dtype=float))
    return Result(
        split=parts,
        metrics=metrics_frame,
        calibration=pd.concat(calibration, ignore_index=True)[
            ["model", "bin", "customers", "mean_predicted", "observed_rate"]
        ],  # fmt: skip
        test_scores=test_scores,
        chosen=chosen,
        scores=scored(final, chosen, parts.score),
        coefficients=coefficients(fitted["logistic regression"]),
    )


def coefficients(model) -> pd.DataFrame:
    """The logistic regression's coefficients per (standardised) feature, largest effect first."""
    names = model.named_steps["columns"].get_feature_names_out()
    values = model.named_steps["model"].coef_[0]
    frame = pd.DataFrame({"feature": [n.split("__", 1)[-1] for n in names], "coefficient": values})
    return frame.reindex(frame["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def scored(model, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The customers of one cutoff with their churn probability and risk decile (1: the riskiest tenth)."""
    p = model.predict_proba(frame[FEATURES])[:, 1] if len(frame) else np.array([])
    out = frame[KEY].copy()
    out["churn_probability"] = p
    ranks = pd.Series(p).rank(method="first", ascending=False).to_numpy()
    out["risk_decile"] = np.ceil(ranks * 10 / max(len(p), 1)).astype(int)
    out["model"] = name
    return out.sort_values(["risk_decile", "customer_id"]).reset_index(drop=True)


def write_scores(settings, target: str | None, scores: pd.DataFrame, scored_at: datetime | None = None) -> str:
    """Replace the scores table with `scores` in one short transaction; returns the relation's name."""
    from ecomdwh import writer_lock
    from ecomdwh.warehouse.connection import connect

    relation = f"{SCORES_SCHEMA}.{SCORES_TABLE}"
    scored_at = scored_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)  # UTC, as every *_at
    rows = [
        [r.customer_id, r.cutoff_date, float(r.churn_probability), int(r.risk_decile), r.model, scored_at]
        for r in scores.itertuples(index=False)
    ]
    with writer_lock.hold(settings, "ecomdwh report churn (scores)"):
        con = connect(settings, target)
        duck = type(con).__module__.lstrip("_").split(".")[0] == "duckdb"
        mark = "?" if duck else "%s"
        cur = con if duck else con.cursor()
        try:
            if duck:
                con.begin()
            cur.execute(f"create schema if not exists {SCORES_SCHEMA}")
            cur.execute(f"drop table if exists {relation}")
            cur.execute(
                f"create table {relation} (customer_id varchar(1024) not null, cutoff_date date not null, "
                "churn_probability double precision not null, risk_decile integer not null, "
                "model varchar(64) not null, scored_at timestamp not null)"
            )
            if rows:
                cur.executemany(f"insert into {relation} values ({', '.join([mark] * 6)})", rows)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            if not duck:
                cur.close()
            con.close()
    return relation


def summary(result: Result, relation: str | None, target: str | None) -> dict:
    """What summary.json keeps: the split, each model's held-out numbers, the chosen model, the scores table."""
    parts = result.split.describe().set_index("part")
    return {
        "target": target,
        "train_cutoffs": parts.loc["train", "cutoffs"].split(", "),
        "test_cutoff": parts.loc["test", "cutoffs"],
        "score_cutoff": parts.loc["score", "cutoffs"],
        "train_customers": int(parts.loc["train", "customers"]),
        "test_customers": int(parts.loc["test", "customers"]),
        "test_churn_rate": float(parts.loc["test", "churn_rate"]),
        "metrics": {
            r["model"]: {k: None if pd.isna(r[k]) else r[k] for k in ("roc_auc", "precision_top_decile", "brier")}
            for r in result.metrics.to_dict("records")
        },
        "chosen_model": result.chosen,
        "scored_customers": int(len(result.scores)),
        "scores_table": relation,
    }


def figure(result: Result):
    """ROC curves on the held-out cutoff (every model and the baseline) beside the models' calibration."""
    from sklearn.metrics import roc_curve

    from ecomdwh import charts

    fig = charts._figure(11, 4.2, f"Held-out cutoff {result.split.test['cutoff_date'].iloc[0]}")
    roc, calibration = fig.subplots(1, 2)
    y = result.split.test[LABEL].to_numpy(dtype=float)
    auc = result.metrics.set_index("model")["roc_auc"]
    for name, scores in result.test_scores.items():
        fpr, tpr, _ = roc_curve(y, scores)
        roc.plot(fpr, tpr, label=f"{name} (AUC {auc[name]:.3f})", linestyle="--" if name == BASELINE else "-")
    roc.plot([0, 1], [0, 1], color="#b0b7c3", linewidth=0.8)
    roc.legend(fontsize=8, loc="lower right")
    charts._style(roc, "ROC", "false positive rate", "true positive rate")
    for name, table in result.calibration.groupby("model", sort=False):
        calibration.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name)
    calibration.plot([0, 1], [0, 1], color="#b0b7c3", linewidth=0.8)
    calibration.legend(fontsize=8, loc="upper left")
    charts._style(calibration, "Calibration (deciles of predicted risk)", "mean predicted", "observed churn rate")
    return fig
