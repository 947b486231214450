// Public API of @fathom/data-pipeline. Each topic keeps its own barrel file.
