DESCRIPTION = "Add email to users"


def upgrade(conn):
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "email" not in columns:
        conn.execute("ALTER TABLE users ADD COLUMN email TEXT")
    conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_users_email ON users(email) WHERE email IS NOT NULL"
    )


def downgrade(conn):
    conn.execute("DROP INDEX IF EXISTS idx_users_email")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "email" in columns:
        conn.execute("ALTER TABLE users DROP COLUMN email")
