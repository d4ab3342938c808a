"""Checks mlsh's ONNX files with the real consumers: for each case folder (model.onnx,
input.csv, pred.csv as mlsh wrote them), onnx.checker.check_model, then onnxruntime on
input.csv, compared with mlsh's predictions. Prints one JSON object: case -> "ok" or what
differed."""
import csv, json, math, sys

import numpy as np
import onnx
import onnxruntime as ort

ELEM = {onnx.TensorProto.DOUBLE: "double", onnx.TensorProto.INT64: "int64",
        onnx.TensorProto.BOOL: "bool", onnx.TensorProto.STRING: "string"}


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(header, rows, name):
    i = header.index(name)
    return [r[i] for r in rows]


def feed(model, header, rows):
    out = {}
    for v in model.graph.input:
        kind = ELEM[v.type.tensor_type.elem_type]
        text = column(header, rows, v.name)
        if kind == "double":
            a = np.array([float(x) if x not in ("", "NA", "nan", "NaN") else math.nan for x in text], dtype=np.float64)
        elif kind == "int64":
            a = np.array([int(x) for x in text], dtype=np.int64)
        elif kind == "bool":
            a = np.array([x == "true" for x in text], dtype=np.bool_)
        else:
            a = np.array(text, dtype=object)
        out[v.name] = a.reshape(-1, 1)
    return out


def label_text(x):
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (np.integer, int)):
        return str(int(x))
    if isinstance(x, (np.floating, float)):
        return repr(float(x))
    return str(x)


def same_label(want, got):
    if isinstance(got, (np.floating, float)):
        return float(want) == float(got)
    return want == label_text(got)


def close(a, b, rel):
    return abs(a - b) <= rel * abs(b) + 1e-12


def check(folder):
    model = onnx.load(folder + "/model.onnx")
    onnx.checker.check_model(model, full_check=True)
    header, rows = read_csv(folder + "/input.csv")
    sess = ort.InferenceSession(folder + "/model.onnx", providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(None, feed(model, header, rows))))
    pheader, prows = read_csv(folder + "/pred.csv")
    want = column(pheader, prows, "prediction")
    pred = got["prediction"]
    if pred.shape != (len(rows),):
        return "prediction has shape %s for %d rows" % (pred.shape, len(rows))
    probas = [h for h in pheader if h.startswith("proba_")]
    if probas:
        for i, (w, g) in enumerate(zip(want, pred)):
            if not same_label(w, g):
                return "row %d: mlsh predicts %s, onnxruntime %s" % (i, w, label_text(g))
        p = got.get("probabilities")
        if p is None or p.shape != (len(rows), len(probas)):
            return "probabilities missing or shaped %s" % (None if p is None else p.shape,)
        for k, h in enumerate(probas):
            for i, w in enumerate(column(pheader, prows, h)):
                if abs(float(w) - float(p[i, k])) > 1e-5:
                    return "row %d %s: mlsh %s, onnxruntime %r" % (i, h, w, float(p[i, k]))
    elif "score" in pheader:
        for i, (w, g) in enumerate(zip(want, pred)):
            if w != label_text(g):
                return "row %d: mlsh flags %s, onnxruntime %s" % (i, w, label_text(g))
        for i, w in enumerate(column(pheader, prows, "score")):
            if not close(float(got["score"][i]), float(w), 1e-5):
                return "row %d score: mlsh %s, onnxruntime %r" % (i, w, float(got["score"][i]))
    elif pred.dtype == np.int64:
        for i, (w, g) in enumerate(zip(want, pred)):
            if int(w) != int(g):
                return "row %d: mlsh cluster %s, onnxruntime %d" % (i, w, int(g))
    else:
        if "probabilities" in names:
            return "a regression model has a probabilities output"
        for i, (w, g) in enumerate(zip(want, pred)):
            if not close(float(g), float(w), 1e-5):
                return "row %d: mlsh %s, onnxruntime %r" % (i, w, float(g))
    return "ok"


results = {}
for folder in sys.argv[1:]:
    try:
        results[folder] = check(folder)
    except Exception as e:  # the failure is the result
        results[folder] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(results))
