"""The JSON-lines result stores the resumable benchmark scripts share: one JSON
object per line, appended as each fit finishes, so a killed run resumes."""
import json
import os


def read_jsonl(*paths):
    """Every record of the given stores, in order (missing files give none)."""
    rows = []
    for path in paths:
        if path and os.path.exists(path):
            with open(path) as fh:
                rows.extend(json.loads(line) for line in fh if line.strip())
    return rows
