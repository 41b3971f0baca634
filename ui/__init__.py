"""Streamlit helpers shared by the pages. The core (embedlab/) never imports streamlit; this does."""
