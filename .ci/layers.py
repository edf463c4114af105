#!/usr/bin/env python3
"""Prints Fathom's dependency graph — between targets and between the folders inside each target —
and fails (exit 1) when it has a cycle.

Targets come from `swift package describe --type json` (SwiftPM refuses cycles between targets
itself; the graph is printed so a reader sees the layers the build enforces). Inside a target, a
folder depends on another when a file of the first names a type, protocol or top-level function
declared in the second; the target's top-level files are its index and may be named by and name
every folder. Names are found with regular expressions over the sources with comments
and string literals removed: good enough to see the layers, not a compiler.

Usage: python3 .ci/layers.py [--dot]     (run from the repository root)
"""
import json
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)

# Top-level declarations only (nested types are reached through their parent's name).
DECLARATION = re.compile(
    r"^(?:@[\w.]+(?:\([^)]*\))?[ \t]+)*(?:(?:public|package|internal|private|fileprivate|open|final|indirect|nonisolated)[ \t]+)*"
    r"(?:struct|class|enum|protocol|actor|typealias|func|let|var)[ \t]+([A-Za-z_]\w*)", re.M)
# Identifiers not reached through a member access (`.name`).
IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*\b")
MEMBER_FUNCTION = re.compile(r"^[ \t]+(?:[@\w]+[ \t]+)*func[ \t]+([A-Za-z_]\w*)", re.M)


def strip(source):
    """The source without comments and string literals (their text is not a dependency)."""
    source = re.sub(r'"""[\s\S]*?"""', '""', source)
    source = re.sub(r"#\"[\s\S]*?\"#", '""', source)
    source = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', source)
    source = re.sub(r"/\*[\s\S]*?\*/", "", source)
    source = re.sub(r"//[^\n]*", "", source)
    return source


def folder_of(path, target_dir):
    relative = os.path.relpath(path, target_dir)
    parts = relative.split(os.sep)
    return parts[0] if len(parts) > 1 else "(top)"


def target_graph():
    described = json.loads(subprocess.run(["swift", "package", "describe", "--type", "json"], check=True,
                                          capture_output=True, text=True).stdout)
    graph = {}
    for target in described["targets"]:
        if target.get("type") == "test":
            continue
        graph[target["name"]] = {
            "path": target["path"],
            "deps": sorted(target.get("target_dependencies", [])),
            "products": sorted(target.get("product_dependencies", [])),
        }
    return graph


def folder_graph(target_dir):
    files = {}
    for dirpath, _, names in os.walk(target_dir):
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as handle:
                    files[path] = strip(handle.read())
    declared = {}
    members = set()
    for path, source in files.items():
        folder = folder_of(path, target_dir)
        for match in DECLARATION.finditer(source):
            # A private or fileprivate declaration cannot be named from another file.
            if not re.match(r"^(?:@\S+\s+)*(?:private|fileprivate)\b", match.group(0)):
                declared.setdefault(match.group(1), set()).add(folder)
        members.update(match.group(1) for match in MEMBER_FUNCTION.finditer(source))
    # A top-level function that shares its name with a method is ambiguous by name alone.
    for name in members:
        if name in declared and name[:1].islower():
            del declared[name]
    edges = {}
    for path, source in files.items():
        folder = folder_of(path, target_dir)
        local = {match.group(1) for match in DECLARATION.finditer(source)}
        for word in set(IDENTIFIER.findall(source)) - local:
            for owner in declared.get(word, ()):
                # A name declared in several folders (a common method name) is not a dependency.
                if owner != folder and len(declared[word]) == 1:
                    edges.setdefault(folder, {}).setdefault(owner, set()).add(word)
    folders = sorted({folder_of(path, target_dir) for path in files})
    return folders, edges


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, {})):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in nodes:
        if node not in index:
            visit(node)
    return result


def main():
    dot = "--dot" in sys.argv
    targets = target_graph()
    failed = False
    print("Targets (→ depends on):")
    for name in sorted(targets):
        info = targets[name]
        deps = info["deps"] + [p + " (package)" for p in info["products"]]
        print(f"  {name} → {', '.join(deps) if deps else '—'}")
    for name in sorted(targets):
        path = targets[name]["path"]
        if not os.path.isdir(path):
            continue
        folders, edges = folder_graph(path)
        if len(folders) < 2:
            continue
        print(f"\nFolders of {name}:")
        for folder in folders:
            outgoing = edges.get(folder, {})
            shown = ", ".join(f"{other} ({', '.join(sorted(words)[:3])}{'…' if len(words) > 3 else ''})"
                              for other, words in sorted(outgoing.items()))
            print(f"  {folder} → {shown if shown else '—'}")
        # A target's top-level files are its index (the shared types, the registry of its formats
        # or rules): they may name every folder, and every folder may name them. The folders
        # themselves must not form a ring.
        inner = {folder: {other: words for other, words in outgoing.items() if other != "(top)"}
                 for folder, outgoing in edges.items() if folder != "(top)"}
        for component in cycles([f for f in folders if f != "(top)"], inner):
            failed = True
            print(f"\nCYCLE in {name}: {' ↔ '.join(component)}")
            for folder in component:
                for other, words in sorted(edges.get(folder, {}).items()):
                    if other in component:
                        print(f"    {folder} → {other}: {', '.join(sorted(words))}")
        if dot:
            print("digraph {")
            for folder, outgoing in sorted(edges.items()):
                for other in sorted(outgoing):
                    print(f'  "{folder}" -> "{other}";')
            print("}")
    if failed:
        print("\nThe folders of a target must not depend on each other in a ring; move the type or make a target.")
        return 1
    print("\nNo cycle.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
