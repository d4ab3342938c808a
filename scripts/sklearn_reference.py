#!/usr/bin/env python3
"""scikit-learn's figures for the fixed splits used in Tests/MLShModelsTests/QualityTests.swift.

Split: row index % 5 == 4 is test, the rest train (no RNG shared between Swift and Python).
Run once (python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn pandas),
then paste the printed figures into the tests. scikit-learn 1.9.1.
"""
import os
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, adjusted_rand_score, log_loss, mean_squared_error, r2_score, roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def split(name, target):
    df = pd.read_csv(os.path.join(DATA, name + ".csv"))
    test = np.arange(len(df)) % 5 == 4
    X = df.drop(columns=[target]).to_numpy(float)
    y = df[target].to_numpy()
    return X[~test], X[test], y[~test], y[test]


def scaled(Xtr, Xte):
    s = StandardScaler().fit(Xtr)
    return s.transform(Xtr), s.transform(Xte)


def reg(label, model, Xtr, Xte, ytr, yte):
    model.fit(Xtr, ytr)
    p = model.predict(Xte)
    print(f"{label}: rmse={mean_squared_error(yte, p) ** 0.5:.6f} r2={r2_score(yte, p):.6f}")
    return model


def clf(label, model, Xtr, Xte, ytr, yte):
    model.fit(Xtr, ytr)
    p = model.predict(Xte)
    pr = model.predict_proba(Xte)
    extra = ""
    if pr.shape[1] == 2:
        extra = f" auc={roc_auc_score(yte == model.classes_[1], pr[:, 1]):.6f}"
    print(f"{label}: accuracy={accuracy_score(yte, p):.6f} logloss={log_loss(yte, pr, labels=model.classes_):.6f}{extra}")
    return model


d = split("diabetes", "progression")
m = reg("diabetes linear", LinearRegression(), *d)
print("  coef", np.round(m.coef_, 6).tolist(), "intercept", round(float(m.intercept_), 6))
m = reg("diabetes ridge(alpha=1)", Ridge(alpha=1.0), *d)
print("  coef", np.round(m.coef_, 6).tolist(), "intercept", round(float(m.intercept_), 6))
m = reg("diabetes lasso(alpha=1)", Lasso(alpha=1.0), *d)
print("  coef", np.round(m.coef_, 6).tolist(), "intercept", round(float(m.intercept_), 6))
Xtr, Xte = scaled(d[0], d[1])
reg("diabetes standardize>>knn(k=5)", KNeighborsRegressor(5), Xtr, Xte, d[2], d[3])
reg("diabetes tree(max_depth=4)", DecisionTreeRegressor(max_depth=4, random_state=0), *d)
reg("diabetes forest(100, max_depth=6)", RandomForestRegressor(100, max_depth=6, random_state=0), *d)
rs = []
for seed in range(5):
    f = RandomForestRegressor(100, max_depth=6, random_state=seed).fit(d[0], d[2])
    rs.append(r2_score(d[3], f.predict(d[1])))
print(f"diabetes forest(100, max_depth=6) mean r2 over random_state 0..4: {np.mean(rs):.6f}")
reg("diabetes boost(100, 0.1, depth 3)", GradientBoostingRegressor(n_estimators=100, learning_rate=0.1, max_depth=3, random_state=0), *d)

b = split("breast_cancer", "diagnosis")
Xtr, Xte = scaled(b[0], b[1])
clf("breast_cancer standardize>>logistic", LogisticRegression(C=1.0, max_iter=100), Xtr, Xte, b[2], b[3])
clf("breast_cancer naive_bayes", GaussianNB(), *b)
clf("breast_cancer standardize>>knn(k=5)", KNeighborsClassifier(5), Xtr, Xte, b[2], b[3])
clf("breast_cancer tree(max_depth=5)", DecisionTreeClassifier(max_depth=5, random_state=0), *b)
clf("breast_cancer forest(100)", RandomForestClassifier(100, random_state=0), *b)
clf("breast_cancer boost", GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_depth=3, random_state=0), *b)

i = split("iris", "species")
Xtr, Xte = scaled(i[0], i[1])
m = clf("iris standardize>>logistic", LogisticRegression(C=1.0, max_iter=100), Xtr, Xte, i[2], i[3])
print("  coef", np.round(m.coef_, 4).tolist(), "intercept", np.round(m.intercept_, 4).tolist())
# scikit-learn stops at gtol=1e-4; the exact optimum (what mlsh converges to) is:
m = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(Xtr, i[2])
print("  converged coef", np.round(m.coef_, 6).tolist(), "intercept", np.round(m.intercept_, 6).tolist())
Xtr, Xte = scaled(b[0], b[1])
m = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(Xtr, b[2])
print("breast_cancer standardize>>logistic converged coef[:6]", np.round(m.coef_[0, :6], 6).tolist(),
      "intercept", np.round(m.intercept_, 6).tolist())
clf("iris naive_bayes", GaussianNB(), *i)
clf("iris tree", DecisionTreeClassifier(random_state=0), *i)
clf("iris boost", GradientBoostingClassifier(random_state=0), *i)

w = split("wine", "cultivar")
Xtr, Xte = scaled(w[0], w[1])
clf("wine standardize>>logistic", LogisticRegression(C=1.0, max_iter=100), Xtr, Xte, w[2], w[3])
clf("wine naive_bayes", GaussianNB(), *w)
clf("wine standardize>>knn(k=5)", KNeighborsClassifier(5), Xtr, Xte, w[2], w[3])
clf("wine forest(100)", RandomForestClassifier(100, random_state=0), *w)
pca = PCA(n_components=3).fit(Xtr)
print("wine standardize>>pca(k=3) explained_variance", np.round(pca.explained_variance_, 6).tolist())
print("  components[:, :4]", np.round(pca.components_[:, :4], 6).tolist())
print("  first test row", np.round(pca.transform(Xte[:1])[0], 6).tolist())
clf("wine standardize>>pca(k=3)>>logistic", LogisticRegression(C=1.0, max_iter=100), pca.transform(Xtr), pca.transform(Xte), w[2], w[3])
pca = PCA(n_components=4).fit(d[0])
print("diabetes pca(k=4) explained_variance", np.round(pca.explained_variance_, 6).tolist())
reg("diabetes pca(k=4)>>linear", LinearRegression(), pca.transform(d[0]), pca.transform(d[1]), d[2], d[3])

g = split("digits", "digit")
clf("digits naive_bayes", GaussianNB(), *g)
Xtr, Xte = scaled(g[0], g[1])
clf("digits standardize>>logistic(l2=1, max_iter=1000)", LogisticRegression(C=1.0, max_iter=1000), Xtr, Xte, g[2], g[3])

# kmeans on all of iris (features standardised), ARI against species.
df = pd.read_csv(os.path.join(DATA, "iris.csv"))
X = StandardScaler().fit_transform(df.drop(columns=["species"]).to_numpy(float))
for seed in range(3):
    km = KMeans(n_clusters=3, n_init=1, random_state=seed).fit(X)
    print(f"iris kmeans(k=3) seed {seed}: ari={adjusted_rand_score(df.species, km.labels_):.6f} inertia={km.inertia_:.6f}")
df = pd.read_csv(os.path.join(DATA, "wine.csv"))
X = StandardScaler().fit_transform(df.drop(columns=["cultivar"]).to_numpy(float))
km = KMeans(n_clusters=3, n_init=1, random_state=0).fit(X)
print(f"wine kmeans(k=3): ari={adjusted_rand_score(df.cultivar, km.labels_):.6f} inertia={km.inertia_:.6f}")
