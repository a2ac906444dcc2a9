from eval.latency import percentile


def test_percentiles_are_measured_values_by_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.0) == 1.0 and percentile(values, 1.0) == 5.0
    assert percentile(values, 0.95) == 5.0
    assert percentile([7.0], 0.5) == 7.0
    assert percentile([], 0.5) == 0.0
