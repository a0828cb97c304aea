"""The MCP server (Model Context Protocol): tools an AI app calls to draft,
check, run and fix events and workflows, on top of the same services as the
REST API. One tool surface, served at /api/mcp (Streamable HTTP); the
`cronium mcp` command bridges a local stdio client to it."""
