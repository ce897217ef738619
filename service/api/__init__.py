"""The JSON API: blueprints, their argument and response schemas."""
