"""contagion: agent-based simulator of counterparty credit exposure in crypto and DeFi."""

__version__ = "0.1.0"
