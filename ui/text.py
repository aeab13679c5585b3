"""User text shown through Streamlit's markdown (titles, captions, messages, radio labels)."""

from __future__ import annotations

import re


def md_text(text: str) -> str:
    """User text made safe for st.markdown: markdown and HTML characters shown literally."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$&])", r"\\\1", text)
