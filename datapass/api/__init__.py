"""DataPass's developer API (``/api/v1``), its OAuth 2 server and its OpenAPI document."""
