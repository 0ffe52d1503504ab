"""The audit log feature: recording calls and answering who changed what."""
