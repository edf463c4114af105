#!/usr/bin/env python3
"""Checks every command of a response runbook against the real tools' grammar.

- `aws …` lines run with `--generate-cli-skeleton` (the AWS CLI parses the service, operation and
  every option, then prints the request skeleton without calling AWS).
- `kubectl …` lines run against a kubeconfig whose server refuses connections: a command that
  parses gets as far as the network ("connection refused"); a wrong verb, resource form or flag
  fails before it ("unknown flag", "unknown command", usage).
- `az …` lines are checked against the Azure CLI reference, recorded below (the Azure CLI is not
  installable here without its 1 GB of dependencies).
- `curl … -d '{…}'` bodies must be JSON, and MLflow versions integers.

Shell variables become placeholders; `$(…)` substitutions are checked as commands of their own.
Usage: runbook_commands.py RESPONSE.md [...]
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

# Azure CLI reference (learn.microsoft.com/cli/azure/storage/account, az 2.6x): command → allowed options.
AZ_GRAMMAR = {
    ("storage", "account", "keys", "renew"): {"--resource-group", "-g", "--account-name", "-n", "--key", "--key-type"},
    ("storage", "account", "revoke-delegation-keys"): {"--resource-group", "-g", "--name", "-n", "--ids", "--subscription"},
}
AZ_VALUES = {("--key",): {"primary", "secondary"}}

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:9"}
  name: none
contexts:
- context: {cluster: none, user: none}
  name: none
current-context: none
users:
- name: none
  user: {token: x}
"""


def shell_lines(markdown):
    lines, block, pending = [], False, ""
    for line in markdown.split("\n"):
        if line.startswith("```"):
            block = line == "```sh"
            continue
        if not block:
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def substitutions(line):
    """The `$(…)` commands of a line (parentheses matched outside quotes) and the line with each
    replaced by `$SUB`."""
    found, outer, index = [], "", 0
    while index < len(line):
        if line.startswith("$(", index):
            depth, quote, start = 1, None, index + 2
            index += 2
            while index < len(line) and depth:
                char = line[index]
                if quote:
                    if char == quote:
                        quote = None
                elif char in "'\"":
                    quote = char
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                index += 1
            found.append(line[start:index - 1])
            outer += "$SUB"
        else:
            outer += line[index]
            index += 1
    return found, outer


def commands(line):
    """The commands of one line: `$(…)` substitutions and the line itself, pipelines split."""
    line = line.split("   #")[0].strip()
    if not line or line.startswith("#"):
        return []
    found, outer = substitutions(line)
    if outer.strip() and not re.fullmatch(r"[A-Z_]+=\$SUB", outer.strip()):
        found.append(outer)
    result = []
    for command in found:
        for part in re.split(r"\s\|\s|\s<\s|\s>\s|;\s", command):
            part = part.strip()
            if part.startswith(("aws ", "kubectl ", "az ", "curl ")):
                result.append(part)
    return result


def words(command):
    command = re.sub(r"\$EXISTING\b", "", command)
    command = re.sub(r"\$\{IMAGE%:\*\}", "registry.example.com/model", command)
    def placeholder(match):
        name = match.group(1)
        if re.search(r"REPLICAS|QUOTA|RATE|LIMIT|COUNT", name):
            return "3"
        return "placeholder-" + name.lower().replace("_", "-")
    command = re.sub(r"\$\{?([A-Z_]+)\}?", placeholder, command)
    return shlex.split(command)


def check_aws(args):
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_PAGER="")
    run = subprocess.run(args + ["--generate-cli-skeleton"], capture_output=True, text=True, env=env)
    return run.returncode == 0, run.stderr.strip().splitlines()[-1:] if run.returncode else []


def check_kubectl(args, kubeconfig):
    run = subprocess.run(args + ["--request-timeout=2s"], capture_output=True, text=True,
                         env=dict(os.environ, KUBECONFIG=kubeconfig))
    text = run.stdout + run.stderr
    ok = "refused" in text and not re.search(r"unknown (flag|command|shorthand)|Error: (accepts|required flag)|invalid argument", text)
    return ok, [line for line in text.splitlines() if "memcache" not in line][-2:]


def check_az(args):
    rest = args[1:]
    for command, allowed in AZ_GRAMMAR.items():
        if tuple(rest[:len(command)]) == command:
            options = rest[len(command):]
            problems = []
            index = 0
            while index < len(options):
                option = options[index]
                if not option.startswith("-") or option not in allowed:
                    problems.append("not an option of az " + " ".join(command) + ": " + option)
                value = options[index + 1] if index + 1 < len(options) else None
                if option == "--key" and value not in AZ_VALUES[("--key",)]:
                    problems.append("--key takes primary or secondary, got " + str(value))
                index += 2
            return not problems, problems
    return False, ["no such command in the recorded Azure CLI grammar: az " + " ".join(rest[:4])]


def check_curl(args):
    if "-d" not in args:
        return True, []
    body = args[args.index("-d") + 1]
    try:
        data = json.loads(body)
    except ValueError as error:
        return False, ["body is not JSON: " + str(error)]
    version = data.get("version")
    if version is not None and not re.fullmatch(r"[0-9]+", str(version)):
        return False, ["MLflow versions are integers, got " + repr(version)]
    return True, []


def main(paths):
    failures, checked = 0, {"aws": 0, "kubectl": 0, "az": 0, "curl": 0}
    have_kubectl = subprocess.run(["sh", "-c", "command -v kubectl"], capture_output=True).returncode == 0
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(KUBECONFIG)
        kubeconfig = handle.name
    for path in paths:
        for line in shell_lines(open(path, encoding="utf-8").read()):
            for command in commands(line):
                args = words(command)
                tool = args[0]
                if tool == "kubectl" and not have_kubectl:
                    print("runbook-commands: kubectl is not installed; kubectl lines not checked", file=sys.stderr)
                    have_kubectl = None
                    continue
                if tool == "kubectl" and have_kubectl is None:
                    continue
                ok, detail = {"aws": lambda: check_aws(args), "kubectl": lambda: check_kubectl(args, kubeconfig),
                              "az": lambda: check_az(args), "curl": lambda: check_curl(args)}[tool]()
                checked[tool] += 1
                if not ok:
                    failures += 1
                    print(f"runbook-commands: {path}: REFUSED: {command}\n    " + "\n    ".join(detail))
    os.unlink(kubeconfig)
    print("runbook-commands: checked " + ", ".join(f"{n} {tool}" for tool, n in checked.items()) + f"; {failures} refused")
    return 1 if failures or sum(checked.values()) == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
