"""The pages of the web UI, one script each (ask, explore, documents, stats).

Streamlit runs a page as ``__main__``; importing one only defines its functions.
"""
