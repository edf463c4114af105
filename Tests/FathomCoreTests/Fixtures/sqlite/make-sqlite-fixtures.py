"""Builds the SQLite fixtures of the ingest reliability tests (run from this directory).

Six files that start with the SQLite header but are not a readable MLflow registry, and one MLflow
registry whose last committed transaction is still in its write-ahead log (-wal), as a live MLflow
server leaves it between checkpoints. Built from ../formats/mlflow-new.db and synthetic rows.
"""
import os
import random
import shutil
import sqlite3

random.seed(17)
base = open("../formats/mlflow-new.db", "rb").read()

def fresh(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)

# 1. An SQLite database of another application.
fresh("not-mlflow.db")
db = sqlite3.connect("not-mlflow.db")
db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
db.execute("INSERT INTO users (name) VALUES ('alice'), ('bob')")
db.commit()
db.close()

# 2. An SQLite database with no table at all.
fresh("no-tables.db")
db = sqlite3.connect("no-tables.db")
db.execute("PRAGMA user_version = 7")
db.execute("VACUUM")
db.close()

# 3. The MLflow database cut after its header (100 bytes).
open("header-only.db", "wb").write(base[:100])

# 4. The MLflow database cut in the middle of its second page.
open("cut-pages.db", "wb").write(base[:len(base) // 2 + 100])

# 5. The MLflow database with every page after the first overwritten with random bytes.
page = int.from_bytes(base[16:18], "big") or 65536
open("scrambled-pages.db", "wb").write(base[:page] + bytes(random.randrange(256) for _ in range(len(base) - page)))

# 6. The SQLite magic followed by random bytes.
open("magic-then-noise.db", "wb").write(b"SQLite format 3\x00" + bytes(random.randrange(256) for _ in range(8192)))

# 7. An MLflow registry in WAL mode with its last transaction (version 16 of 'fraud') in the -wal.
fresh("mlflow-wal.db")
shutil.copyfile("../formats/mlflow-new.db", "mlflow-wal.db")
db = sqlite3.connect("mlflow-wal.db")
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute("INSERT INTO model_versions (name, version, creation_time, last_updated_time, user_id, current_stage, source, run_id, status) "
           "VALUES ('fraud', 16, 1772460000000, 1772460000000, 'mallory', 'Production', 's3://mlflow/1/jkl/artifacts/model', 'jkl', 'READY')")
db.commit()
# Copy while the connection is open: closing would checkpoint the log into the database.
shutil.copyfile("mlflow-wal.db", "wal-copy.db")
shutil.copyfile("mlflow-wal.db-wal", "wal-copy.db-wal")
db.close()
fresh("mlflow-wal.db")
os.rename("wal-copy.db", "mlflow-wal.db")
os.rename("wal-copy.db-wal", "mlflow-wal.db-wal")
