"""The web app: the demo clinic page, the chat widget's assets and the chat gateway.

``create_app(settings)`` in ``app.py`` builds the ASGI app; ``python -m clinic.web``
runs it with uvicorn on ``HOST``:``PORT``. Importing the package does no work.
"""
