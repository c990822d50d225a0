-- Audit log of project changes
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_audit_log_project ON audit_log(project_id, at);

-- The trigger body holds statements of its own; their semicolons do not end the file's
-- statement.
CREATE TRIGGER IF NOT EXISTS trg_projects_renamed
AFTER UPDATE OF name ON projects
BEGIN
    INSERT INTO audit_log (project_id, action)
    VALUES (NEW.id, 'renamed; was ' || OLD.name);
END;
