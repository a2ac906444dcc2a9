"""Commerce tools, the policy layer, the store and its importers."""
