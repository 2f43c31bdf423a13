"""Parameter encoding, BoTorch models, acquisition and proposal strategies."""
