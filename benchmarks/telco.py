"""IBM Telco churn: C-index of Undertow's hazard model next to lifelines CoxPHFitter and
Kaplan-Meier, in the same run, on the same documented splits.

Data: ../shared/data/churn/Telco-Customer-Churn.csv (7,043 customers; see its README).
Duration = ``tenure`` (months), event = ``Churn == "Yes"``. The 11 customers with tenure 0
(no exposure yet; their TotalCharges is blank) are dropped.

Split: stratified (by Churn) 70/30 train/test with ``random_state`` 0..4; figures are the
test C-index, mean and spread over the five splits.

Leakage, handled honestly: ``TotalCharges`` is almost exactly ``tenure x MonthlyCharges``,
i.e. it encodes the duration being predicted. It is excluded from every model reported
as a result; one extra line shows what it would (wrongly) do to a Cox model, labelled
as leaky. Covariates: all other columns, one-hot (first level dropped).

Undertow's model (``risk.survival.pem``): the customer's history expanded to monthly
person-period rows (exposure 1 month, event in the churn month), tenure as the
time-varying ``log_tenure`` covariate, ranked by P(churn within 24 months) for a new
customer with the same covariates.

    .venv/bin/python benchmarks/telco.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# benchmarks/ingest.py would shadow the ``ingest`` package: import the repository's packages
sys.path[0] = str(Path(__file__).resolve().parents[1])

DATA = Path(__file__).resolve().parents[1] / "../shared/data/churn/Telco-Customer-Churn.csv"
CATEGORICAL = ["gender", "Partner", "Dependents", "PhoneService", "MultipleLines", "InternetService",
               "OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
               "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod"]  # fmt: skip


def load() -> tuple[pd.DataFrame, list[str]]:
    raw = pd.read_csv(DATA)
    raw["TotalCharges"] = pd.to_numeric(raw["TotalCharges"], errors="coerce")
    raw = raw[raw["tenure"] > 0].reset_index(drop=True)
    x = pd.get_dummies(raw[CATEGORICAL], drop_first=True, dtype=float)
    x.columns = [c.replace(" ", "_").replace("(", "").replace(")", "") for c in x.columns]
    x["SeniorCitizen"] = raw["SeniorCitizen"].astype(float)
    x["MonthlyCharges"] = raw["MonthlyCharges"]
    covariates = list(x.columns)
    x["TotalCharges"] = raw["TotalCharges"]
    x["duration"] = raw["tenure"].astype(float)
    x["event"] = (raw["Churn"] == "Yes").astype(int)
    return x, covariates


def person_months(df: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    n = df["duration"].astype(int).to_numpy()
    idx = np.repeat(np.arange(len(df)), n)
    month = np.concatenate([np.arange(k) for k in n])
    rows = df.iloc[idx][covariates].reset_index(drop=True)
    rows["tenure"] = month.astype(float)
    rows["log_tenure"] = np.log1p(rows["tenure"] / 12.0)
    rows["exposure"] = 1.0
    last = month == (n[idx] - 1)
    rows["event"] = (last & (df["event"].to_numpy()[idx] == 1)).astype(int)
    return rows


def main() -> None:
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.utils import concordance_index
    from sklearn.model_selection import train_test_split

    from risk.survival.pem import PiecewiseExponentialModel

    df, cov = load()
    km_all = KaplanMeierFitter().fit(df["duration"], df["event"])
    print(f"rows {len(df)}, churned {int(df['event'].sum())}; KM S(12)={km_all.predict(12):.3f} "
          f"S(24)={km_all.predict(24):.3f} S(72)={km_all.predict(72):.3f}")  # fmt: skip
    corr = np.corrcoef(df["TotalCharges"], df["duration"] * df["MonthlyCharges"])[0, 1]
    print(f"corr(TotalCharges, tenure x MonthlyCharges) = {corr:.4f}  -> TotalCharges excluded")
    res: dict[str, list[float]] = {
        "kaplan_meier": [],
        "lifelines_coxph": [],
        "undertow_pem": [],
        "coxph_with_TotalCharges (LEAKY)": [],
    }
    times: dict[str, float] = {"lifelines_coxph": 0.0, "undertow_pem": 0.0}
    for seed in range(5):
        tr, te = train_test_split(df, test_size=0.3, stratify=df["event"], random_state=seed)
        km = KaplanMeierFitter().fit(tr["duration"], tr["event"])
        res["kaplan_meier"].append(
            concordance_index(te["duration"], np.full(len(te), km.predict(24)), te["event"])
        )
        t = time.perf_counter()
        cph = CoxPHFitter(penalizer=0.01).fit(tr[cov + ["duration", "event"]], "duration", "event")
        times["lifelines_coxph"] += time.perf_counter() - t
        hazard = cph.predict_partial_hazard(te[cov]).to_numpy()
        res["lifelines_coxph"].append(concordance_index(te["duration"], -hazard, te["event"]))
        leaky = CoxPHFitter(penalizer=0.01).fit(
            tr[cov + ["TotalCharges", "duration", "event"]], "duration", "event"
        )
        res["coxph_with_TotalCharges (LEAKY)"].append(concordance_index(
            te["duration"], -leaky.predict_partial_hazard(te[cov + ["TotalCharges"]]).to_numpy(), te["event"]))  # fmt: skip
        t = time.perf_counter()
        rows = person_months(tr, cov)
        model = PiecewiseExponentialModel(cov + ["log_tenure"], penalty=1.0).fit(rows)
        times["undertow_pem"] += time.perf_counter() - t
        new = te[cov].assign(tenure=0.0, log_tenure=0.0)
        p24 = 1 - np.exp(-model.cumulative_hazard(new, [730.5])[:, 0])
        res["undertow_pem"].append(concordance_index(te["duration"], -p24, te["event"]))
    print(f"{'model':36s} test C-index (5 stratified 70/30 splits)   fit time (5 fits)")
    ref = np.mean(res["lifelines_coxph"])
    for name, v in res.items():
        tt = f"{times[name]:.1f} s" if name in times else ""
        print(
            f"{name:36s} {np.mean(v):.4f} +- {np.std(v):.4f}  (vs CoxPH {np.mean(v) - ref:+.4f})   {tt}"
        )


if __name__ == "__main__":
    main()
