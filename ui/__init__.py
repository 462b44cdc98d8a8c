"""Streamlit-side helpers shared by the pages. The engine (vae_core) never imports from here."""
