"""Train the shop's recommendation model from its store and save it where the tools load it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings
from core.errors import NotFoundError
from store.db import Database
from tools.recommend.data import load_catalog, load_purchases
from tools.recommend.model import MODEL_DIR, RecommenderModel, TrainParams
from tools.recommend.training import train

if TYPE_CHECKING:
    from retrieval.embeddings import Embedder

log = logging.getLogger(__name__)


def model_dir(settings: Settings) -> Path:
    return settings.data_dir / MODEL_DIR


def previous_model(directory: Path) -> RecommenderModel | None:
    """The saved model, whose content vectors a retrain keeps for unchanged products."""
    try:
        return RecommenderModel.load(directory)
    except NotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:  # an unreadable model is trained anew
        log.warning("the saved recommendation model in %s cannot be read (%s): training anew", directory, exc)
        return None


def train_shop(
    database: Database,
    directory: Path,
    *,
    embedder: Embedder | None,
    params: TrainParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> RecommenderModel:
    """Train from the store's catalog and order history and save to ``directory``."""
    with database.session() as session:
        catalog = load_catalog(session)
        purchases = load_purchases(session)
    model = train(
        catalog,
        purchases,
        embedder=embedder,
        previous=previous_model(directory),
        params=params,
        progress=progress,
    )
    model.save(directory)
    log.info(
        "trained the recommendation model: %d products, %d customers, %d purchase lines in %.1f s",
        len(model),
        model.meta["customers"],
        model.meta["purchase_lines"],
        model.meta["total_seconds"],
    )
    return model
