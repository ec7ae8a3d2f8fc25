# Python 2 compatible on purpose (run by python2.7): no f-strings, print_function.
# ruff: noqa: UP010, UP031
"""Drive the real, unmodified AMGA ``mdclient`` (Python 2) against a server and print what
it read, as JSON, on standard output.

Run with Python 2.7 (also valid Python 3, so the project's tools can read it)::

    python2.7 mdclient_driver.py MDCLIENT_DIR HOST PORT MODE BASE [KEY CERT]

MODE: ``password`` (root's password over a plain connection), ``ssl`` (the same over TLS,
through mdclient's ``socket.ssl`` path) or ``cert`` (TLS, logged in by the client
certificate KEY/CERT, no password). BASE: the directory the script works under (it creates
BASE/mdc). Every command of the protocol table is run through the client's own methods;
each step records its result or the ``CommandException`` it raised. mdclient's debug
``print`` lines go to standard error, so standard output is the JSON alone.
"""

from __future__ import print_function

import json
import sys

ROOT_PASSWORD = "root-secret"
MANY = 1500  # rows: several of the server's stream batches, many 1 KiB reads of mdclient


def main(argv):
    directory, host, port, mode, base = argv[1:6]
    sys.dont_write_bytecode = True  # leave the third-party directory as it was
    sys.path.insert(0, directory)
    import mdclient  # the real one, from the directory given

    real_stdout, sys.stdout = sys.stdout, sys.stderr  # mdclient prints each command
    try:
        results = run(mdclient, host, int(port), mode, base, argv[6:])
    finally:
        sys.stdout = real_stdout
    print(json.dumps(results, sort_keys=True))


def connect(mdclient, host, port, mode, keys):
    if mode == "cert":
        client = mdclient.MDClient(host, port)
        client.requireSSL(keys[0], keys[1])
    else:
        client = mdclient.MDClient(host, port, "root", ROOT_PASSWORD)
        if mode == "ssl":
            client.requireSSL()
    return client


def lines(client):
    out = []
    while not client.eot():
        out.append(client.fetchRow())
    return out


def entries(client):
    out = []
    while not client.eot():
        name, values = client.getEntry()
        out.append([name] + values)
    return out


def selected(client):
    out = []
    while not client.eot():
        out.append(client.getSelectAttrEntry())
    return out


def run(mdclient, host, port, mode, base, keys):
    client = connect(mdclient, host, port, mode, keys)
    results = {}
    order = []

    def step(name, function):
        order.append(name)
        try:
            value = function()
        except mdclient.CommandException as exc:
            value = {"error": exc.errorCode, "message": exc.msg}
        except Exception as exc:  # a broken exchange: recorded, the next steps still run
            value = {"exception": "%s: %s" % (type(exc).__name__, exc)}
        results[name] = value

    home = base.rstrip("/") + "/mdc"
    sub = home + "/plain"

    def execute(command, reader):
        def call():
            client.execute(command)
            return reader(client)

        return call

    step("greeting_protocol", lambda: connect_and_report(client))
    step("whoami", execute("whoami", lines))
    step("createDir", lambda: client.createDir(home))
    step("createPlainDir", lambda: client.createPlainDir(sub))
    step("cd", lambda: client.cd(home))
    step("pwd", lambda: client.pwd())
    step("addAttr_n", lambda: client.addAttr(home, "n", "int"))
    step("addAttr_s", lambda: client.addAttr(home, "s", "varchar(32)"))
    step("addAttr_tmp", lambda: client.addAttr(home, "tmp", "int"))
    step("listAttr", lambda: list(client.listAttr(home)))
    step("addEntry", lambda: client.addEntry(home + "/a", ["n", "s"], [1, "one"]))
    step("addEntries", lambda: client.addEntries([home + "/b", home + "/c"]))
    step("setAttr", lambda: client.setAttr(home + "/b", ["n", "s"], [2, "it's"]))
    step("getattr", lambda: client.getattr(home + "/*", ["n", "s"]) or entries(client))
    step("listEntries", lambda: client.listEntries(home) or entries(client))
    step("find", lambda: client.find(home, "n>1") or lines(client))
    step(
        "selectAttr",
        lambda: client.selectAttr([home + ":FILE", home + ":n"], home + ":n>0") or selected(client),
    )
    step(
        "selectAttr_string_literal",
        lambda: client.selectAttr(["FILE", "s"], 's="one"') or selected(client),
    )
    step("updateAttr", lambda: client.updateAttr(home + "/*", ["n 'n+10'"], "n>1"))
    step("update", lambda: client.update(home + "/*", ["tmp 'n*2'"], ""))
    step(
        "getattr_after_update",
        lambda: client.getattr(home + "/*", ["n", "tmp"]) or entries(client),
    )
    # AMGA's removeattr drops the column even while entries hold values (issue 21).
    step("addAttr_held", lambda: client.addAttr(home, "held", "int"))
    step("setAttr_held", lambda: client.setAttr(home + "/a", ["held"], [7]))
    step("removeAttr_with_values", lambda: client.removeAttr(home, "held"))
    step("listAttr_after_remove", lambda: list(client.listAttr(home)))
    step("clearAttr", lambda: client.clearAttr(home, "tmp"))
    step("removeAttr", lambda: client.removeAttr(home, "tmp"))
    step("rm", lambda: client.rm(home + "/c"))
    good = [["u1", "5", "'five'"], ["u2", "6", "'six six'"]]
    step("upload", lambda: upload(client, home, good))
    bad = [["x1", "7", "'ok'"], ["x2", "8", "'oops"]]  # broken quoting: the upload is refused
    step("upload_bad_put", lambda: upload(client, home, bad))
    step("upload_abort", lambda: upload(client, home, [["y1", "9", "'no'"]], finish="abort"))
    step("upload_many", lambda: upload_many(client, home + "/many", MANY))
    step("selectAttr_many", lambda: summary(client, home + "/many"))
    step("put_outside_upload", lambda: stray_put(client))
    step("pwd_after_stray_put", lambda: client.pwd())
    step("listEntries_after_uploads", lambda: client.listEntries(home) or entries(client))
    step("transaction_abort", lambda: in_transaction(client, home + "/t1", "abort"))
    step("transaction_commit", lambda: in_transaction(client, home + "/t2", "commit"))
    step("sequenceCreate", lambda: client.sequenceCreate("seq", home, 5, 100))
    step("sequenceNext", lambda: [client.sequenceNext(home + "/seq") for _ in range(2)])
    step("sequenceRemove", lambda: client.sequenceRemove(home + "/seq"))
    step("constraintAddNotNull", lambda: client.constraintAddNotNull(home, "n", "nn"))
    step("constraintAddUnique", lambda: client.constraintAddUnique(home, "n", "un"))
    step("constraintAddCheck", lambda: client.constraintAddCheck(home, "n>0", "ck"))
    step("addAttr_plain", lambda: client.addAttr(sub, "n", "int"))
    step(
        "constraintAddReference",
        lambda: client.constraintAddReference(sub, "n", home + ":n", "rf"),
    )
    step("constraintList", lambda: client.constraintList(home))
    step("constraintDrop", lambda: drop_constraints(client, home))
    step("constraintList_after_drop", lambda: client.constraintList(home))
    step("cd_missing", lambda: client.cd(home + "/nowhere"))
    step("pwd_after_error", lambda: client.pwd())
    step("removeDir", lambda: client.removeDir(sub))
    step("cd_root", lambda: client.cd("/"))
    step("listEntries_final", lambda: client.listEntries(home) or entries(client))
    client.disconnect()
    results["steps"] = order
    return results


def connect_and_report(client):
    client.connect()
    return client.protocolVersion


def upload(client, home, rows, finish="commit"):
    client.upload(home, ["n", "s"])
    for row in rows:
        client.put(row[0], row[1:])
    getattr(client, finish)()


def upload_many(client, directory, count):
    client.createDir(directory)
    client.addAttr(directory, "k", "int")
    client.upload(directory, ["k"])
    for number in range(count):
        client.put("m%d" % number, [str(number)])
    client.commit()


def summary(client, directory):
    client.selectAttr([directory + ":FILE", directory + ":k"], "")
    rows = selected(client)
    names = sorted(row[0] for row in rows)
    return [len(rows), sum(int(row[1]) for row in rows), names[0], names[-1]]


def stray_put(client):
    client.nattrs = 2  # what upload() would have set: put() checks the value count
    client.put("z1", ["1", "'z'"])


def in_transaction(client, path, finish):
    client.transaction()
    client.addEntry(path, ["n"], [3])
    getattr(client, finish)()
    return client.listEntries(path.rsplit("/", 1)[0]) or entries(client)


def drop_constraints(client, home):
    dropped = []
    for line in client.constraintList(home):
        name = line.split(" ", 1)[0]
        client.constraintDrop(home, name)
        dropped.append(name)
    return dropped


if __name__ == "__main__":
    main(sys.argv)
