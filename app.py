"""Entry point: `streamlit run app.py`. Page config, navigation over app_pages/, the shared model picker."""
import streamlit as st

from ui.state import checkpoint_picker

st.set_page_config(page_title="VAE latent space explorer", page_icon=":material/explore:", layout="wide")

navigation = st.navigation([
    st.Page("app_pages/explore.py", title="Explore", icon=":material/map:", default=True),
    st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/scatter_plot:"),
])
checkpoint_picker()
navigation.run()
