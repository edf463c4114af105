"""The one difference allowed between a report written natively and one written from a Spark job's
results: the recorded command line (evidence.md's command block, the `command_line` of analysis.json
and findings.json). Shared by .ci/spark-compare.py and .ci/spark-sweep-compare.py."""
import json
import re


def normalised(name, data, command):
    """`data` of report file `name` with the `fathom COMMAND …` line and command-line fields replaced."""
    if name == "evidence.md":
        pattern = rb"\nfathom " + command.encode() + rb" [^\n]*\n"
        return re.sub(pattern, b"\nfathom " + command.encode() + b" <command line>\n", data)
    if name in ("analysis.json", "findings.json"):
        document = json.loads(data)
        stack = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key in list(item):
                    if key in ("commandLine", "command_line"):
                        item[key] = ["<command line>"]
                    else:
                        stack.append(item[key])
            elif isinstance(item, list):
                stack.extend(item)
        return json.dumps(document, sort_keys=True).encode()
    return data


def compare_reports(native, spark, names, command, failures):
    """Compares the report files `names` (paths relative to the folders `native` and `spark`):
    each must be in both and byte-identical, or differ only in the recorded command line. Appends a
    line per failure to `failures`; returns how many were byte-identical."""
    import os
    identical = 0
    for name in names:
        a_path, b_path = os.path.join(native, name), os.path.join(spark, name)
        if not os.path.exists(a_path) or not os.path.exists(b_path):
            failures.append(f"{name}: only in {'native' if os.path.exists(a_path) else 'spark'}")
            continue
        a, b = open(a_path, "rb").read(), open(b_path, "rb").read()
        if a == b:
            identical += 1
        elif normalised(os.path.basename(name), a, command) != normalised(os.path.basename(name), b, command):
            failures.append(f"{name}: differs beyond the command line")
        else:
            print(f"{name}: identical but for the recorded command line")
    return identical
