"""Constraints of a directory: not null, unique, reference and check.

* unique is a real unique index (``ux_catd_<dir>_<constraint id>``): the database enforces it,
  also against concurrent writers.
* not null, reference and check are verified by the engine inside the writing transaction:
  not null before the write (the values are at hand), reference and check after it, on the
  entries just written, with one query each; a violation rolls the operation back.
  A reference is checked when the referencing directory is written, not when the target
  changes. Other processes see new engine-checked constraints after the cache TTL.

Constraint names are the caller's (AMGA clients give one: ``constraint_add_unique dir attr
name``) or generated (``<kind>_<id>``, a form callers may not use); ``constraint_list``
shows ``<name> <kind> <details>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import ConstraintInfo, DirectoryInfo, table_name
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    InvalidName,
    NoSuchConstraint,
)
from bookkeeping.amga_adapter.engine.permissions import Principal
from bookkeeping.amga_adapter.engine.resolver import SessionResolver
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.query import compile_filter, parse_condition
from bookkeeping.amga_adapter.query.ast import attribute_refs

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.replica_meta import MetaLog

# Constraint checks see every entry, whoever writes.
_CHECKER = Principal("root")


class Constraints:
    """A session's ``constraints`` service; the entry and attribute services call its
    checks (``check_not_null``, ``verify_written``) and ``drop_on`` explicitly."""

    def __init__(self, core: SessionCore, meta: MetaLog) -> None:
        self.core = core
        self.meta = meta

    def constraint_list(self, directory: str) -> list[str]:
        target = self.core.absolute(directory)

        def read(connection: sa.Connection) -> list[str]:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "r", "list constraints")
            return [c.describe() for c in info.constraints]

        return self.core.run(read, write=False)

    def constraint_add_not_null(
        self, directory: str, attribute: str, *, name: str | None = None
    ) -> str:
        return self._add(directory, "not_null", {"attribute": attribute}, [attribute], name)

    def constraint_add_unique(
        self, directory: str, attributes: Sequence[str], *, name: str | None = None
    ) -> str:
        if not attributes:
            raise InvalidName("a unique constraint needs at least one attribute")
        names = list(dict.fromkeys(attributes))
        return self._add(directory, "unique", {"attributes": names}, names, name)

    def constraint_add_reference(
        self, directory: str, attribute: str, target: str, *, name: str | None = None
    ) -> str:
        target_path, _, target_attribute = target.rpartition(":")
        if not target_path or not target_attribute:
            raise InvalidName(f"reference target {target!r}: write it /directory:attribute")
        definition = {
            "attribute": attribute,
            "target": target,
            "target_path": self.core.absolute(target_path),
            "target_attribute": target_attribute,
        }
        return self._add(directory, "reference", definition, [attribute], name)

    def constraint_add_check(
        self, directory: str, condition: str, *, name: str | None = None
    ) -> str:
        parsed = parse_condition(condition)  # a syntax error is reported before anything
        names = [ref.name for ref in attribute_refs(parsed) if ref.directory is None]
        return self._add(directory, "check", {"condition": condition}, names, name)

    def constraint_drop(self, directory: str, name: str) -> None:
        target = self.core.absolute(directory)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "drop constraints")
            found = [c for c in info.constraints if c.name == name]
            if not found:
                raise NoSuchConstraint(f"no constraint {name!r} on {target}")
            self._forget(connection, info, found[0])
        self.core.schema_changed(target)
        self.meta.directory_changed(target)

    # -- adding ----------------------------------------------------------------------

    def _add(
        self,
        directory: str,
        kind: str,
        definition: dict[str, Any],
        attributes: list[str],
        given_name: str | None = None,
    ) -> str:
        if given_name is not None:
            _check_constraint_name(given_name)
        target = self.core.absolute(directory)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "add constraints")
            info, found = self.core.named_attributes(connection, info, attributes)
            if given_name is not None and any(c.name == given_name for c in info.constraints):
                raise InvalidName(f"{target} has a constraint named {given_name!r} already")
            try:
                with connection.begin_nested():
                    constraint_id = connection.execute(
                        st.constraints.insert().values(
                            directory_id=info.id,
                            name=given_name or f"pending_{kind}",
                            kind=kind,
                            definition=json.dumps(definition),
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
            except sa.exc.IntegrityError:  # (directory, name) is unique: a racing caller
                raise InvalidName(
                    f"{target} has a constraint named {given_name!r} already"
                ) from None
            name = given_name or f"{kind}_{constraint_id}"
            if given_name is None:
                connection.execute(
                    st.constraints.update()
                    .where(st.constraints.c.id == constraint_id)
                    .values(name=name)
                )
            constraint = ConstraintInfo(int(constraint_id), name, kind, definition)
            if kind == "unique":
                try:
                    self._unique_index(info, constraint).create(connection)
                except sa.exc.IntegrityError:
                    if self.core.catalogue.backend == "mariadb" and not self.core.in_transaction:
                        # The DDL committed the row before it failed: take the row back.
                        self.core.run(lambda c: self._delete_row(c, constraint.id), write=True)
                    raise ConstraintViolation(
                        f"{target}: entries already repeat {', '.join(attributes)}"
                    ) from None
            else:
                self._verify(connection, info, constraint, None)
        self.core.schema_changed(target)
        self.meta.directory_changed(target)
        return name

    @staticmethod
    def _delete_row(connection: sa.Connection, constraint_id: int) -> None:
        connection.execute(st.constraints.delete().where(st.constraints.c.id == constraint_id))

    def _unique_index(self, info: DirectoryInfo, constraint: ConstraintInfo) -> sa.Index:
        columns = [info.table.c[info.attributes[a].column] for a in constraint.attributes()]
        return sa.Index(f"ux_{table_name(info.id)}_{constraint.id}", *columns, unique=True)

    def _forget(self, connection: sa.Connection, info: DirectoryInfo, c: ConstraintInfo) -> None:
        connection.execute(st.constraints.delete().where(st.constraints.c.id == c.id))
        if c.kind == "unique":
            self._unique_index(info, c).drop(connection)

    # -- the checks of the write paths -----------------------------------------------

    def check_not_null(
        self,
        connection: sa.Connection,
        info: DirectoryInfo,
        values: Mapping[str, object],
        *,
        insert: bool = False,
    ) -> None:
        """Raise if ``values`` leaves a not-null attribute NULL (before the write)."""
        for constraint in info.constraints:
            if constraint.kind != "not_null":
                continue
            attribute = constraint.definition["attribute"]
            if (insert and attribute not in values) or (
                attribute in values and values[attribute] is None
            ):
                raise ConstraintViolation(
                    f"{info.path}: attribute {attribute!r} may not be empty ({constraint.name})",
                    attribute=attribute,
                )

    def verify_written(
        self, connection: sa.Connection, info: DirectoryInfo, names: Sequence[str] | None
    ) -> None:
        """Verify the constraints on the entries just written (``None``: on every entry),
        in the same transaction, which a violation rolls back."""
        for constraint in info.constraints:
            if constraint.kind in {"check", "reference"}:
                self._verify(connection, info, constraint, names)
            elif constraint.kind == "not_null" and names is None:
                self._verify(connection, info, constraint, None)

    def drop_on(self, connection: sa.Connection, info: DirectoryInfo, attribute: str) -> None:
        """Forget the constraints that name ``attribute`` (it is being removed)."""
        for constraint in info.constraints:
            named = constraint.attributes()
            if constraint.kind == "check":
                parsed = parse_condition(constraint.definition["condition"])
                named = [r.name for r in attribute_refs(parsed) if r.directory is None]
            if attribute in named:
                self._forget(connection, info, constraint)

    def _verify(
        self,
        connection: sa.Connection,
        info: DirectoryInfo,
        constraint: ConstraintInfo,
        names: Sequence[str] | None,
    ) -> None:
        """Raise ConstraintViolation naming an entry (of ``names``, or any) that breaks it."""
        resolver = SessionResolver(self.core, connection, principal=_CHECKER)
        source: sa.FromClause
        if constraint.kind == "check":
            source, holds = compile_filter(info.path, constraint.definition["condition"], resolver)
            broken = sa.not_(holds)
        else:
            source = info.table
            column = resolver.directory(info.path).column(
                source, constraint.definition["attribute"]
            )
            if constraint.kind == "not_null":
                broken = column.is_(None)
            else:
                target = resolver.directory(constraint.definition["target_path"])
                alias = target.new_alias()
                wanted = target.column(alias, constraint.definition["target_attribute"])
                broken = column.is_not(None) & ~sa.exists().where(wanted == column)
        query = sa.select(source.c.name).where(broken)
        if names is not None:
            query = query.where(source.c.name.in_(list(names)))
        culprit = connection.scalar(query.limit(1))
        if culprit is not None:
            path = paths.join(info.path, culprit)
            raise ConstraintViolation(
                f"{path} breaks {constraint.describe()}", path=path, constraint=constraint.name
            )


_CONSTRAINT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
GENERATED_NAME = re.compile(r"^(?:pending_\w*|(?:not_null|unique|reference|check)_\d+)$")


def _check_constraint_name(name: str) -> None:
    if not _CONSTRAINT_NAME.match(name):
        shown = repr(name) if len(name) <= 70 else repr(name[:67]) + "..."
        raise InvalidName(
            f"constraint name {shown}: 1-64 letters, digits and _, not starting with a digit"
        )
    if GENERATED_NAME.match(name):
        raise InvalidName(f"constraint name {name!r} has the form of generated names")
