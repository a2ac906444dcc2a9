"""Retrieval evaluation: a labelled query set for the demo shop, IR metrics, an eval runner and a benchmark.

Relevance never comes from the search system under test: each query's judgments are rules over
store attributes (category, brand, title words, option values, prices, stock), evaluated
against the store at eval time (:mod:`eval.retrieval.labels`).
"""
