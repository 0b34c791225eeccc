"""The FastAPI server (REST, websocket live feed, roles and tokens): issue 5."""
