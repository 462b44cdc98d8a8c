"""Entry point: `streamlit run app.py`. Page config, navigation over pages/, the shared model picker."""
import streamlit as st

from ui.state import checkpoint_picker

st.set_page_config(page_title="VAE latent space explorer", page_icon="🧭", layout="wide")

navigation = st.navigation([
    st.Page("pages/explore.py", title="Explore", icon="🗺️", default=True),
])
checkpoint_picker()
navigation.run()
