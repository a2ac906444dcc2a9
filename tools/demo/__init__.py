"""A deterministic demo shop generator: ``generate_demo_shop(database, seed=7)``."""

from tools.demo.generator import BASE_DATE, DemoReport, ProgressCallback, generate_demo_shop

__all__ = ["BASE_DATE", "DemoReport", "ProgressCallback", "generate_demo_shop"]
