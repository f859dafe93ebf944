"""hippo's web UI: a Streamlit app over :class:`hippo.KnowledgeGraph` (start it with ``hippo ui``).

``app.py`` is the entry script; ``views/`` holds one script per page (ask, explore, documents,
stats); ``common.py`` the helpers they share; ``graph.py`` the graph picture (vis-network, bundled in
``graph_component/`` so it works offline); ``static/`` the page icon; ``launch.py`` the ``streamlit run``
command line. Like the CLI, the UI only calls the library.
"""
