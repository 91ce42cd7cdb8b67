"""Rarity and outliers against pandas and scikit-learn on the same data: stack counts,
first-seen values, z-score, MAD and IQR outliers per group, and the isolation forest's top
outliers against scikit-learn's."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

import hela


@pytest.fixture()
def connection(tmp_path):
    rng = np.random.default_rng(11)
    hosts = [f"HOST{n}" for n in range(6)]
    parents = ["explorer.exe", "services.exe", "wmiprvse.exe", "winword.exe"]
    children = ["cmd.exe", "powershell.exe", "svchost.exe", "rundll32.exe", "whoami.exe"]
    rows = 3000
    frame = pd.DataFrame({
        "Hostname": rng.choice(hosts, rows),
        "ParentImage": rng.choice(parents, rows, p=[0.5, 0.35, 0.1, 0.05]),
        "Image": rng.choice(children, rows, p=[0.4, 0.3, 0.2, 0.07, 0.03]),
        "logons": rng.poisson(20, rows).astype(float),
        "time": pd.Timestamp("2020-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 30 * 86400, rows), unit="s"),
    })
    frame.loc[rng.choice(rows, 12, replace=False), "logons"] = 95.0
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    connection = hela.Connection(tmp_path / "lake")
    connection.register("procs", frame)
    return connection, frame


def test_stack_count_is_pandas_value_counts_per_group(connection):
    connection, frame = connection
    found = connection.sql("SELECT * FROM stack_count(procs, 'ParentImage, Image', 'Hostname')").to_pandas()
    counts = frame.groupby(["Hostname", "ParentImage", "Image"]).size().rename("count").reset_index()
    counts["share"] = counts["count"] / counts.groupby("Hostname")["count"].transform("sum")
    counts["rarity"] = counts.groupby("Hostname")["count"].rank(method="min").astype(int)
    merged = found.merge(counts, on=["Hostname", "ParentImage", "Image"], suffixes=("", "_pandas"))
    assert len(merged) == len(found) == len(counts)
    assert (merged["count"] == merged["count_pandas"]).all()
    assert np.allclose(merged["share"], merged["share_pandas"])
    assert (merged["rarity"] == merged["rarity_pandas"]).all()
    rarest = connection.sql("SELECT * FROM stack_count(procs, 'ParentImage, Image', 'Hostname', 1)").to_pandas()
    assert len(rarest) == (counts["rarity"] == 1).sum()


def test_first_seen_is_relative_to_the_datas_end(connection):
    connection, frame = connection
    found = connection.sql("SELECT Hostname, Image, count FROM first_seen(procs, 'Image', 'time', 'Hostname', 3)").to_pandas()
    times = pd.to_datetime(frame["time"])
    first = frame.assign(t=times).groupby(["Hostname", "Image"]).agg(first=("t", "min"), count=("t", "size")).reset_index()
    expected = first[first["first"] >= times.max() - pd.Timedelta(days=3)]
    assert set(zip(found["Hostname"], found["Image"], found["count"])) == set(zip(expected["Hostname"], expected["Image"], expected["count"]))


@pytest.mark.parametrize("method", ["zscore", "mad", "iqr"])
def test_outliers_per_group_match_pandas(connection, method):
    connection, frame = connection
    found = connection.sql(f"SELECT Hostname, logons, time, score, is_outlier FROM outliers(procs, 'logons', '{method}', 'Hostname')").to_pandas()
    groups = frame.groupby("Hostname")["logons"]
    if method == "zscore":
        score = (frame["logons"] - groups.transform("mean")) / groups.transform("std")
        outlier = score.abs() > 3
    elif method == "mad":
        median = groups.transform("median")
        mad = (frame["logons"] - median).abs().groupby(frame["Hostname"]).transform("median")
        score = 0.6745 * (frame["logons"] - median) / mad
        outlier = score.abs() > 3.5
    else:
        q1, q3 = groups.transform(lambda x: x.quantile(0.25)), groups.transform(lambda x: x.quantile(0.75))
        spread = q3 - q1
        score = np.where(frame["logons"] > q3, (frame["logons"] - q3) / spread, np.where(frame["logons"] < q1, (frame["logons"] - q1) / spread, 0.0))
        outlier = np.abs(score) > 1.5
    expected = frame.assign(score=score, is_outlier=outlier)
    merged = found.merge(expected, on=["Hostname", "time", "logons"], suffixes=("", "_pandas"))
    assert len(merged) == len(found) == len(frame)
    assert np.allclose(merged["score"], merged["score_pandas"])
    assert (merged["is_outlier"] == merged["is_outlier_pandas"]).all()
    assert merged["is_outlier"].sum() >= 12


def test_isolation_forest_agrees_with_scikit_learn_on_the_top_outliers(tmp_path):
    rng = np.random.default_rng(3)
    normal = rng.normal(0, 1, size=(2000, 3))
    planted = rng.normal(0, 1, size=(20, 3)) * 0.5 + rng.choice([-7, 7], size=(20, 3))
    frame = pd.DataFrame(np.vstack([normal, planted]), columns=["a", "b", "c"]).assign(n=range(2020))
    connection = hela.Connection(tmp_path / "lake")
    connection.register("features", frame)
    found = connection.sql("SELECT n, anomaly_score FROM isolation_forest(features, 'a, b, c', 200, 256, 7)").to_pandas().set_index("n")["anomaly_score"]
    model = IsolationForest(n_estimators=200, max_samples=256, random_state=7).fit(frame[["a", "b", "c"]])
    reference = pd.Series(-model.score_samples(frame[["a", "b", "c"]]), index=frame["n"])
    top = set(found.nlargest(20).index)
    reference_top = set(reference.nlargest(20).index)
    # Both find the planted points; the two forests draw different random trees, so the
    # scores differ a little, but rank the rows alike.
    assert top == reference_top == set(range(2000, 2020))
    assert found.corr(reference, method="spearman") > 0.9
    again = connection.sql("SELECT n, anomaly_score FROM isolation_forest(features, 'a, b, c', 200, 256, 7)").to_pandas().set_index("n")["anomaly_score"]
    assert again.sort_index().equals(found.sort_index())


def test_wrong_calls_say_what_is_wrong(connection):
    connection, _ = connection
    for sql, said in [
        ("SELECT * FROM outliers(procs, 'logons', 'sigma')", "zscore, mad or iqr"),
        ("SELECT * FROM outliers(procs, 'nope', 'mad')", "no column `nope`"),
        ("SELECT * FROM stack_count(procs)", "name the columns"),
        ("SELECT * FROM isolation_forest(procs, 'logons', 0)", "at least 1"),
        ("SELECT * FROM outliers(procs, 'logons', 'zscore', 'Hostname', random())", "must be a constant"),
    ]:
        with pytest.raises(Exception, match=said):
            connection.sql(sql).to_arrow()
