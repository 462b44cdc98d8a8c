"""Entry point: `streamlit run app.py`. Page config, navigation over pages/, the shared model picker."""

import streamlit as st

from ui.catalogue import warm_up_training
from ui.navigation import guarded, leave_pages_folder_mode
from ui.session import checkpoint_picker, repeat_link_warnings, start_page_run

leave_pages_folder_mode()
st.set_page_config(page_title="VAE latent space explorer", page_icon="🧭", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/explore.py", title="Explore", icon=":material/map:", default=True),
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/scatter_plot:"),
        st.Page("pages/side_by_side.py", title="Side by side", icon=":material/compare:"),
    ]
)
if navigation.title != "Explore":  # Explore starts it once its map is drawn, not to slow its first paint
    warm_up_training()
start_page_run(navigation.title)
guarded(checkpoint_picker)()  # a failure here is a message in the page, which still runs
repeat_link_warnings()
navigation.run()
