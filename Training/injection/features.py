"""The prompt-injection detector's features and scoring, exactly as the Swift inference computes them.

Sources/FathomDetect/Model/InjectionModel.swift is the other half of this file: both read the
same bytes the same way, and `Tests/FathomCoreTests/InjectionModelTests.swift` compares their
scores on `data/parity.jsonl`. Change one, change the other, and re-run `train.py`.

Normalisation works on the UTF-8 bytes, never on Unicode properties, so Python and Swift agree
byte for byte and the Swift hot loop needs no tables beyond 256 entries:
- ASCII letters are lower-cased;
- tab, line feed, carriage return, vertical tab, form feed, space, '-' and '_' become one space,
  runs of them collapse, and the text is framed by one space on each side;
- every other byte (punctuation, digits, the bytes of non-ASCII characters) is kept.

Features, hashed into 2**BITS buckets (Fibonacci hashing of a 64-bit key, top bits):
- character 4-grams of the normalised bytes (group C);
- word unigrams and word bigrams, a word being a maximal run of [a-z0-9] or bytes >= 0x80
  (group W); its key is FNV-1a 64 of its bytes.

score z = bias + scale * (sum of C weights / sqrt(nC) + sum of W weights / sqrt(nW)), weights
stored as int8 (their sums are exact integers); probability = 1 / (1 + exp(-z)).
"""
import math
import re

import numpy as np

BITS = 18
SIZE = 1 << BITS
MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
SEED_CHAR = 0x243F6A8885A308D3
SEED_UNIGRAM = 0x13198A2E03707344
SEED_BIGRAM = 0xA4093822299F31D0
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3

_SPACE_BYTES = {9, 10, 11, 12, 13, 32, ord('-'), ord('_')}
_TABLE = bytes(
    32 if b in _SPACE_BYTES else (b + 32 if 65 <= b <= 90 else b) for b in range(256)
)
_WORD = re.compile(rb'[a-z0-9\x80-\xff]+')
_RUNS = re.compile(rb' +')


def normalise(text: str) -> bytes:
    """The normalised bytes of `text`, framed by spaces."""
    mapped = text.encode('utf-8', 'surrogatepass').translate(_TABLE)
    collapsed = _RUNS.sub(b' ', mapped).strip(b' ')
    return b' ' + collapsed + b' '


def _bucket(key: int) -> int:
    return ((key * GOLDEN) & MASK64) >> (64 - BITS)


_word_cache: dict[bytes, int] = {}


def fnv1a(word: bytes) -> int:
    found = _word_cache.get(word)
    if found is not None:
        return found
    h = FNV_OFFSET
    for byte in word:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    if len(_word_cache) < 2_000_000:
        _word_cache[word] = h
    return h


def char_buckets(norm: bytes) -> np.ndarray:
    """Buckets of the character 4-grams of normalised bytes (group C)."""
    if len(norm) < 4:
        return np.zeros(0, dtype=np.int64)
    a = np.frombuffer(norm, dtype=np.uint8).astype(np.uint64)
    packed = (a[:-3] << np.uint64(24)) | (a[1:-2] << np.uint64(16)) | (a[2:-1] << np.uint64(8)) | a[3:]
    keys = packed ^ np.uint64(SEED_CHAR)
    with np.errstate(over='ignore'):
        mixed = keys * np.uint64(GOLDEN)
    return (mixed >> np.uint64(64 - BITS)).astype(np.int64)


def word_features(norm: bytes) -> list[tuple[int, str]]:
    """(bucket, feature text) of the word unigrams and bigrams (group W)."""
    out = []
    previous = None
    previous_word = b''
    for match in _WORD.finditer(norm):
        word = match.group()
        h = fnv1a(word)
        out.append((_bucket(h ^ SEED_UNIGRAM), word.decode('utf-8', 'replace')))
        if previous is not None:
            key = (((previous * FNV_PRIME) & MASK64) ^ h ^ SEED_BIGRAM) & MASK64
            out.append((_bucket(key), (previous_word + b' ' + word).decode('utf-8', 'replace')))
        previous = h
        previous_word = word
    return out


def word_buckets(norm: bytes) -> np.ndarray:
    return np.fromiter((b for b, _ in word_features(norm)), dtype=np.int64)


def featurize(text: str):
    """(char buckets, word buckets) of a text."""
    norm = normalise(text)
    return char_buckets(norm), word_buckets(norm)


class Model:
    """Quantised weights: int8 per bucket, one scale, one bias."""

    def __init__(self, weights: np.ndarray, scale: float, bias: float):
        assert weights.dtype == np.int8 and weights.shape == (SIZE,)
        self.weights = weights
        self.scale = scale
        self.bias = bias
        self.wide = weights.astype(np.int64)

    def logit(self, text: str) -> float:
        chars, words = featurize(text)
        total = 0.0
        if len(chars):
            total += float(self.wide[chars].sum()) / math.sqrt(len(chars))
        if len(words):
            total += float(self.wide[words].sum()) / math.sqrt(len(words))
        return self.bias + self.scale * total

    def score(self, text: str) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit(text)))
