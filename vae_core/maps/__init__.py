"""Layer 2, no torch: from latent codes to the 2-D map and back (PCA, and UMAP or t-SNE with a fitted inverse)."""
