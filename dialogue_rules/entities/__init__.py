"""Entities: the values found in a message (order ids, emails, prices, colors, sizes, names,
product references), their extractors and the vocabulary in ``entities.yaml``."""
