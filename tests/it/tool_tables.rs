//! The history tables of the other tools, created with each tool's own DDL (quoted from
//! its source) so the tests read what those tools really leave behind.

/// sqlx-sqlite/src/migrate.rs, `ensure_migrations_table` and `apply`.
pub const SQLX: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);";
pub const SQLX_INSERT: &str =
    "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time )
    VALUES ( ?1, ?2, TRUE, ?3, -1 )";

/// dbmate pkg/driver/sqlite/sqlite.go.
pub const DBMATE: &str =
    r#"create table if not exists "schema_migrations" (version varchar(128) primary key)"#;
pub const DBMATE_INSERT: &str = r#"insert into "schema_migrations" (version) values (?)"#;

/// goose internal/dialect/dialectquery/sqlite3.go.
pub const GOOSE: &str = "CREATE TABLE goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL,
		tstamp TIMESTAMP DEFAULT (datetime('now'))
	)";
pub const GOOSE_INSERT: &str =
    "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)";

/// golang-migrate database/sqlite3/sqlite3.go, `ensureVersionTable` and `SetVersion`.
pub const GOLANG_MIGRATE: &str = "
	CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
  CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
  ";

/// Flyway's SQLite history table.
pub const FLYWAY: &str = r#"CREATE TABLE "main"."flyway_schema_history" (
    "installed_rank" INT NOT NULL PRIMARY KEY,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INT,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    "execution_time" INT NOT NULL,
    "success" BOOLEAN NOT NULL
);
CREATE INDEX "main"."flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");"#;

/// refinery_core/src/traits/mod.rs.
pub const REFINERY: &str = "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));";
pub const FLYWAY_INSERT: &str = r#"INSERT INTO "main"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"#;
