"""The web, CLI and scheduler shell around the `events` domain."""
