"""Webhooks: the accounts' endpoints that receive their events as signed POSTs."""
