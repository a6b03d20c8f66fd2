"""Presentation for the Streamlit app (``app.py``): views and the helpers that make untrusted
text safe to render. Not imported by the core (``rag``)."""
