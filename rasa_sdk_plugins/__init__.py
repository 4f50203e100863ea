"""Start-up checks of the action server, through rasa_sdk's plugin hook.

``python -m rasa_sdk`` imports this package when it can (see ``rasa_sdk.plugin``) and
calls ``attach_sanic_app_extensions`` once the actions are registered, before it
serves: a SQLite ``DATABASE_URL`` that cannot be written stops it there with one
line naming the path, instead of failing every booking later.
"""

from __future__ import annotations

import pluggy
from sanic import Sanic

hookimpl = pluggy.HookimplMarker("rasa_sdk")


class StartupChecks:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        from actions.store import require_writable_database

        require_writable_database()


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(StartupChecks())
