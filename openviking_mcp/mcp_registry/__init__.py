"""The registry of MCP servers whose tools are imported as skills (docs/mcp-servers.md)."""
