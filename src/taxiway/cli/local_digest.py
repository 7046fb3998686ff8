"""The key of the secret digests that commands without a control plane show.

``taxiway render`` and ``taxiway plan`` (without ``--remote``) have no control plane to key
secret digests with, and a bare SHA-256 of a short secret gives it away to anyone who
reads the output (a CI log, a merge request). So they key digests with a per-user key,
``$TAXIWAY_LOCAL_DIGEST_KEY_FILE``, else ``$XDG_STATE_HOME/taxiway/local-digest.key``
(created 0600 on first use, a key file like the control plane's). The digests are
labelled ``local-hmac-sha256:``: ``render``'s output fed back to ``plan --state`` on the
same machine (or with the same key file) compares equal; they are never compared with the
control plane's (``plan --remote`` asks the control plane to key the values instead).
"""

from __future__ import annotations

import os
from pathlib import Path

from taxiway.plan import secret_digest
from taxiway.sealing.keys import Sealer


def key_path() -> Path:
    explicit = os.environ.get("TAXIWAY_LOCAL_DIGEST_KEY_FILE")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "taxiway" / "local-digest.key"


def keyer() -> secret_digest.Keyer:
    """The local keyer, its key file created on first use."""
    return Sealer.from_file(key_path(), create=True).keyer(secret_digest.LOCAL)


def throwaway() -> secret_digest.Keyer:
    """A keyer for digests nobody sees (``validate``): no key file is touched."""
    return secret_digest.Keyer(os.urandom(32), secret_digest.LOCAL)
