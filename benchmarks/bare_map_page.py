"""The yardstick for the app's cold start: a bare Streamlit page with one plotly scatter of N points
(N from $BARE_POINTS), coloured by ten labels, as the Explore map draws its points. Served by
benchmarks/first_second.py with `streamlit run`, in the same venv and config as the app."""

import os

import numpy as np
import plotly.graph_objects as go
import streamlit as st

n = int(os.environ.get("BARE_POINTS", "360"))
rng = np.random.default_rng(0)
xy, labels = rng.normal(size=(n, 2)), rng.integers(0, 10, n)
scatter = go.Scattergl if n > 3000 else go.Scatter  # as ui/figures.py switches
st.plotly_chart(
    go.Figure([scatter(x=xy[labels == k, 0], y=xy[labels == k, 1], mode="markers", name=str(k)) for k in range(10)])
)
