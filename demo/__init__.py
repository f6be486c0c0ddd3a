"""The demo: a seller's three months of orders, loaded by ``manage.py seed_demo``."""
