"""The storage-element consumer: what the catalogue decided, applied on a posix or xrootd SE.

- ``file_deleted``: the file is deleted (already gone: nothing to do);
- ``permissions_changed``: the file (or directory) gets the mode (missing: nothing to do);
- ``replica_wanted``: the file is copied from the ``source`` SE when it is not here already
  (its adler32 checked by the element's ``put``);
- ``acl_changed``: a catalogue directory's ACL changed for one principal; applied by this
  consumer's own rules (``acl_bits``): ``system:anyuser``'s ``r`` and ``w`` become the
  "other" mode bits of the files directly in that directory on the SE, the rights of the
  group named by the ``acl_group`` option (e.g. ``group:lhcb``) their group bits; any
  other principal (a single user) has no mode bits on an SE whose files belong to one
  service account: logged, nothing to do. An SE that keeps no mode bits it can read
  (``StorageElement.mode`` None: xrootd, tape) has nothing to apply them to either.

The requester needs ``w`` on the site's replica directory in the catalogue for deletes and
copies, and ``w`` on the catalogue path itself for permission and ACL changes.
"""

from __future__ import annotations

import logging
from typing import Any

from bookkeeping.amga_adapter.engine.permissions import EVERYBODY
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import StorageFileNotFound
from bookkeeping.syncat.errors import SyncatError
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.plugins import PluginContext
from bookkeeping.syncat.plugins.rights import CatalogueRights

log = logging.getLogger(__name__)


class StorageConsumer:
    types = frozenset(
        {
            MessageType.FILE_DELETED,
            MessageType.PERMISSIONS_CHANGED,
            MessageType.REPLICA_WANTED,
            MessageType.ACL_CHANGED,
        }
    )

    def __init__(self, context: PluginContext) -> None:
        if context.open_element is None:
            raise SyncatError("the storage consumer needs storage elements to open")
        self.open_element = context.open_element
        self.rights = CatalogueRights(context.engine)
        self.acl_group = context.options.get("acl_group") or None
        self._elements: dict[str, StorageElement] = {}

    def _element(self, name: str) -> StorageElement:
        if name not in self._elements:
            self._elements[name] = self.open_element(name)
        return self._elements[name]

    def authorize(self, envelope: Envelope) -> None:
        if envelope.type in (MessageType.PERMISSIONS_CHANGED, MessageType.ACL_CHANGED):
            for item in envelope.files:
                self.rights.require(
                    envelope.requester, item["path"], "w", f"change the rights of {item['path']}"
                )
            return
        self.rights.require_on_se(
            envelope.requester, envelope.se, "w", f"change files on {envelope.se}"
        )

    def apply(self, envelope: Envelope) -> int:
        element = self._element(envelope.se)
        if envelope.type is MessageType.ACL_CHANGED:
            return sum(self._acl(envelope, element, item) for item in envelope.files)
        changed = 0
        for item in envelope.files:
            path = item["path"]
            try:
                if envelope.type is MessageType.FILE_DELETED:
                    element.delete(path)
                elif envelope.type is MessageType.PERMISSIONS_CHANGED:
                    element.chmod(path, item["mode"])
                elif not element.exists(path):
                    self._copy(item, element)
                else:
                    continue
            except StorageFileNotFound:
                log.info("%s: %s not on %s; nothing to do", envelope.id, path, envelope.se)
                continue
            changed += 1
        return changed

    def _copy(self, item: dict[str, Any], element: StorageElement) -> None:
        source_name = item.get("source")
        if not source_name:
            raise SyncatError(f"replica_wanted for {item['path']} names no source SE")
        source = self._element(source_name)
        with source.open_read(item["path"]) as stream:
            element.put(stream, item["path"], expected_adler32=source.stat(item["path"]).adler32)

    def _acl(self, envelope: Envelope, element: StorageElement, item: dict[str, Any]) -> int:
        rule = acl_bits(item["principal"], item["rights"], self.acl_group)
        directory = item["path"].rstrip("/")
        if rule is None:
            log.info(
                "%s: %s's rights on %s have no mode bits on %s; nothing to do",
                envelope.id,
                item["principal"],
                item["path"],
                envelope.se,
            )
            return 0
        mask, bits = rule
        changed = 0
        for found in element.list(directory or "/"):
            if found.path.rsplit("/", 1)[0] != directory:
                continue  # in a sub-directory: it has its own ACL in the catalogue
            try:
                current = element.mode(found.path)
                if current is None:
                    log.info("%s: %s keeps no mode bits; nothing to do", envelope.id, envelope.se)
                    return changed
                if current & mask != bits:
                    element.chmod(found.path, current & ~mask | bits)
                    changed += 1
            except StorageFileNotFound:
                continue  # deleted meanwhile
        return changed


def acl_bits(principal: str, rights: str, group: str | None) -> tuple[int, int] | None:
    """(mask, bits) of the mode a principal's catalogue rights set on an SE's files, by this
    consumer's rules; None when the principal has no mode bits (``x`` is not carried, as
    with ``permissions_changed``)."""
    if principal == EVERYBODY:
        shift = 0
    elif group is not None and principal == group:
        shift = 3
    else:
        return None
    bits = (4 if "r" in rights else 0) | (2 if "w" in rights else 0)
    return 0o6 << shift, bits << shift
