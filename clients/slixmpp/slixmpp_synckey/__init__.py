"""slixmpp_synckey: the synckey plugin for slixmpp (xep/synckey.xml).

Importing the package registers the plugin ``xep_synckey`` with slixmpp.
"""
from slixmpp.plugins.base import register_plugin

from .plugin import XEP_Synckey, Sync, Checkpoint, SyncPresence  # noqa: F401

register_plugin(XEP_Synckey)
xep_synckey = XEP_Synckey
__all__ = ["XEP_Synckey", "xep_synckey"]
