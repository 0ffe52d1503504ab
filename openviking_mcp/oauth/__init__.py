"""OAuth 2.1 for /mcp: the authorization server service and its MCP SDK provider."""
