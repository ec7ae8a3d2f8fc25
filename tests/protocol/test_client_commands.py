"""The whole AMGA command table through our mdclient-compatible client."""

from __future__ import annotations

import threading

import pytest

from bookkeeping.amga_adapter.client.client import CommandException, MDClient


def test_directories_cd_and_pwd(root: MDClient) -> None:
    root.createDir("/a")
    root.createPlainDir("/a/p")
    root.cd("/a")
    assert root.pwd() == "/a"
    assert root.listEntries(".", sync=True) == [("/a/p", "collection")]
    root.cd("/")
    root.removeDir("/a/p")
    assert root.listEntries("/a", sync=True) == []


def test_whoami_names_the_logged_in_user(root: MDClient, alice: MDClient) -> None:
    assert root.whoami() == "root"
    assert alice.whoami() == "alice"


def test_listattr_returns_names_and_types(jobs: MDClient) -> None:
    names, types = jobs.listAttr("/jobs")
    assert dict(zip(names, types, strict=True)) == {
        "JOB_ID": "int",
        "CONFIGNAME": "varchar(32)",
        "Size": "int",
    }


def test_getattr_classic_and_sync(jobs: MDClient) -> None:
    jobs.getattr("/jobs/j1", ["CONFIGNAME", "Size"])
    assert jobs.getEntry() == ("j1", ["MC", "100"])
    assert jobs.eot()
    assert jobs.getattr("/jobs/j3", ["Size"], sync=True) == [("j3", ["50"])]


def test_attribute_add_clear_remove(jobs: MDClient) -> None:
    jobs.addAttr("/jobs", "tmp", "varchar(10)")
    jobs.setAttr("/jobs/j1", ["tmp"], ["x"])
    jobs.clearAttr("/jobs", "tmp")
    assert jobs.getattr("/jobs/j1", ["tmp"], sync=True) == [("j1", [""])]
    jobs.removeAttr("/jobs", "tmp")
    assert "tmp" not in jobs.listAttr("/jobs")[0]


def test_addentries_and_rm(jobs: MDClient) -> None:
    jobs.addEntries(["/jobs/k1", "/jobs/k2"])
    listed = {name for name, _ in jobs.listEntries("/jobs", sync=True) or []}
    assert {"/jobs/k1", "/jobs/k2"} <= listed
    jobs.rm("/jobs/k*")
    listed = {name for name, _ in jobs.listEntries("/jobs", sync=True) or []}
    assert not {"/jobs/k1", "/jobs/k2"} & listed


def test_errors_raise_command_exception_and_keep_the_client_usable(jobs: MDClient) -> None:
    with pytest.raises(CommandException) as caught:
        jobs.cd("/no/such/dir")
    assert caught.value.code != 0
    with pytest.raises(CommandException):
        jobs.selectAttr(["/jobs:FILE"], "/jobs:Size >>> 3", sync=True)
    assert jobs.pwd() == "/"


def test_transaction_commit_and_abort_span_commands(jobs: MDClient) -> None:
    jobs.transaction()
    jobs.addEntry("/jobs/t1", ["JOB_ID"], [10])
    jobs.abort()
    jobs.transaction()
    jobs.addEntry("/jobs/t2", ["JOB_ID"], [11])
    jobs.commit()
    listed = {name for name, _ in jobs.listEntries("/jobs", sync=True) or []}
    assert "/jobs/t2" in listed and "/jobs/t1" not in listed


def test_upload_put_commit_bulk_loads(jobs: MDClient) -> None:
    jobs.upload("/jobs", ["JOB_ID", "CONFIGNAME"])
    for i in range(2500):
        jobs.put(f"u{i}", [str(1000 + i), "'bulk run'"])
    jobs.commit()
    assert len(jobs.listEntries("/jobs", sync=True) or []) == 3 + 2500
    assert jobs.getattr("/jobs/u42", ["JOB_ID", "CONFIGNAME"], sync=True) == [
        ("u42", ["1042", "bulk run"])
    ]


def test_one_client_shared_by_threads_with_sync_calls(jobs: MDClient) -> None:
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                rows = jobs.listEntries("/jobs", sync=True)
                assert [name for name, _ in rows or []] == ["/jobs/j1", "/jobs/j2", "/jobs/j3"]
                assert jobs.getattr("/jobs/j2", ["Size"], sync=True) == [("j2", ["300"])]
        except BaseException as exc:  # collected and re-raised in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_url_construction_and_values_with_newlines(jobs: MDClient) -> None:
    client = MDClient.from_url(f"amga://root:x@127.0.0.1:{jobs.port}")
    assert (client.login, client.password, client.port) == ("root", "x", jobs.port)
    jobs.addAttr("/jobs", "note", "varchar(40)")
    jobs.setAttr("/jobs/j1", ["note"], ["line one\nline 'two'\\"])
    assert jobs.getattr("/jobs/j1", ["note"], sync=True) == [("j1", ["line one\nline 'two'\\"])]
