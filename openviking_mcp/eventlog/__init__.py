"""The event log feature: what happened, for streams, pollers and webhooks."""
