"""Layer 4: datasets (built-in, MNIST-like, folders, zips, factors, the procedural sprites) and image conversion."""
