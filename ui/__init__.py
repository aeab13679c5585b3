"""Streamlit glue shared by the pages (the only UI code outside app.py and pages/)."""
