"""Writes the JSON Schemas of the four OCSF 1.7.0 classes Fathom exports, from the compiled OCSF
schema that the PyPI package ocsf-json-schema ships, in the form committed beside this script.

    PYTHONPATH=<where ocsf-json-schema 1.2.0 is installed> python3 make-schemas.py OUTDIR
"""
import json
import sys

from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

VERSION = "1.7.0"
CLASSES = ["detection_finding", "api_activity", "http_activity", "datastore_activity"]


def main(out):
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(VERSION))
    for name in CLASSES:
        with open(f"{out}/{name}.schema.json", "w", encoding="utf-8") as file:
            json.dump(schema.get_class_schema(name, []), file, indent=1, sort_keys=True, ensure_ascii=True)
            file.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
