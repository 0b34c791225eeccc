"""The API's routers: thin, one per audience."""
