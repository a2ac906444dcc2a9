"""MMR's notion of alike: categories and brands, and with text vectors, the products' texts."""

from __future__ import annotations

import dataclasses

import numpy as np

from eval.recommendations.runner import shuffled
from tools.recommend.model import RecommenderModel
from tools.recommend.ranking import Profile, mmr, recommend, similarities


def _with_texts(model: RecommenderModel, same: tuple[str, str]) -> RecommenderModel:
    """The model with hand-made text vectors: every product its own direction, except that the
    two products of ``same`` read alike (one vector)."""
    content = np.eye(len(model), dtype=np.float32)
    a, b = (model.position(p) for p in same)
    assert a is not None and b is not None
    content[b] = content[a]
    return dataclasses.replace(model, content=content)


def test_two_products_whose_texts_read_alike_are_alike_across_categories(trained):
    # Boots and the trekking poles: other categories, other brands.
    model = _with_texts(trained, ("H-BOOT", "H-POLE"))
    boot, pole, stove = (model.position(p) for p in ("H-BOOT", "H-POLE", "H-STOVE"))
    alike = similarities(model, [boot, pole, stove])
    plain = similarities(trained, [boot, pole, stove])
    assert plain[0, 1] == plain[0, 2] == 0.0  # without texts: nothing in common
    assert alike[0, 1] > 0.5 and alike[0, 2] == 0.0


def test_mmr_passes_over_a_product_that_reads_like_one_already_picked(trained):
    model = _with_texts(trained, ("H-BOOT", "H-POLE"))
    ranked = [model.position(p) for p in ("H-BOOT", "H-POLE", "K-GRIND", "K-BOARD")]
    scored = np.zeros(len(model), dtype=np.float32)
    scored[ranked] = [1.0, 0.99, 0.9, 0.5]
    assert mmr(model, ranked, scored, 2) == [ranked[0], ranked[2]]
    assert mmr(trained, ranked, scored, 2) == [ranked[0], ranked[1]]  # without texts: by score


def test_the_control_pairs_every_customer_with_another_and_is_repeatable():
    customers = [f"c{n}" for n in range(50)]
    pairs = shuffled(customers)
    assert set(pairs) == set(pairs.values()) == set(customers)
    assert all(other != customer for customer, other in pairs.items())
    assert shuffled(customers) == pairs
    assert shuffled(["alone"]) == {"alone": "alone"}


def test_the_owner_s_purchases_are_left_out_not_the_profile_s(trained):
    boots, knife = trained.position("H-BOOT"), trained.position("K-KNIFE")
    hiker = Profile(bought=[boots])
    cook = Profile(bought=[knife])
    own = recommend(trained, hiker, len(trained) - 1)
    assert boots not in own
    # Ranked from the hiker's history for the cook: the cook's knife is left out, the boots are not.
    for_cook = recommend(trained, hiker, len(trained) - 1, owner=cook)
    assert knife not in for_cook and boots in for_cook
