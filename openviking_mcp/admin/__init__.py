"""Multi-tenant administration: accounts, users, roles and keys."""
