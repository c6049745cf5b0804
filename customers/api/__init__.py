"""The store API: v2 (compatible with the platform's published API) and v1 (ours, OpenAPI)."""
