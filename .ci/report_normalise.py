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
