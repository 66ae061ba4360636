"""Textbook contagion models on the engine's credit layer (Gai-Kapadia, ...)."""
