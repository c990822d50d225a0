-- Tags for projects
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS project_tags (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, tag_id)
);

CREATE INDEX IF NOT EXISTS idx_project_tags_tag ON project_tags(tag_id);

CREATE VIEW IF NOT EXISTS project_tag_names AS
SELECT p.id AS project_id, p.name AS project, t.name AS tag
FROM projects p
JOIN project_tags pt ON pt.project_id = p.id
JOIN tags t ON t.id = pt.tag_id;
