"""Filesystem: ls, tree, stat, mkdir, rm and mv over the ``viking://`` tree."""
