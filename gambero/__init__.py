"""The `gambero` command and the glue that runs the core over files."""
