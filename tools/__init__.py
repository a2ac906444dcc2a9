"""Commerce tools behind one policy layer (the only way they run), catalog importers and the
demo-shop generator. The store they act on is the ``store`` package."""
