"""Layer 6: what a trained model tells: latent maps and decodes, estimates, replay, the collapse doctor, the HTML view."""
