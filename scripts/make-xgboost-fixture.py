#!/usr/bin/python3
"""Writes the Python side of the XGBoost interchange fixture in test/fixtures/xgboost/.

Run with Debian's python, which has python3-xgboost 1.7.4 built on the same libxgboost as the binding:

    /usr/bin/python3 scripts/make-xgboost-fixture.py

test/models/xgboost.test.ts loads python-model.json through the TypeScript binding, predicts on data.json
and expects exactly python-predictions.json. Numbers are written as the exact double value of each
float32 (json writes Python floats with repr, which round-trips), so nothing is lost on either side.
Missing features are NaN here and null in data.json, since JSON has no NaN.
"""
import json
import math
import os

import numpy as np
import xgboost as xgb

SEED = 7
NROW, NCOL = 200, 5
ROUNDS = 20
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "max_depth": 3,
    "eta": 0.3,
    "tree_method": "hist",
    "seed": SEED,
    "nthread": 1,
}
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "xgboost")


def make_dataset():
    # RandomState, not default_rng: numpy guarantees its stream stays the same across versions.
    rng = np.random.RandomState(SEED)
    features = rng.normal(size=(NROW, NCOL)).astype(np.float32)
    noise = rng.normal(scale=0.5, size=NROW)
    score = features[:, 0] + 0.5 * features[:, 1] - features[:, 3] + noise
    labels = (score > 0).astype(np.float32)
    # Some missing values, so the fixture also checks that NaN means "missing" on both sides.
    features[rng.rand(NROW) < 0.1, 2] = np.nan
    return features, labels


def as_json_number(value):
    return None if math.isnan(value) else float(value)


def write_json(name, value):
    with open(os.path.join(OUT_DIR, name), "w") as out:
        json.dump(value, out)
        out.write("\n")


def main():
    features, labels = make_dataset()
    dtrain = xgb.DMatrix(features, label=labels, missing=np.nan)
    booster = xgb.train(PARAMS, dtrain, num_boost_round=ROUNDS)
    predictions = booster.predict(dtrain)
    assert predictions.dtype == np.float32

    os.makedirs(OUT_DIR, exist_ok=True)
    booster.save_model(os.path.join(OUT_DIR, "python-model.json"))
    write_json(
        "data.json",
        {
            "nrow": NROW,
            "ncol": NCOL,
            "features": [as_json_number(v) for v in features.ravel()],
            "labels": [float(v) for v in labels],
        },
    )
    write_json("python-predictions.json", [float(v) for v in predictions])


if __name__ == "__main__":
    main()
