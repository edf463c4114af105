#!/usr/bin/env python3
"""Writes windash.json: for each input, the values pySigma's `windash` modifier expands it into.

The reference for `SigmaParser.windashVariants` (DetectSigmaTests.windashMatchesPySigma).
Regenerate with pySigma from PyPI (no network needed afterwards):

    pip install --target /tmp/pysig2 pysigma-backend-sqlite==2.1.1   # brings pySigma 2.0.1
    PYTHONPATH=/tmp/pysig2 python3 make-windash.py > windash.json
"""
import json
import sys

import sigma
from sigma.modifiers import SigmaWindowsDashModifier
from sigma.types import SigmaString
from importlib.metadata import version

INPUTS = [
    "-enc", "/quiet", "a -x /y", "models/fraud-v2", "cmd.exe /c whoami", "--double", "-", "x-y",
    "_-a", "é-x", "3 -1", "powershell -nop -w hidden -e", "C:\\Windows\\System32\\net.exe user /add",
]


def expand(text):
    modifier = SigmaWindowsDashModifier(None, [], None)
    expansion = modifier.modify(SigmaString(text))
    return sorted(str(value) for value in expansion.values)


json.dump({"pysigma": version("pysigma"),
           "cases": [{"input": text, "variants": expand(text)} for text in INPUTS]},
          sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
sys.stdout.write("\n")
