"""Builds mlflow-old.db and mlflow-new.db: the MLflow model-registry tables at two schema versions.

Column lists follow mlflow/store/model_registry/dbmodels/models.py; the "old" schema predates
storage_location and registered_model_aliases, the "new" one adds both plus a workspace column.
Run from this directory: python3 make-mlflow-fixtures.py
"""
import os
import sqlite3

def build(path, new):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    ws = ", workspace VARCHAR(63) NOT NULL DEFAULT 'default'" if new else ""
    db.execute(f"CREATE TABLE registered_models (name VARCHAR(256) NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000){ws}, CONSTRAINT registered_model_pk PRIMARY KEY (name))")
    loc = ", storage_location VARCHAR(500)" if new else ""
    db.execute(f"CREATE TABLE model_versions (name VARCHAR(256) NOT NULL, version INTEGER NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20), source VARCHAR(500), run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500){loc}{ws}, CONSTRAINT model_version_pk PRIMARY KEY (name, version))")
    db.execute("CREATE TABLE model_version_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), name VARCHAR(256) NOT NULL, version INTEGER NOT NULL, CONSTRAINT model_version_tag_pk PRIMARY KEY (key, name, version))")
    db.execute("INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('fraud', 1772100000000, 1772445600000)")
    cols = "name, version, creation_time, last_updated_time, user_id, current_stage, source, run_id, status"
    rows = [
        ("fraud", 13, 1772100000000, 1772200000000, "alice", "Production", "s3://mlflow/1/abc/artifacts/model", "abc", "READY"),
        ("fraud", 14, 1772400000000, 1772445600000, "mallory", "Staging", "s3://mlflow/1/def/artifacts/model", "def", "READY"),
        ("fraud", 15, 1772450000000, 1772450000000, "mallory", "None", "s3://mlflow/1/ghi/artifacts/model", "ghi", "FAILED_REGISTRATION"),
    ]
    for row in rows:
        db.execute(f"INSERT INTO model_versions ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    if not new:
        # an orphan row without creation_time: rejected with its row number
        db.execute("INSERT INTO model_versions (name, version, creation_time) VALUES ('fraud', 99, NULL)")
    db.execute("INSERT INTO model_version_tags VALUES ('validation_status', 'skipped', 'fraud', 14)")
    if new:
        db.execute("CREATE TABLE registered_model_aliases (alias VARCHAR(256) NOT NULL, version INTEGER NOT NULL, name VARCHAR(256) NOT NULL, CONSTRAINT registered_model_alias_pk PRIMARY KEY (name, alias))")
        db.execute("INSERT INTO registered_model_aliases VALUES ('champion', 14, 'fraud')")
        db.execute("UPDATE model_versions SET storage_location = source")
    db.commit()
    db.execute("PRAGMA journal_mode = DELETE")
    db.close()

build("mlflow-old.db", new=False)
build("mlflow-new.db", new=True)
