"""WebDAV semantics over ``viking://resources``."""
