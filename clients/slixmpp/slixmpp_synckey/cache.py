"""The plugin's own cache: client ID, service, key, digest and state, in one
JSON file written atomically (temporary file, fsync, rename).

A cache whose state no longer matches its stored digest (edited, cut short)
is not trusted: its key and state are dropped, its client ID is kept.
"""
import json
import logging
import os
import secrets
import tempfile

from .state import State, token_ok, Limits

log = logging.getLogger(__name__)
VERSION = 1
MAX_FILE = 256 * 1024 * 1024


class Cache:
    def __init__(self, path):
        self.path = path
        self.client = None
        self.service = None
        self.adapter = False
        self.key = None
        self.digest = None
        self.state = State()
        self.problem = None     # why a cache found was not used, if so

    def load(self):
        try:
            if os.path.getsize(self.path) > MAX_FILE:
                raise ValueError("larger than %d bytes" % MAX_FILE)
            with open(self.path, encoding="utf-8") as f:
                d = json.load(f)
            if d.get("version") != VERSION:
                raise ValueError("version %r" % d.get("version"))
            self.client = d["client"] if _client_ok(d.get("client")) else None
            self.service = d.get("service") or None
            self.adapter = bool(d.get("adapter"))
            items = {j: (s, a, n, tuple(g)) for j, (s, a, n, g) in d["items"].items()}
            self.state = State(items, d["pres"])
            self.key = d.get("key")
            self.digest = d.get("digest")
            if self.key is not None and not token_ok(self.key, Limits.max_token):
                raise ValueError("a malformed key")
            if self.key is not None and self.state.digest() != self.digest:
                raise ValueError("the state does not match its digest")
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            self.problem = "cache %s not used: %s" % (self.path, e)
            log.warning("synckey: %s", self.problem)
            self.key = self.digest = None
            self.state = State()
        if self.client is None:
            self.client = "slix-" + secrets.token_hex(8)
        return self

    def save(self):
        d = {"version": VERSION, "client": self.client, "service": self.service,
             "adapter": self.adapter, "key": self.key, "digest": self.digest,
             "items": {j: [s, a, n, list(g)] for j, (s, a, n, g) in self.state.items.items()},
             "pres": self.state.pres}
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".synckey-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(d, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def commit(self, state, key):
        """A verified state and its key, stored together."""
        self.state = state
        self.key = key
        self.digest = state.digest() if key else None
        self.save()

    def drop_key(self):
        self.key = self.digest = None
        self.save()


def _client_ok(c):
    return isinstance(c, str) and 0 < len(c) <= 64 and all(
        ch.isascii() and (ch.isalnum() or ch in "._-") for ch in c)
