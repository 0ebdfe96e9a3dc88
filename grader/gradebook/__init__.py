"""The gradebook: every grading run recorded in a SQLite file next to the course.

`schema` (tables, migrations, connections), `store` (recording runs, latest/best queries),
`exports` (CSV for spreadsheets, Canvas and Moodle), `commands` (the command line).
"""
from grader.gradebook.schema import SCHEMA_VERSION, GradebookError
from grader.gradebook.store import FILENAME, Gradebook, Run, Standing, content_hash, default_path

__all__ = ["Gradebook", "GradebookError", "Run", "Standing", "SCHEMA_VERSION", "FILENAME",
           "content_hash", "default_path"]
