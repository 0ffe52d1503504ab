"""The observer: the state of the queue, index, models, locks, retrieval, filesystem and host."""
