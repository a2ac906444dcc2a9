"""Task evaluation on the tau retail shop: customer goals driven through the ``Assistant`` by a
rule-based simulated customer, scored by the shop's end state (tau-bench's measure)."""
