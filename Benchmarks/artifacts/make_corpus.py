#!/usr/bin/env python3
"""Writes the labelled artifact corpus that `fathom scan-artifacts` is tested and benchmarked on.

    PYTHONPATH=<site with numpy scikit-learn joblib torch xgboost lightgbm> \
        python3 Benchmarks/artifacts/make_corpus.py [OUT]   (default Tests/FathomCoreTests/Fixtures/artifacts)

Three folders: `malicious/` (every file runs a harmless command when loaded the way its `loader`
in labels.json says), `benign/` (real model files written by the libraries themselves, and plain
pickles), `malformed/` (damaged or hostile containers: expected to be reported unreadable, never to
crash). Then every malicious file is proven to execute: it is loaded in a fresh `python3` subprocess
with FATHOM_CORPUS_MARKER naming a file under /tmp, and the file must exist afterwards; every benign
file is loaded the same way and must load without creating it. A file that fails its check stops the
script. The payloads only ever `touch "$FATHOM_CORPUS_MARKER"` (or open that file from Python):
nothing else, and with the variable unset they do nothing at all.

labels.json records each file's label, technique, loader and the global the scanner should name;
README.md and SHA256SUMS record provenance (this script, the library versions).
"""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "FathomCoreTests", "Fixtures", "artifacts"))
CMD = 'touch "$FATHOM_CORPUS_MARKER"'
PY = 'import os\nm=os.environ.get("FATHOM_CORPUS_MARKER")\nif m: open(m,"w").close()\n'
labels = []


def write(folder, name, data, label, technique, loader, expect=None):
    path = os.path.join(OUT, folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    labels.append({"path": folder + "/" + name, "label": label, "technique": technique, "loader": loader,
                   "expect": expect})


def mal(name, data, technique, loader="pickle", expect=None):
    write("malicious", name, data, "malicious", technique, loader, expect)


def ben(name, data, technique, loader="pickle"):
    write("benign", name, data, "benign", technique, loader)


def bad(name, data, technique):
    write("malformed", name, data, "malformed", technique, "none")


# ---------------------------------------------------------------- opcode helpers (hand assembly)
def su(text):  # SHORT_BINUNICODE
    b = text.encode()
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(text):
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def stack_global(module, name):
    return su(module) + su(name) + b"\x93"


def p4(body):  # PROTO 4 + body (+ STOP)
    return b"\x80\x04" + body + b"."


class Reduce:
    """An object that pickles as `func(*args)`: the classic payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payload_system():
    return Reduce(os.system, CMD)


def fixed_zip(members, compression=zipfile.ZIP_STORED):
    """A zip with fixed timestamps; members: [(name, bytes)] or [(name, bytes, compression)]."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            name, data = member[0], member[1]
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = member[2] if len(member) > 2 else compression
            archive.writestr(info, data)
    return buffer.getvalue()


def tarred(members):
    """A tar archive of [(name, bytes)] with fixed metadata."""
    import tarfile
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1767225600, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


# ---------------------------------------------------------------- malicious: protocols and encodings
def malicious_pickles():
    system = payload_system()
    for protocol in range(6):
        mal(f"protocol{protocol}-os-system.pkl", pickle.dumps(system, protocol=protocol),
            f"os.system via REDUCE, protocol {protocol}", expect="posix.system")
    mal("model.bin", pickle.dumps(system, protocol=0), "protocol 0 pickle named model.bin", expect="posix.system")
    mal("model.pt", pickle.dumps(system, protocol=1), "protocol 1 pickle named model.pt (not a zip)", expect="posix.system")
    mal("model.joblib", pickle.dumps(system, protocol=0), "protocol 0 pickle named model.joblib", expect="posix.system")
    mal("weights", pickle.dumps(system, protocol=2), "protocol 2 pickle with no extension", expect="posix.system")
    q = CMD.replace("'", "\\'")
    # Protocol 0 memo keys that Python's int() accepts.
    mal("memo-underscore.pkl", f"cos\nsystem\np1_0\n0g1_0\n(S'{q}'\ntR.".encode(),
        "protocol 0 memo key '1_0' (int() reads 10)", expect="os.system")
    mal("memo-cr.pkl", f"cos\nsystem\np 1\r\n0g1\n(S'{q}'\ntR.".encode(),
        "protocol 0 memo key ' 1\\r' (int() strips whitespace)", expect="os.system")
    mal("memo-plus.pkl", f"cos\nsystem\np+01\n0g1\n(S'{q}'\ntR.".encode(), "protocol 0 memo key '+01'", expect="os.system")
    # Escaped names: decoded before matching.
    mal("unicode-escaped-names.pkl",
        b"V\\u006fs\nV\\u0073ystem\n\x93(S'" + q.encode() + b"'\ntR.",
        "UNICODE raw-unicode-escape names \\u006fs.\\u0073ystem into STACK_GLOBAL", expect="os.system")
    mal("string-hex-escaped-names.pkl",
        b"S'\\x6fs'\nS'\\x73ystem'\n\x93(S'" + q.encode() + b"'\ntR.",
        "STRING \\x escapes into STACK_GLOBAL", expect="os.system")
    mal("string-octal-escaped-names.pkl",
        b"S'\\157s'\nS'sys\\164em'\n\x93(S'" + q.encode() + b"'\ntR.",
        "STRING octal escapes into STACK_GLOBAL", expect="os.system")
    mal("builtin-eval-protocol2.pkl", pickle.dumps(Reduce(eval, "__import__('os').system('%s')" % q.replace("\\", "")), protocol=2),
        "builtins.eval, written __builtin__.eval at protocol 2", expect="__builtin__.eval")
    mal("builtin-eval-protocol0.pkl", ("c__builtin__\neval\n(V__import__('os').system('" + CMD + "')\ntR.").encode(),
        "__builtin__.eval in protocol 0 (Python 2 name)", expect="__builtin__.eval")
    mal("builtin-exec.pkl", pickle.dumps(Reduce(exec, PY), protocol=4), "builtins.exec of Python source", expect="builtins.exec")
    mal("getattr-import-chain.pkl",
        b"\x80\x02cbuiltins\ngetattr\n(cbuiltins\n__import__\n(X\x02\x00\x00\x00ostRX\x06\x00\x00\x00systemtR(X"
        + struct.pack("<I", len(CMD)) + CMD.encode() + b"tR.",
        "getattr(__import__('os'), 'system')(cmd): no os global", expect="builtins.getattr")
    import subprocess as sp
    mal("subprocess-call.pkl", pickle.dumps(Reduce(sp.call, ["sh", "-c", CMD]), protocol=4), "subprocess.call", expect="subprocess.call")
    mal("subprocess-check-output.pkl", pickle.dumps(Reduce(sp.check_output, ["sh", "-c", CMD]), protocol=3),
        "subprocess.check_output", expect="subprocess.check_output")
    mal("subprocess-popen.pkl", pickle.dumps(Reduce(sp.Popen, ["sh", "-c", CMD]), protocol=5), "subprocess.Popen", expect="subprocess.Popen")
    mal("os-popen.pkl", pickle.dumps(Reduce(os.popen, CMD), protocol=2), "os.popen", expect="os.popen")
    import runpy
    mal("runpy-run-code.pkl", pickle.dumps(Reduce(runpy._run_code, PY, {}), protocol=4), "runpy._run_code of Python source",
        expect="runpy._run_code")
    import cProfile
    import profile
    mal("cprofile-run.pkl", pickle.dumps(Reduce(cProfile.run, 'exec(%r)' % PY), protocol=4),
        "cProfile.run of Python source", expect="cProfile.run")
    mal("profile-run.pkl", pickle.dumps(Reduce(profile.run, 'exec(%r)' % PY), protocol=2), "profile.run", expect="profile.run")
    import time
    import timeit
    mal("timeit-setup.pkl", pickle.dumps(Reduce(timeit.timeit, "pass", PY, time.perf_counter, 1), protocol=4),
        "timeit.timeit with the payload as setup", expect="timeit.timeit")
    import uuid
    mal("uuid-get-command-stdout.pkl", pickle.dumps(Reduce(uuid._get_command_stdout, "sh", "-c", CMD), protocol=4),
        "uuid._get_command_stdout runs a command", expect="uuid._get_command_stdout")
    import pydoc
    mal("pydoc-pipepager.pkl", pickle.dumps(Reduce(pydoc.pipepager, "", CMD), protocol=4), "pydoc.pipepager runs a shell command",
        expect="pydoc.pipepager")
    import numpy.testing._private.utils as npu
    mal("numpy-runstring.pkl", pickle.dumps(Reduce(npu.runstring, PY, {}), protocol=4), "numpy.testing runstring (exec)",
        expect="numpy.testing._private.utils.runstring")
    mal("importlib-getattr.pkl",
        p4(stack_global("builtins", "getattr") + b"(" + stack_global("importlib", "import_module") + su("os") + b"\x85R"
           + su("system") + b"tR" + su(CMD) + b"\x85R"),
        "getattr(importlib.import_module('os'), 'system')(cmd)", expect="importlib.import_module")
    mal("dotted-pathlib-os-system.pkl", p4(stack_global("pathlib", "os.system") + su(CMD) + b"\x85R"),
        "protocol 4 attribute path pathlib + os.system", expect="pathlib.os.system")
    mal("dotted-tempfile-os-system.pkl", b"\x80\x05" + stack_global("tempfile", "_os.system") + su(CMD) + b"\x85R.",
        "protocol 5 attribute path tempfile + _os.system", expect="tempfile._os.system")
    mal("inst-opcode.pkl", f"(S'{q}'\nios\nsystem\n.".encode(), "INST opcode (protocol 0)", expect="os.system")
    mal("obj-opcode.pkl", b"(cos\nsystem\nU" + bytes([len(CMD)]) + CMD.encode() + b"o.", "OBJ opcode (protocol 1)",
        expect="os.system")
    mal("memo-stack-global.pkl",
        b"\x80\x04" + su("os") + b"q\x07" + b"0" + su("system") + b"q\x08" + b"0" + b"h\x07h\x08\x93" + su(CMD) + b"\x85R.",
        "STACK_GLOBAL operands routed through the memo (BINPUT/BINGET)", expect="os.system")
    benign = pickle.dumps({"weights": [1.0, 2.0], "name": "model"}, protocol=2)
    mal("trailing-protocol0.pkl", benign + pickle.dumps(system, protocol=0),
        "a protocol 0 pickle after the STOP of a benign protocol 2 one", loader="pickle-all", expect="posix.system")
    mal("trailing-protocol4.pkl", pickle.dumps([1, 2, 3], protocol=0) + pickle.dumps(system, protocol=4),
        "a protocol 4 pickle after a benign protocol 0 one", loader="pickle-all", expect="posix.system")
    mal("trailing-third.pkl", pickle.dumps(1, protocol=2) + pickle.dumps("x", protocol=1) + pickle.dumps(system, protocol=1),
        "the third of three pickles", loader="pickle-all", expect="posix.system")


# ---------------------------------------------------------------- malicious: containers
def malicious_containers():
    import numpy as np
    import joblib
    system = payload_system()
    p2 = pickle.dumps(system, protocol=2)
    p0 = pickle.dumps(system, protocol=0)
    mal("compressed.pkl.gz", gz(pickle.dumps(system, protocol=4)), "gzip-compressed pickle", loader="gzip", expect="posix.system")
    mal("compressed-named.pkl", gz(p2), "gzip-compressed pickle named .pkl", loader="gzip", expect="posix.system")
    mal("compressed.pkl.bz2", bz2.compress(p2), "bzip2-compressed pickle", loader="bz2", expect="posix.system")
    mal("compressed.pkl.xz", lzma.compress(p2), "xz-compressed pickle", loader="lzma", expect="posix.system")
    mal("compressed.pkl.lzma", lzma.compress(p2, format=lzma.FORMAT_ALONE), ".lzma (alone) compressed pickle", loader="lzma",
        expect="posix.system")
    mal("compressed.pkl.z", zlib.compress(p2), "zlib-compressed pickle", loader="zlib", expect="posix.system")
    mal("deflated-member.zip", fixed_zip([("weights", p2)], zipfile.ZIP_DEFLATED), "deflated zip member not named .pkl",
        loader="zip-member:weights", expect="posix.system")
    mal("stored-protocol0-member.zip", fixed_zip([("config", p0)]), "stored protocol 0 zip member", loader="zip-member:config",
        expect="posix.system")
    mal("bzip2-member.zip", fixed_zip([("state", p2, zipfile.ZIP_BZIP2)]), "bzip2-compressed zip member (method 12)",
        loader="zip-member:state", expect="posix.system")
    inner = fixed_zip([("archive/data.pkl", p2)])
    mal("zip-in-zip.zip", fixed_zip([("inner.zip", inner)]), "zip stored inside a zip", loader="zip-member:inner.zip!archive/data.pkl",
        expect="posix.system")
    mal("zip-in-zip-deflated.zip", fixed_zip([("inner.zip", inner)], zipfile.ZIP_DEFLATED), "zip deflated inside a zip",
        loader="zip-member:inner.zip!archive/data.pkl", expect="posix.system")
    mal("zip-in-zip-in-zip.zip", fixed_zip([("a.zip", fixed_zip([("b.zip", inner)], zipfile.ZIP_DEFLATED))]),
        "three levels of zip", loader="zip-member:a.zip!b.zip!archive/data.pkl", expect="posix.system")
    mal("gzip-in-zip.zip", fixed_zip([("model.pkl.gz", gz(p2))]), "gzip-compressed pickle in a zip",
        loader="zip-member-gzip:model.pkl.gz", expect="posix.system")
    mal("members.tar", tarred([("config.json", b"{}"), ("model/weights", p0)]), "protocol 0 pickle as a tar member",
        loader="tar-member:model/weights", expect="posix.system")
    mal("members.tar.gz", gz(tarred([("checkpoint", p2)])), "pickle in a gzip-compressed tar", loader="tar-gzip-member:checkpoint",
        expect="posix.system")
    # NumPy
    buffer = io.BytesIO()
    np.save(buffer, np.array([system, 1], dtype=object), allow_pickle=True)
    mal("object-array.npy", buffer.getvalue(), "NumPy object array (.npy)", loader="numpy", expect="posix.system")
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.arange(4.0), meta=np.array([system], dtype=object))
    mal("object-array.npz", buffer.getvalue(), "object array in a .npz", loader="numpy", expect="posix.system")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, weights=np.arange(4.0), meta=np.array([system], dtype=object))
    mal("object-array-compressed.npz", buffer.getvalue(), "object array in a compressed .npz", loader="numpy", expect="posix.system")
    structured = np.zeros(2, dtype=[("w", "f8"), ("o", "O")])
    structured["o"][0] = system
    buffer = io.BytesIO()
    np.save(buffer, structured, allow_pickle=True)
    mal("structured-object.npy", buffer.getvalue(), "structured .npy with an object field", loader="numpy", expect="posix.system")
    # joblib
    tmp = tempfile.mkdtemp()
    try:
        def dumped(obj, **kwargs):
            path = os.path.join(tmp, "x.joblib")
            joblib.dump(obj, path, **kwargs)
            with open(path, "rb") as f:
                return f.read()
        mal("joblib-object-array.joblib", dumped({"w": np.arange(8.0), "o": np.array([system, 2], dtype=object)}),
            "payload in a joblib object array (a nested pickle after the array wrapper)", loader="joblib", expect="posix.system")
        mal("joblib-after-array.joblib", dumped({"w": np.arange(64.0), "x": system}),
            "payload after an in-line joblib array", loader="joblib", expect="posix.system")
        for name, compress in [("zlib", 3), ("gzip", ("gzip", 3)), ("bz2", ("bz2", 3)), ("lzma", ("lzma", 3)), ("xz", ("xz", 3))]:
            mal(f"joblib-{name}.joblib", dumped({"w": np.arange(16.0), "x": system}, compress=compress),
                f"joblib compress={compress!r}", loader="joblib", expect="posix.system")
    finally:
        shutil.rmtree(tmp)
    # scikit-learn model with a payload attribute
    from sklearn.linear_model import LogisticRegression
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.9, 0.8]])
    y = np.array([0, 1, 0, 1])
    model = LogisticRegression().fit(X, y)
    model.__dict__["_payload"] = system
    mal("sklearn-with-payload.pkl", pickle.dumps(model, protocol=5), "fitted scikit-learn model carrying a payload attribute",
        expect="posix.system")
    # PyTorch
    try:
        import torch
    except ImportError:
        return
    state = {"linear.weight": torch.zeros(2, 2), "linear.bias": torch.zeros(2), "extra": system}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    mal("torch-zip.pt", buffer.getvalue(), "torch.save zip checkpoint with a payload", loader="torch", expect="posix.system")
    mal("pytorch_model.bin", buffer.getvalue(), "the same checkpoint named pytorch_model.bin", loader="torch", expect="posix.system")
    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=False)
    mal("torch-legacy.pt", buffer.getvalue(), "legacy (non-zip) torch.save with a payload", loader="torch", expect="posix.system")
    buffer = io.BytesIO()
    torch.save(state, buffer, pickle_protocol=4)
    mal("torch-zip-protocol4.ckpt", buffer.getvalue(), "torch.save zip checkpoint, pickle protocol 4", loader="torch",
        expect="posix.system")


# ---------------------------------------------------------------- benign
def benign_files():
    import collections
    import datetime
    import decimal
    import fractions
    import pathlib
    import uuid
    import numpy as np
    import joblib
    value = {"name": "caf\u00e9 \u2603", "layers": [1, 2, 3], "t": (1.5, None, True, False), "big": 2 ** 80,
             "bytes": b"\x00\x01", "set": {1, 2}, "frozen": frozenset({3}), "nested": {"a": [[], {}]}}
    for protocol in range(6):
        ben(f"plain-protocol{protocol}.pkl", pickle.dumps(value, protocol=protocol), f"plain values, protocol {protocol}")
    ben("range-protocol2.pkl", pickle.dumps(range(10), protocol=2), "range(), written __builtin__.xrange at protocol 2")
    ben("range-protocol0.pkl", pickle.dumps([range(3)], protocol=0), "range() at protocol 0")
    ben("collections.pkl", pickle.dumps({"od": collections.OrderedDict(a=1), "c": collections.Counter("aab"),
                                         "dd": collections.defaultdict(list, {"k": [1]}), "dq": collections.deque([1])},
                                        protocol=2), "OrderedDict, Counter, defaultdict(list), deque")
    ben("values.pkl", pickle.dumps({"d": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), "dec": decimal.Decimal("1.5"),
                                    "f": fractions.Fraction(1, 3), "u": uuid.UUID(int=7), "p": pathlib.PurePosixPath("/models/x.pt"),
                                    "td": datetime.timedelta(seconds=5)}, protocol=4), "dates, Decimal, Fraction, UUID, paths")
    ben("two-pickles.pkl", pickle.dumps({"a": 1}, protocol=2) + pickle.dumps([1, 2], protocol=0), "two benign pickles back to back",
        loader="pickle-all")
    ben("numpy-array-protocol2.pkl", pickle.dumps(np.arange(6.0).reshape(2, 3), protocol=2), "ndarray, protocol 2")
    ben("numpy-array-protocol5.pkl", pickle.dumps({"a": np.arange(6, dtype=np.int32), "s": np.float64(1.5),
                                                   "rng": np.random.default_rng(0)}, protocol=5),
        "ndarray, numpy scalar and Generator, protocol 5")
    buffer = io.BytesIO()
    np.save(buffer, np.arange(10.0))
    ben("float-array.npy", buffer.getvalue(), "float .npy", loader="numpy")
    buffer = io.BytesIO()
    np.save(buffer, np.array([1, "two", 3.0], dtype=object), allow_pickle=True)
    ben("plain-object-array.npy", buffer.getvalue(), "object .npy of plain values", loader="numpy")
    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(3), b=np.ones((2, 2)))
    ben("arrays.npz", buffer.getvalue(), ".npz", loader="numpy")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a=np.arange(100), labels=np.array(["x", "y"], dtype=object))
    ben("arrays-compressed.npz", buffer.getvalue(), "compressed .npz with a plain object array", loader="numpy")
    ben("compressed.pkl.gz", gz(pickle.dumps(value, protocol=4)), "gzip-compressed plain pickle", loader="gzip")
    ben("compressed.pkl.xz", lzma.compress(pickle.dumps(value, protocol=2)), "xz-compressed plain pickle", loader="lzma")
    ben("pickles.zip", fixed_zip([("a.pkl", pickle.dumps(value, protocol=2)), ("b", pickle.dumps([1], protocol=0))],
                                 zipfile.ZIP_DEFLATED), "zip of plain pickles", loader="zip-member:a.pkl")
    ben("model-card.tar", tarred([("README.md", b"# card\n"), ("model.pkl", pickle.dumps(value, protocol=4))]),
        "tar of a model card and a plain pickle", loader="tar-member:model.pkl")
    ben("README.md", b"# Model card\n\nLogistic regression, trained 2026-01-01.\n", "text", loader="none")
    ben("config.json", b'{"hidden_size": 8, "architectures": ["Linear"]}\n', "JSON config", loader="none")
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    ben("model.safetensors", struct.pack("<Q", len(header)) + header + b"\x00" * 8, "safetensors", loader="none")

    # scikit-learn, written by pickle and joblib as people save them
    from sklearn.cluster import KMeans
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, IsolationForest, HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler, OneHotEncoder
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeRegressor
    from sklearn.gaussian_process import GaussianProcessClassifier
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = (X[:, 0] > 0.5).astype(int)
    tmp = tempfile.mkdtemp()
    try:
        def dumped(obj, **kwargs):
            path = os.path.join(tmp, "x.joblib")
            joblib.dump(obj, path, **kwargs)
            with open(path, "rb") as f:
                return f.read()
        ben("sklearn-logistic.pkl", pickle.dumps(LogisticRegression().fit(X, y), protocol=4), "LogisticRegression, pickle 4")
        ben("sklearn-forest.joblib", dumped(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)),
            "RandomForestClassifier, joblib", loader="joblib")
        ben("sklearn-pipeline-svc.joblib", dumped(make_pipeline(StandardScaler(), SVC()).fit(X, y), compress=3),
            "StandardScaler + SVC pipeline, joblib compress=3 (zlib)", loader="joblib")
        ben("sklearn-kmeans.pkl", pickle.dumps(KMeans(n_clusters=2, n_init=1, random_state=0).fit(X), protocol=5), "KMeans, pickle 5")
        ben("sklearn-tree.joblib", dumped(DecisionTreeRegressor(max_depth=3).fit(X, X[:, 1]), compress=("gzip", 3)),
            "DecisionTreeRegressor, joblib gzip", loader="joblib")
        ben("sklearn-mlp.pkl", pickle.dumps(MLPClassifier(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X, y),
                                            protocol=2), "MLPClassifier, pickle 2")
        texts = ["good model", "bad model", "good data", "bad data"]
        ben("sklearn-text.joblib", dumped(make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(texts, [1, 0, 1, 0])),
            "TfidfVectorizer + MultinomialNB, joblib", loader="joblib")
        ben("sklearn-gbm.joblib", dumped(GradientBoostingClassifier(n_estimators=3, max_depth=2).fit(X, y), compress=("xz", 3)),
            "GradientBoostingClassifier, joblib xz", loader="joblib")
        ben("sklearn-knn.joblib", dumped(KNeighborsClassifier(algorithm="kd_tree").fit(X, y), compress=("bz2", 3)),
            "KNeighborsClassifier (KDTree), joblib bz2", loader="joblib")
        ben("sklearn-selectkbest.pkl", pickle.dumps(make_pipeline(SelectKBest(f_classif, k=2), LogisticRegression()).fit(X, y),
                                                    protocol=4), "SelectKBest(f_classif) pipeline (a function reference)")
        ben("sklearn-isolation.joblib", dumped(IsolationForest(n_estimators=3, random_state=0).fit(X), compress=("lzma", 3)),
            "IsolationForest, joblib lzma", loader="joblib")
        ben("sklearn-hgb.pkl", pickle.dumps(HistGradientBoostingClassifier(max_iter=3).fit(X, y), protocol=5),
            "HistGradientBoostingClassifier, pickle 5")
        ben("sklearn-onehot.pkl", pickle.dumps(OneHotEncoder().fit([["a"], ["b"]]), protocol=0), "OneHotEncoder, protocol 0")
        ben("sklearn-gpc.pkl", pickle.dumps(GaussianProcessClassifier().fit(X[:10], y[:10]), protocol=4),
            "GaussianProcessClassifier (kernels), pickle 4")
        try:
            import xgboost
            ben("xgboost-classifier.pkl", pickle.dumps(xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(X, y), protocol=4),
                "XGBClassifier, pickle 4")
        except ImportError:
            pass
        try:
            import lightgbm
            ben("lightgbm-classifier.joblib", dumped(lightgbm.LGBMClassifier(n_estimators=2, num_leaves=3, min_child_samples=2,
                                                                             verbose=-1).fit(X, y)),
                "LGBMClassifier, joblib", loader="joblib")
        except ImportError:
            pass
    finally:
        shutil.rmtree(tmp)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    ben("torch-state-dict.pt", buffer.getvalue(), "torch.save state_dict (zip)", loader="torch")
    ben("pytorch_model.bin", buffer.getvalue(), "the same, named pytorch_model.bin", loader="torch")
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer, _use_new_zipfile_serialization=False)
    ben("torch-legacy.pt", buffer.getvalue(), "legacy (non-zip) torch.save state_dict", loader="torch")
    buffer = io.BytesIO()
    torch.save(model, buffer)
    ben("torch-whole-model.pt", buffer.getvalue(), "torch.save of the whole nn.Sequential", loader="torch")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, buffer)
    ben("torch-checkpoint.ckpt", buffer.getvalue(), "training checkpoint with optimizer state", loader="torch")
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(4, dtype=torch.float16), "i": torch.tensor([1], dtype=torch.int64)}, buffer, pickle_protocol=4)
    ben("torch-protocol4.pt", buffer.getvalue(), "torch.save with pickle protocol 4, float16 and int64", loader="torch")


# ---------------------------------------------------------------- malformed
def malformed_files():
    p4full = pickle.dumps({"a": [1, 2, 3], "b": "text"}, protocol=4)
    bad("truncated.pkl", p4full[:-7], "protocol 4 pickle cut short")
    bad("unknown-opcode.pkl", b"\x80\x02]q\x00\xff.", "unknown opcode 0xff")
    archive = fixed_zip([("archive/data.pkl", p4full)])
    bad("cut-directory.pt", archive[:-10], "zip cut inside its end-of-central-directory record")
    bad("corrupt.pkl.gz", gz(p4full)[:20] + b"\xff" * 16, "gzip stream damaged after its header")
    bad("corrupt.pkl.xz", lzma.compress(p4full)[:30] + b"\x00" * 20, "xz stream damaged")
    bad("stack-bomb.pkl.gz", gz(b"\x80\x02" + b"(" * (3 << 20) + b"."), "3 M MARKs: a stack bomb, gzip-compressed")
    # A zip member whose directory entry declares 4 GiB from a few compressed bytes.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("archive/data.pkl", date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, b"\x00" * 100000)
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)
    bad("declared-bomb.zip", bytes(data), "zip member declaring ~4 GiB from 100 compressed bytes (a bomb's header)")
    bad("truncated.npy", b"\x93NUMPY\x01\x00\x76\x00{'descr': '|O',", ".npy header cut short")


# ---------------------------------------------------------------- proof of execution
LOADER = r'''
import sys, os, io, pickle, gzip, bz2, lzma, zlib, zipfile
kind, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
def zip_member(data, chain):
    for name in chain:
        data = zipfile.ZipFile(io.BytesIO(data)).read(name)
    return data
if kind == "pickle":
    pickle.loads(data)
elif kind == "pickle-all":
    f = io.BytesIO(data)
    while f.tell() < len(data):
        pickle.load(f)
elif kind == "gzip":
    pickle.loads(gzip.decompress(data))
elif kind == "bz2":
    pickle.loads(bz2.decompress(data))
elif kind == "lzma":
    pickle.loads(lzma.decompress(data))
elif kind == "zlib":
    pickle.loads(zlib.decompress(data))
elif kind.startswith("zip-member-gzip:"):
    pickle.loads(gzip.decompress(zip_member(data, kind.split(":", 1)[1].split("!"))))
elif kind.startswith("zip-member:"):
    pickle.loads(zip_member(data, kind.split(":", 1)[1].split("!")))
elif kind.startswith("tar-member:") or kind.startswith("tar-gzip-member:"):
    import tarfile
    if kind.startswith("tar-gzip"):
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        pickle.loads(archive.extractfile(kind.split(":", 1)[1]).read())
elif kind == "numpy":
    import numpy as np
    loaded = np.load(path, allow_pickle=True)
    if hasattr(loaded, "files"):
        for key in loaded.files:
            loaded[key]
elif kind == "joblib":
    import joblib
    joblib.load(path)
elif kind == "torch":
    import torch
    torch.load(path, weights_only=False)
'''


def verify():
    failures = []
    for entry in labels:
        if entry["loader"] == "none":
            entry["verified"] = entry["label"] == "benign"
            continue
        marker = tempfile.mktemp(prefix="fathom-corpus-marker-")
        env = dict(os.environ, FATHOM_CORPUS_MARKER=marker)
        run = subprocess.run([sys.executable, "-c", LOADER, entry["loader"], os.path.join(OUT, entry["path"])],
                             env=env, capture_output=True, timeout=120)
        executed = os.path.exists(marker)
        if executed:
            os.remove(marker)
        if entry["label"] == "malicious":
            entry["verified"] = executed
            if not executed:
                failures.append(f"{entry['path']}: did not execute ({run.stderr.decode(errors='replace')[-300:]})")
        else:
            entry["verified"] = run.returncode == 0 and not executed
            if not entry["verified"]:
                failures.append(f"{entry['path']}: benign file failed to load or executed ({run.stderr.decode(errors='replace')[-300:]})")
    if failures:
        sys.exit("corpus check failed:\n" + "\n".join(failures))

def write_readme(info):
    files = info["files"]
    v = info["versions"]
    count = lambda label: sum(e["label"] == label for e in files)
    rows = "\n".join(f"| `{e['path']}` | {e['label']} | {e['technique'].replace('|', '/')} | `{e['loader']}` |" for e in files)
    text = f"""# Labelled model-artifact corpus

Written by [`Benchmarks/artifacts/make_corpus.py`](../../../../Benchmarks/artifacts/make_corpus.py); do not edit by hand.
`ArtifactCorpusTests` (Tests/FathomCoreTests/ArtifactScanTests.swift) checks that `fathom scan-artifacts`
finds every malicious file at the default gate (`--fail-on high`), naming the global in `expect`, flags no
benign file and reports every malformed one as unreadable; `Benchmarks/artifact_bench.py` runs fathom,
picklescan, fickling and modelscan over it side by side.

| folder | files | what |
|---|---|---|
| `malicious/` | {count('malicious')} | every one **proven to execute** when loaded the way its `loader` says: the generator loads each in a fresh `python3` with `FATHOM_CORPUS_MARKER` naming a file under /tmp and requires the file to exist afterwards (`verified` in labels.json) |
| `benign/` | {count('benign')} | real model files written by the libraries themselves (scikit-learn, NumPy, joblib, PyTorch, XGBoost, LightGBM) and plain pickles; each loads without running anything |
| `malformed/` | {count('malformed')} | damaged or hostile containers (cut pickle and zip, corrupt gzip/xz, a stack bomb, a zip member declaring 4 GiB): reported unreadable, never a crash |

**Payloads are harmless.** Every payload runs `touch "$FATHOM_CORPUS_MARKER"` (or opens that file from
Python): with the variable unset it does nothing. Nothing else is ever executed.

**Provenance.** Generated with Python {v['python']}, numpy {v['numpy']}, scikit-learn {v['sklearn']},
joblib {v['joblib']}, torch {v['torch']} (the CPU wheel from PyPI), xgboost {v['xgboost']}, lightgbm {v['lightgbm']}
(`labels.json` records them). Regenerate with

```sh
pip install --target /tmp/deps numpy scikit-learn joblib xgboost lightgbm "torch==2.13.0+cpu" \\
    filelock typing-extensions sympy networkx jinja2 fsspec
PYTHONPATH=/tmp/deps python3 Benchmarks/artifacts/make_corpus.py
```

Hand-assembled pickles, zips and tars (fixed timestamps) come out byte-identical; a few library-written
files (joblib's compressed containers, some PyTorch zips) differ between runs, so `SHA256SUMS` records
the committed bytes. Loaders: `pickle` (`pickle.loads`), `pickle-all` (every pickle of the file in turn,
as legacy `torch.load` reads several), `gzip`/`bz2`/`lzma`/`zlib` (decompress, then `pickle.loads`),
`zip-member:A!B` (the member B of the zip member A, then `pickle.loads`), `tar-member:A`, `numpy`
(`np.load(allow_pickle=True)`, every array of an `.npz`), `joblib` (`joblib.load`), `torch`
(`torch.load(weights_only=False)`), `none` (not a pickle).

| file | label | technique | loader |
|---|---|---|---|
{rows}
"""
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(text)


def versions():
    found = {"python": sys.version.split()[0]}
    for module in ["numpy", "sklearn", "joblib", "torch", "xgboost", "lightgbm"]:
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            found[module] = None
    return found


def main():
    for folder in ["malicious", "benign", "malformed"]:
        shutil.rmtree(os.path.join(OUT, folder), ignore_errors=True)
    malicious_pickles()
    malicious_containers()
    benign_files()
    malformed_files()
    verify()
    labels.sort(key=lambda e: e["path"])
    info = {"generator": "Benchmarks/artifacts/make_corpus.py", "versions": versions(), "files": labels}
    with open(os.path.join(OUT, "labels.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT, "SHA256SUMS"), "w") as f:
        for entry in labels:
            with open(os.path.join(OUT, entry["path"]), "rb") as g:
                f.write(hashlib.sha256(g.read()).hexdigest() + "  " + entry["path"] + "\n")
    write_readme(info)
    counts = {}
    for entry in labels:
        counts[entry["label"]] = counts.get(entry["label"], 0) + 1
    size = sum(os.path.getsize(os.path.join(OUT, e["path"])) for e in labels)
    print(f"wrote {counts} ({size} bytes) to {OUT}; versions {info['versions']}")


if __name__ == "__main__":
    main()
