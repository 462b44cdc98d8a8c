"""Layer 2, no torch: estimators of a posterior's summary figures and the disentanglement metrics (numpy)."""
