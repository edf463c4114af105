import Foundation
import GRDB
import FathomStore
import FathomSupport

/// Writes an MLflow tracking/registry SQLite database with MLflow's `registered_models` and
/// `model_versions` tables (column names and types as in MLflow's SQLAlchemy schema), plus
/// `alembic_version` as MLflow leaves it.
package enum MLflowDatabase {
    package static let schema = """
        CREATE TABLE alembic_version (
            version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );
        CREATE TABLE registered_models (
            name VARCHAR(256) NOT NULL,
            creation_time BIGINT,
            last_updated_time BIGINT,
            description VARCHAR(5000),
            CONSTRAINT registered_model_pk PRIMARY KEY (name),
            UNIQUE (name)
        );
        CREATE TABLE model_versions (
            name VARCHAR(256) NOT NULL,
            version INTEGER NOT NULL,
            creation_time BIGINT,
            last_updated_time BIGINT,
            description VARCHAR(5000),
            user_id VARCHAR(256),
            current_stage VARCHAR(20),
            source VARCHAR(500),
            run_id VARCHAR(32),
            status VARCHAR(20),
            status_message VARCHAR(500),
            run_link VARCHAR(500),
            storage_location VARCHAR(500),
            CONSTRAINT model_version_pk PRIMARY KEY (name, version),
            FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE
        );
        """

    /// Creates `path` (replacing any file there) holding `models` and `versions`. Times are
    /// written as MLflow does: milliseconds since the epoch.
    package static func write(path: String, models: [RegisteredModelRow], versions: [ModelVersionRow]) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: schema)
            try db.execute(sql: "INSERT INTO alembic_version (version_num) VALUES ('acf3f17fdcc7')")
            for model in models {
                try db.execute(
                    sql: "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)",
                    arguments: [model.name, model.creationTime / 1_000_000, model.lastUpdatedTime / 1_000_000, model.description])
            }
            for row in versions {
                let source = "s3://acme-ml-artifacts/mlflow/3/\(row.runID)/artifacts/model"
                try db.execute(
                    sql: """
                        INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id,
                            current_stage, source, run_id, status, status_message, run_link, storage_location)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [row.name, row.version, row.creationTime / 1_000_000, row.lastUpdatedTime / 1_000_000,
                                row.description, row.userID, row.currentStage, source, row.runID, row.status,
                                row.status == "READY" ? nil : "Upload interrupted: connection reset", "", source])
            }
        }
        try queue.close()
    }
}
