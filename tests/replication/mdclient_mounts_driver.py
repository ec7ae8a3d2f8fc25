# Python 2 compatible on purpose (run by python2.7): no f-strings, print_function.
# ruff: noqa: UP010, UP031
"""List and select across a federated mount with the real, unmodified AMGA ``mdclient``
(Python 2); print what it read as JSON on standard output.

    python2.7 mdclient_mounts_driver.py MDCLIENT_DIR HOST PORT LOGIN PASSWORD
"""

from __future__ import print_function

import json
import sys


def rows(client, width):
    found = []
    while not client.eot():
        found.append([client.fetchRow() for _ in range(width)])
    return found


def main(argv):
    directory, host, port, login, password = argv[1:6]
    sys.dont_write_bytecode = True
    sys.path.insert(0, directory)
    import mdclient

    real_stdout, sys.stdout = sys.stdout, sys.stderr  # mdclient prints each command
    try:
        client = mdclient.MDClient(host, int(port), login, password)
        results = {}
        client.listEntries("/")
        results["dir /"] = rows(client, 2)
        client.listEntries("/remote")
        results["dir /remote"] = rows(client, 2)
        client.selectAttr(["/remote:FILE", "/remote:run"], "/remote:run > 1")
        results["selectattr"] = rows(client, 2)
        client.cd("/remote")
        client.selectAttr(["run"], "run < 3")
        results["selectattr at cwd"] = rows(client, 1)
        client.addEntry("/remote/fromold", ["run"], [9])
        client.getattr("/remote/fromold", ["run"])
        results["getattr"] = rows(client, 2)
        try:
            client.listEntries("/down")
            results["dir /down"] = rows(client, 2)
        except mdclient.CommandException as exc:
            results["dir /down"] = {"code": exc.errorCode, "message": exc.msg}
    finally:
        sys.stdout = real_stdout
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
