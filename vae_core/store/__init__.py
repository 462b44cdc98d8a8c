"""Layer 3, no torch: what sits on disk. Paths and listings, checkpoint metadata, the map cache, atomic writes."""
