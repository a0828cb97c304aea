"""Team workspaces: members, roles, rename, delete (auth/access.py decides who may)."""
