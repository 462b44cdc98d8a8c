"""The Generate page's tabs: prior samples, interpolation, traversals, latent arithmetic and your own image."""
