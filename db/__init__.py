"""The database: one connection and its lock (`Database`), and the migration runner.

Knows no table: each package owns its tables and their migrations (`<package>/migrations.py`),
and the application decides which packages' migrations a database gets (app/schema.py).
"""
