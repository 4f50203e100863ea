"""The app database: booking requests, with Alembic migrations from the first table on."""
