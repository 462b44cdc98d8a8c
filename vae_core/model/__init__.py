"""Layer 5: the VAE, its likelihoods and objectives (the ELBO and its relatives), checkpoints, ONNX in and out."""
