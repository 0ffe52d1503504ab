"""Tests of the registry of MCP servers whose tools are imported as skills."""
