"""Layer 7: the training loop, its optimizer, building a run's model, saving a finished run."""
