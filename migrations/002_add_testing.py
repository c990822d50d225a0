"""Add the testing flag to projects.

SQLite has no ADD COLUMN IF NOT EXISTS, so the migration checks PRAGMA table_info
first and can be re-run safely.
"""

DESCRIPTION = "Add testing flag to projects"


def _columns(conn, table):
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def upgrade(conn):
    if "testing" not in _columns(conn, "projects"):
        conn.execute("ALTER TABLE projects ADD COLUMN testing INTEGER NOT NULL DEFAULT 0")


def downgrade(conn):
    if "testing" in _columns(conn, "projects"):
        conn.execute("ALTER TABLE projects DROP COLUMN testing")
