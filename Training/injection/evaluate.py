"""Evaluates the shipped prompt-injection model: recall, false-positive rate, precision at its
threshold, and the precision-recall curve.

    python3 Training/injection/evaluate.py                 # the held-back test split (after train.py)
    python3 Training/injection/evaluate.py --ci            # the committed CI sample (data/ci-test.jsonl)

The model is read from Sources/FathomDetect/Model/InjectionModelData.swift, the bytes Fathom
ships, not from the trainer's memory. `--plot FILE` writes the precision-recall curve as a PNG
(matplotlib). `--ci` exits 1 when the sample misses the issue's bar (recall >= 0.70 at a
false-positive rate <= 0.5 %) or when the model's SHA-256 differs from model.json.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import features  # noqa: E402


def shipped_model():
    source = open(os.path.join(ROOT, 'Sources/FathomDetect/Model/InjectionModelData.swift')).read()
    body = re.search(r'"""\n(.*?)\n"""', source, re.S).group(1)
    blob = base64.b64decode(''.join(body.split()))
    assert blob[:8] == b'FTHMINJ1', 'not a Fathom injection model'
    version, bits, length, scale, bias = struct.unpack('<IIIdd', blob[8:36])
    assert version == 1 and bits == features.BITS
    meta = json.loads(blob[36:36 + length])
    weights = np.frombuffer(blob[36 + length:], dtype=np.int8).copy()
    return features.Model(weights, scale, bias), meta, hashlib.sha256(blob).hexdigest()


def summary(scores, labels, threshold):
    flagged = scores >= threshold
    tp = int((flagged & (labels == 1)).sum())
    fp = int((flagged & (labels == 0)).sum())
    p, n = int(labels.sum()), int((labels == 0).sum())
    return {'attacks': p, 'benign': n, 'true_positives': tp, 'false_positives': fp,
            'recall': round(tp / p, 4) if p else None, 'fpr': round(fp / n, 4) if n else None,
            'precision': round(tp / (tp + fp), 4) if tp + fp else None}


def pr_curve(scores, labels):
    order = np.argsort(-scores, kind='stable')
    t = labels[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    return tp / max(1, labels.sum()), tp / np.maximum(1, tp + fp), scores[order]


def plot(scores, labels, threshold, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    recall, precision, _ = pr_curve(scores, labels)
    at = summary(scores, labels, threshold)
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
    ax.plot(recall, precision, color='#1f5fa8', lw=2, label='prompt.injection-model')
    ax.scatter([at['recall']], [at['precision']], color='#c0392b', zorder=3,
               label=f"threshold {threshold:.3f}: recall {at['recall']:.3f}, FPR {at['fpr'] * 100:.2f} %")
    ax.set_xlabel('recall (attacks flagged)')
    ax.set_ylabel('precision')
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0.5, 1.01)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc='lower left', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, metadata={'Software': None})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ci', action='store_true', help='score the committed CI sample and enforce the bar')
    parser.add_argument('--plot', help='write the precision-recall curve to this PNG')
    args = parser.parse_args()
    model, meta, sha = shipped_model()
    card = json.load(open(os.path.join(HERE, 'model.json')))
    threshold = meta['threshold']
    if args.ci:
        rows = [json.loads(line) for line in open(os.path.join(HERE, 'data/ci-test.jsonl'))]
        labels = np.array([r['label'] for r in rows])
        scores = np.array([model.score(r['text']) for r in rows])
        name = 'CI sample of the held-back test split (data/ci-test.jsonl)'
    else:
        path = os.path.join(HERE, 'work/test-scores.jsonl')
        if not os.path.exists(path):
            raise SystemExit('no work/test-scores.jsonl: run corpus.py and train.py first (README.md)')
        rows = [json.loads(line) for line in open(path)]
        labels = np.array([r['label'] for r in rows])
        scores = np.array([r['score'] for r in rows])
        name = 'held-back test split'
    result = summary(scores, labels, threshold)
    print(f'model sha256 {sha}  threshold {threshold:.4f} (validation FPR target {meta["target_validation_fpr"]})')
    print(f'{name}: ' + json.dumps(result))
    recall, precision, cut = pr_curve(scores, labels)
    print('precision-recall curve (score threshold, recall, precision):')
    for target in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0):
        index = int(np.searchsorted(recall, target))
        if index < len(recall):
            print(f'  {cut[index]:.4f}  {recall[index]:.3f}  {precision[index]:.3f}')
    if args.plot:
        plot(scores, labels, threshold, args.plot, f'Prompt-injection detector, {name}\n'
             f"({result['attacks']} attacks, {result['benign']} benign prompts)")
        print(f'wrote {args.plot}')
    failed = []
    if sha != card['sha256']:
        failed.append(f"shipped model {sha} is not the one model.json describes ({card['sha256']})")
    if args.ci and (result['recall'] < 0.70 or result['fpr'] > 0.005):
        failed.append(f"below the bar: recall {result['recall']} (>= 0.70), FPR {result['fpr']} (<= 0.005)")
    for line in failed:
        print('FAILED: ' + line)
    passed = 2 - len(failed)
    print(f'injection-eval: {passed} passed, {len(failed)} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
