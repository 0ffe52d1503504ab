"""VikingBot: a chat agent over the store."""
