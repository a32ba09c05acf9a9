"""anjian (安监) core: the Flask application, its models, services and views.

The core knows nothing about any particular sector; sector knowledge comes from plugins
through the hooks in :mod:`core.hookspecs`.
"""

__version__ = "0.1.0"
