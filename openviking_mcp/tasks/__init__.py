"""Background tasks: reading, listing and cancelling them, and waiting for the queues."""
