"""The reference page for speed figures: an empty Streamlit page with one slider and one metric.

bench/core.py and bench/load.py serve it beside the app in the same run and report every
latency as a ratio to it: the floor any Streamlit page can reach on this machine.
"""

import streamlit as st

value = st.slider("Reference slider", 0, 100, 50, key="reference_slider")
st.metric("Reference value", f"{value}%")
