"""Textbook contagion models: pure Monte Carlo versions (Gai-Kapadia, Caccioli et al. fire
sales) and engine presets of the interbank models (Eisenberg-Noe, Gai-Kapadia, DebtRank)."""
